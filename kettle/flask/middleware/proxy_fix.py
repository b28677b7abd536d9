"""``werkzeug.middleware.proxy_fix``: trust a number of proxies' ``X-Forwarded-*``."""

from kettle.middleware.proxyfix import ProxyFix

__all__ = ["ProxyFix"]
