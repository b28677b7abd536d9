"""kettle: one Python web framework with Flask's ease and FastAPI's typed APIs.

Example:
    >>> from kettle import Kettle
    >>> app = Kettle(__name__)
    >>> @app.get("/hello")
    ... async def hello() -> dict[str, str]:
    ...     return {"message": "Hello, kettle!"}
"""

from typing import TYPE_CHECKING, Any

from kettle.aborting import abort  # the app's aborter, as Flask's abort
from kettle.app import Kettle, NoMatchFound
from kettle.background import BackgroundTasks
from kettle.datastructures import URL, Headers, MutableHeaders, QueryParams, State
from kettle.exceptions import (
    # The named HTTP errors too, all but NotImplemented: it would shadow the builtin.
    BadGateway,
    BadRequest,
    ConfigurationError,
    Conflict,
    ExpectationFailed,
    FailedDependency,
    Forbidden,
    GatewayTimeout,
    Gone,
    HTTPException,
    HTTPVersionNotSupported,
    ImATeapot,
    InternalServerError,
    LengthRequired,
    Locked,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RequestedRangeNotSatisfiable,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    RequestURITooLarge,
    RequestValidationError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnavailableForLegalReasons,
    UnprocessableEntity,
    UnsupportedMediaType,
    WebSocketDisconnect,
)
from kettle.globals import current_app, g, request, session
from kettle.limits import Limits
from kettle.middleware import Middleware
from kettle.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
    SecurityScopes,
)
from kettle.requests import Request
from kettle.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from kettle.routing import Converter, Router
from kettle.scaffold import Blueprint
from kettle.websockets import WebSocket

if TYPE_CHECKING:
    from kettle.config import Config
    from kettle.fileresponse import FileResponse
    from kettle.forms import FormData, UploadFile
    from kettle.helpers import (
        flash,
        get_flashed_messages,
        jsonify,
        make_response,
        redirect,
        send_file,
        send_from_directory,
        stream_with_context,
        url_for,
    )
    from kettle.middleware.accesslog import AccessLogMiddleware
    from kettle.middleware.metrics import MetricsMiddleware
    from kettle.middleware.tracing import TracingMiddleware
    from kettle.sse import EventSourceResponse, ServerSentEvent
    from kettle.templating import render_template, render_template_string, stream_template
    from kettle.views import MethodView, View

# Loaded on first use: the multipart parser, temp files and MIME tables cost startup time
# and about 1 MiB per worker in apps that never parse a form or send a file.
_LAZY = {
    "Config": "kettle.config",
    "FileResponse": "kettle.fileresponse",
    "FormData": "kettle.forms",
    "UploadFile": "kettle.forms",
    "flash": "kettle.helpers",
    "get_flashed_messages": "kettle.helpers",
    "jsonify": "kettle.helpers",
    "make_response": "kettle.helpers",
    "redirect": "kettle.helpers",
    "send_file": "kettle.helpers",
    "send_from_directory": "kettle.helpers",
    "stream_with_context": "kettle.helpers",
    "url_for": "kettle.helpers",
    "render_template": "kettle.templating",
    "render_template_string": "kettle.templating",
    "stream_template": "kettle.templating",
    "MethodView": "kettle.views",
    "Health": "kettle.health",
    "EventSourceResponse": "kettle.sse",
    "ServerSentEvent": "kettle.sse",
    "View": "kettle.views",
    # prometheus_client and the OpenTelemetry API load only for apps that observe.
    "AccessLogMiddleware": "kettle.middleware.accesslog",
    "MetricsMiddleware": "kettle.middleware.metrics",
    "TracingMiddleware": "kettle.middleware.tracing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kettle' has no attribute {name!r}")
    import importlib
    import sys

    value = getattr(importlib.import_module(module), name)
    # Not globals(): once the kettle.globals submodule is imported, that name is taken.
    setattr(sys.modules[__name__], name, value)
    return value


__version__ = "0.1.0.dev0"

__all__ = [
    "URL",
    "AccessLogMiddleware",
    "BackgroundTasks",
    "BadGateway",
    "BadRequest",
    "Blueprint",
    "Body",
    "Config",
    "ConfigurationError",
    "Conflict",
    "Converter",
    "Cookie",
    "Depends",
    "EventSourceResponse",
    "ExpectationFailed",
    "FailedDependency",
    "File",
    "FileResponse",
    "Forbidden",
    "Form",
    "FormData",
    "GatewayTimeout",
    "Gone",
    "HTMLResponse",
    "HTTPException",
    "HTTPVersionNotSupported",
    "Header",
    "Headers",
    "Health",
    "ImATeapot",
    "InternalServerError",
    "JSONResponse",
    "Kettle",
    "LengthRequired",
    "Limits",
    "Locked",
    "MethodNotAllowed",
    "MethodView",
    "MetricsMiddleware",
    "Middleware",
    "MutableHeaders",
    "NoMatchFound",
    "NotAcceptable",
    "NotFound",
    "Path",
    "PlainTextResponse",
    "PreconditionFailed",
    "PreconditionRequired",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestEntityTooLarge",
    "RequestHeaderFieldsTooLarge",
    "RequestTimeout",
    "RequestURITooLarge",
    "RequestValidationError",
    "RequestedRangeNotSatisfiable",
    "Response",
    "Router",
    "Security",
    "SecurityScopes",
    "ServerSentEvent",
    "ServiceUnavailable",
    "State",
    "StreamingResponse",
    "TooManyRequests",
    "TracingMiddleware",
    "Unauthorized",
    "UnavailableForLegalReasons",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "UploadFile",
    "View",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "abort",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "jsonify",
    "make_response",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_with_context",
    "url_for",
]
