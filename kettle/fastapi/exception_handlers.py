"""``fastapi.exception_handlers``: kettle's own default handlers, to call from yours."""

from kettle.errorhandlers import http_exception_handler
from kettle.errorhandlers import (
    validation_exception_handler as request_validation_exception_handler,
)
from kettle.socketerrors import websocket_request_validation_exception_handler

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]
