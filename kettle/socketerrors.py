"""Turning a WebSocket's validation errors into a close frame.

A WebSocket has no 422 to answer with: a socket whose input does not validate is closed
with code 1008 (policy violation), the errors as JSON in the close reason (cut to the 123
bytes a close frame holds). This is what kettle does on its own; the function is here to
be registered, or called from a handler of your own, under FastAPI's name.
"""

from __future__ import annotations

import enum
import json

from kettle.exceptions import RequestValidationError
from kettle.websockets import WebSocket

__all__ = ["CloseCode", "websocket_request_validation_exception_handler"]


class CloseCode(enum.IntEnum):
    """The WebSocket close codes of RFC 6455 (7.4.1) and the IANA registry.

    Example:
        >>> CloseCode.POLICY_VIOLATION, int(CloseCode.MESSAGE_TOO_BIG)
        (<CloseCode.POLICY_VIOLATION: 1008>, 1009)
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXT = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: RequestValidationError
) -> None:
    """Close ``websocket`` with 1008 and the validation errors as its reason.

    Example:
        >>> import asyncio
        >>> from kettle.exceptions import WebSocketRequestValidationError
        >>> from kettle.socketerrors import websocket_request_validation_exception_handler
        >>> class Socket:  # records what would be sent
        ...     async def close(self, code, reason=None):
        ...         print(code, reason)
        >>> exc = WebSocketRequestValidationError([{"type": "missing", "loc": ["query", "q"]}])
        >>> asyncio.run(websocket_request_validation_exception_handler(Socket(), exc))
        1008 [{"type": "missing", "loc": ["query", "q"]}]
    """
    reason = json.dumps(exc.errors(), default=str, ensure_ascii=False)
    await websocket.close(CloseCode.POLICY_VIOLATION, reason)
