"""``fastapi.requests``."""

from kettle.requests import HTTPConnection, Request

__all__ = ["HTTPConnection", "Request"]
