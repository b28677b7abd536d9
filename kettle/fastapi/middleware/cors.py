"""``fastapi.middleware.cors``: kettle's ``CORSMiddleware`` (Starlette's parameter names)."""

from kettle.middleware.cors import CORSMiddleware

__all__ = ["CORSMiddleware"]
