"""``fastapi.middleware.wsgi``: kettle's ``WSGIMiddleware`` (a WSGI app mounted in an
ASGI one)."""

from kettle.middleware.wsgi import WSGIMiddleware

__all__ = ["WSGIMiddleware"]
