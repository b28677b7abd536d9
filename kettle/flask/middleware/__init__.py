"""``werkzeug.middleware``: the middleware Flask apps wrap ``app.wsgi_app`` in."""

from kettle.middleware.proxyfix import ProxyFix

__all__ = ["ProxyFix"]
