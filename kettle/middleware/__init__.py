"""ASGI middleware: how it is declared, and the ones kettle ships."""

from kettle.middleware.base import Middleware
from kettle.middleware.errors import ServerErrorMiddleware
from kettle.middleware.trustedhost import TrustedHostMiddleware

__all__ = ["Middleware", "ServerErrorMiddleware", "TrustedHostMiddleware"]
