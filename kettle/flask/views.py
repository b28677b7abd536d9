"""``flask.views``."""

from kettle.views import MethodView, View

__all__ = ["MethodView", "View"]
