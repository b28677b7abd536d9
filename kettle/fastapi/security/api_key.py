"""``fastapi.security.api_key``."""

from kettle.security.api_key import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]
