"""``fastapi.responses``: kettle's response classes (JSON is always orjson)."""

from kettle.fileresponse import FileResponse
from kettle.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from kettle.sse import EventSourceResponse

#: kettle's JSONResponse already encodes with orjson.
ORJSONResponse = JSONResponse
UJSONResponse = JSONResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "UJSONResponse",
]
