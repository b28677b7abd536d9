"""``fastapi.websockets`` (and ``starlette.websockets``)."""

from kettle.exceptions import WebSocketDisconnect
from kettle.websockets import WebSocket, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]
