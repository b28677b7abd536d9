"""The connection errors: a client gone before its body was read, a WebSocket closed.

They are :mod:`kettle.exceptions`' (imported from there as well: the same classes), kept
in a module of their own so that module stays one size.
"""

from __future__ import annotations

__all__ = ["ClientDisconnect", "WebSocketClose", "WebSocketDisconnect", "WebSocketException"]


class ClientDisconnect(Exception):
    """The client went away before the request body was read."""


class WebSocketDisconnect(Exception):
    """The WebSocket peer closed the connection (or it was lost)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


class WebSocketClose(Exception):
    """Raised inside kettle when a message breaks a limit; the socket is closed with ``code``."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)


class WebSocketException(WebSocketClose):
    """Raised by a WebSocket handler (or its dependencies) to close the socket with ``code``.

    Before the handshake is accepted, the close refuses the connection.

    Example:
        >>> from kettle import Kettle, WebSocket
        >>> from kettle.exceptions import WebSocketException
        >>> app = Kettle(__name__)
        >>> @app.websocket("/ws")
        ... async def ws(websocket: WebSocket, token: str = ""):
        ...     if token != "secret":
        ...         raise WebSocketException(code=1008, reason="bad token")
        ...     await websocket.accept()
    """

    def __init__(self, code: int = 1008, reason: str | None = None) -> None:
        super().__init__(code, reason or "")
