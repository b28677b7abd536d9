"""``fastapi.exceptions`` (and ``starlette.exceptions``): kettle's exception tree."""

from kettle.exceptions import (
    FastAPIDeprecationWarning,
    FastAPIError,
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketRequestValidationError,
)

__all__ = [
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketRequestValidationError",
]
