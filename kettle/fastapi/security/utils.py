"""``fastapi.security.utils``."""

from kettle.security.base import get_authorization_scheme_param

__all__ = ["get_authorization_scheme_param"]
