"""``fastapi.middleware``: kettle's own ASGI middleware under FastAPI's names."""

from kettle.middleware import Middleware

__all__ = ["Middleware"]
