"""``fastapi.middleware.gzip``: kettle's ``GZipMiddleware`` (Starlette's parameters)."""

from kettle.middleware.compression import GZipMiddleware

__all__ = ["GZipMiddleware"]
