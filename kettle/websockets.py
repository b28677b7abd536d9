"""WebSocket connections."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import orjson

from kettle.draining import DRAIN

# WebSocketClose is defined with every other exception; still importable from here.
from kettle.exceptions import WebSocketClose as WebSocketClose
from kettle.exceptions import WebSocketDisconnect
from kettle.limits import Limits
from kettle.requests import HTTPConnection
from kettle.types import Message, Receive, Scope, Send


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocket(HTTPConnection):
    """A WebSocket connection. Handlers receive it by annotating a parameter ``WebSocket``.

    Messages larger than ``max_websocket_message_size`` close the socket with code 1009
    (message too big); receiving after the peer left raises :class:`WebSocketDisconnect`.
    When the worker drains for shutdown (:mod:`kettle.draining`), an accepted socket is
    closed with 1001 (*going away*), and the handler's next receive or send raises
    ``WebSocketDisconnect(1001)``, as if the client had left.

    Example:
        >>> from kettle import Kettle, WebSocket, WebSocketDisconnect
        >>> app = Kettle(__name__)
        >>> @app.websocket("/echo")
        ... async def echo(ws: WebSocket) -> None:
        ...     await ws.accept()
        ...     try:
        ...         async for text in ws.iter_text():
        ...             await ws.send_text(f"echo: {text}")
        ...     except WebSocketDisconnect:
        ...         pass
    """

    __slots__ = ("_closing", "_gone", "_receive", "_send", "application_state", "client_state")

    def __init__(self, scope: Scope, receive: Receive, send: Send, limits: Limits | None = None):
        super().__init__(scope, limits)
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._gone = False  # closed by the drain
        self._closing: asyncio.Task[None] | None = None

    # -- receiving -------------------------------------------------------------------------

    async def receive(self) -> Message:
        """The next raw ASGI message (``websocket.connect``, ``.receive`` or ``.disconnect``)."""
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive: the WebSocket is disconnected")
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.connect":
            if self.client_state is not WebSocketState.CONNECTING:
                raise RuntimeError(f"Unexpected {kind!r}")
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            DRAIN.unregister(id(self))
        elif kind == "websocket.receive":
            limit = self.limits.max_websocket_message_size
            text = message.get("text")
            if text is not None:
                # The limit is in bytes; a character is at most 4 bytes of UTF-8, so only
                # a text near the limit needs encoding to be measured.
                size = (
                    len(text)
                    if len(text) * 4 <= limit
                    else len(text.encode("utf-8", "surrogatepass"))
                )
            else:
                size = len(message.get("bytes") or b"")
            if size > limit:
                await self.close(1009, "Message too big")
                raise WebSocketDisconnect(1009, "Message too big")
        return message

    async def _receive_data(self) -> Message:
        if self._gone:
            raise WebSocketDisconnect(1001, "Going away")
        if self.application_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive: the WebSocket is closed")
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError('Call "accept" before receiving messages')
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        """The next text message (a bytes message is decoded as UTF-8)."""
        message = await self._receive_data()
        text = message.get("text")
        if text is None:
            try:
                return bytes(message.get("bytes") or b"").decode("utf-8")
            except UnicodeDecodeError:
                await self.close(1007, "Invalid UTF-8")
                raise WebSocketDisconnect(1007, "Invalid UTF-8") from None
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next binary message (a text message is encoded as UTF-8)."""
        message = await self._receive_data()
        data = message.get("bytes")
        if data is None:
            return str(message.get("text") or "").encode("utf-8")
        return bytes(data)

    async def receive_json(self, mode: str = "text") -> Any:
        """The next message parsed as JSON; malformed JSON closes the socket with 1007."""
        message = await self._receive_data()
        raw = message.get("text") if mode == "text" else message.get("bytes")
        if raw is None:
            raw = message.get("bytes") if mode == "text" else message.get("text")
        try:
            return orjson.loads(raw or b"")
        except orjson.JSONDecodeError:
            await self.close(1007, "Invalid JSON")
            raise WebSocketDisconnect(1007, "Invalid JSON") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            pass

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            pass

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the peer disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            pass

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message."""
        if self.application_state is WebSocketState.DISCONNECTED:
            if self._gone:
                raise WebSocketDisconnect(1001, "Going away")
            raise RuntimeError("Cannot send: the WebSocket is closed")
        kind = message["type"]
        if kind in ("websocket.accept", "websocket.http.response.start"):
            self.application_state = WebSocketState.CONNECTED
            if kind == "websocket.accept":
                # One registration per connection, none per message.
                DRAIN.register(id(self), self._going_away)
        elif kind == "websocket.close":
            self.application_state = WebSocketState.DISCONNECTED
            DRAIN.unregister(id(self))
        try:
            await self._send(message)
        except OSError:
            self.application_state = WebSocketState.DISCONNECTED
            DRAIN.unregister(id(self))
            raise WebSocketDisconnect(1006) from None

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Complete the handshake, optionally choosing a subprotocol and adding headers."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # the websocket.connect message
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        await self.send(
            {
                "type": "websocket.accept",
                "subprotocol": subprotocol,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
            }
        )

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as JSON: a text frame, or a binary one with ``mode="binary"``."""
        encoded = orjson.dumps(data)
        if mode == "binary":
            await self.send_bytes(encoded)
        else:
            await self.send_text(encoded.decode("utf-8"))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (before ``accept`` this rejects the handshake with 403).

        Does nothing once either side has closed; a reason longer than a close frame
        allows (123 bytes of UTF-8) is cut to fit.
        """
        if WebSocketState.DISCONNECTED in (self.application_state, self.client_state):
            return
        fitted = (reason or "").encode("utf-8")[:123].decode("utf-8", "ignore")
        await self.send({"type": "websocket.close", "code": code, "reason": fitted})

    def _going_away(self) -> None:
        # Called by the drain on this socket's loop, beside whatever the handler awaits.
        self._closing = asyncio.ensure_future(self._close_going_away())

    async def _close_going_away(self) -> None:
        if WebSocketState.DISCONNECTED in (self.application_state, self.client_state):
            return
        self._gone = True
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.close(1001, "Going away")
