"""``fastapi.exceptions``."""

from kettle.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketDisconnect,
)

__all__ = [
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketDisconnect",
]
