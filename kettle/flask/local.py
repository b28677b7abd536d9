"""``werkzeug.local``: a proxy to whatever a callable returns at each use."""

from kettle.globals import LocalProxy

__all__ = ["LocalProxy"]
