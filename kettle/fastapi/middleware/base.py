"""``starlette.middleware.base``: middleware as one function of the request and
``call_next``."""

from kettle.middleware.http import BaseHTTPMiddleware, DispatchFunction

__all__ = ["BaseHTTPMiddleware", "DispatchFunction"]
