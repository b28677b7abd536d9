"""``fastapi.middleware.trustedhost``: kettle's ``TrustedHostMiddleware``."""

from kettle.middleware.trustedhost import TrustedHostMiddleware

__all__ = ["TrustedHostMiddleware"]
