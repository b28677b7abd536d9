"""``fastapi.middleware.httpsredirect``: kettle's ``HTTPSRedirectMiddleware``."""

from kettle.middleware.https import HTTPSRedirectMiddleware

__all__ = ["HTTPSRedirectMiddleware"]
