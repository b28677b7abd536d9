"""``flask.globals``: the context locals, and the contexts themselves."""

from kettle.context import current as _cv_app
from kettle.context import current as _cv_request
from kettle.globals import app_ctx, current_app, g, request, request_ctx, session

__all__ = ["app_ctx", "current_app", "g", "request", "request_ctx", "session"]
# Flask's context variables: kettle keeps one for both contexts.
_ = (_cv_app, _cv_request)
