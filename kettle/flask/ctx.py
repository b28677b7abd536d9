"""``flask.ctx``: the application and request contexts."""

from kettle.context import AppGlobals as _AppCtxGlobals
from kettle.globals import (
    AppContext,
    RequestContext,
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
)

__all__ = [
    "AppContext",
    "RequestContext",
    "after_this_request",
    "copy_current_request_context",
    "has_app_context",
    "has_request_context",
]
_ = _AppCtxGlobals
