"""``fastapi.exceptions``."""

from kettle.exceptions import HTTPException, RequestValidationError, WebSocketDisconnect
from kettle.serialization import ResponseValidationError

__all__ = [
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketDisconnect",
]
