"""kettle: one Python web framework with Flask's ease and FastAPI's typed APIs.

Example:
    >>> from kettle import Kettle
    >>> app = Kettle(__name__)
    >>> @app.get("/hello")
    ... async def hello() -> dict[str, str]:
    ...     return {"message": "Hello, kettle!"}
"""

from kettle.app import Kettle, NoMatchFound
from kettle.datastructures import URL, Headers, MutableHeaders, QueryParams, State
from kettle.exceptions import (
    ConfigurationError,
    HTTPException,
    RequestValidationError,
    WebSocketDisconnect,
    abort,
)
from kettle.fileresponse import FileResponse
from kettle.forms import FormData, UploadFile
from kettle.limits import Limits
from kettle.middleware import Middleware
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
from kettle.websockets import WebSocket

__version__ = "0.1.0.dev0"

__all__ = [
    "URL",
    "ConfigurationError",
    "Converter",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPException",
    "Headers",
    "JSONResponse",
    "Kettle",
    "Limits",
    "Middleware",
    "MutableHeaders",
    "NoMatchFound",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "__version__",
    "abort",
]
