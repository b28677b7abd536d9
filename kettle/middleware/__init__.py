"""ASGI middleware: how it is declared, and the ones kettle ships.

The optional middleware (CORS, compression, CSRF, rate limits, proxy headers, HTTPS
redirect, security headers, metrics, tracing, access logs) are loaded on first use: none
of them is part of an app that does not add it.
"""

from typing import TYPE_CHECKING, Any

from kettle.middleware.base import Middleware
from kettle.middleware.errors import ServerErrorMiddleware
from kettle.middleware.trustedhost import TrustedHostMiddleware

if TYPE_CHECKING:
    from kettle.middleware.accesslog import AccessLogMiddleware
    from kettle.middleware.compression import CompressionMiddleware, GZipMiddleware
    from kettle.middleware.cors import CORSMiddleware
    from kettle.middleware.csrf import CSRFMiddleware
    from kettle.middleware.headers import SecurityHeadersMiddleware
    from kettle.middleware.https import HTTPSRedirectMiddleware
    from kettle.middleware.metrics import MetricsMiddleware
    from kettle.middleware.proxy import ProxyHeadersMiddleware
    from kettle.middleware.ratelimit import RateLimitMiddleware
    from kettle.middleware.tracing import TracingMiddleware

_LAZY = {
    "AccessLogMiddleware": "kettle.middleware.accesslog",
    "CORSMiddleware": "kettle.middleware.cors",
    "CSRFMiddleware": "kettle.middleware.csrf",
    "CompressionMiddleware": "kettle.middleware.compression",
    "GZipMiddleware": "kettle.middleware.compression",
    "HTTPSRedirectMiddleware": "kettle.middleware.https",
    "MetricsMiddleware": "kettle.middleware.metrics",
    "ProxyHeadersMiddleware": "kettle.middleware.proxy",
    "RateLimitMiddleware": "kettle.middleware.ratelimit",
    "SecurityHeadersMiddleware": "kettle.middleware.headers",
    "TracingMiddleware": "kettle.middleware.tracing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kettle.middleware' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AccessLogMiddleware",
    "CORSMiddleware",
    "CSRFMiddleware",
    "CompressionMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "MetricsMiddleware",
    "Middleware",
    "ProxyHeadersMiddleware",
    "RateLimitMiddleware",
    "SecurityHeadersMiddleware",
    "ServerErrorMiddleware",
    "TracingMiddleware",
    "TrustedHostMiddleware",
]
