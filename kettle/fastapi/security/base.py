"""``fastapi.security.base``."""

from kettle.security.base import SecurityBase

__all__ = ["SecurityBase"]
