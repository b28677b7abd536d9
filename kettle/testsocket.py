"""The test side of a WebSocket (:meth:`kettle.testing.TestClient.websocket_connect`):
send and receive from synchronous test code while the app runs on the client's portal."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import orjson
from anyio.from_thread import BlockingPortal

from kettle.exceptions import WebSocketDisconnect
from kettle.types import ASGIApp, Message

__all__ = ["WebSocketTestSession"]

_TIMEOUT = 30.0  # no test should wait longer than this for the app to answer


class WebSocketTestSession:
    """The test side of a WebSocket: send and receive from synchronous test code."""

    __test__ = False

    def __init__(self, app: ASGIApp, scope: dict[str, Any], portal: BlockingPortal) -> None:
        self.app = app
        self.scope = scope
        self.portal = portal
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []

    async def _setup(self) -> None:
        self._to_app_send, self._to_app_recv = anyio.create_memory_object_stream[Message](math.inf)
        self._from_app_send, self._from_app_recv = anyio.create_memory_object_stream[Message](
            math.inf
        )

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._to_app_recv.receive, self._from_app_send.send)
        except BaseException as exc:
            await self._from_app_send.send({"type": "error", "exc": exc})
        else:
            await self._from_app_send.send({"type": "app.finished"})

    def __enter__(self) -> WebSocketTestSession:
        self.portal.call(self._setup)
        self._task = self.portal.start_task_soon(self._run)
        try:
            self.send({"type": "websocket.connect"})
            message = self.receive()
            if message["type"] == "websocket.close":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if message["type"] != "websocket.accept":
                raise RuntimeError(f"Expected websocket.accept, got {message['type']!r}")
        except BaseException:
            self._finish()
            raise
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = list(message.get("headers") or [])
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.close(1000)
        finally:
            self._finish()
        # What the app's handler let escape that the app handed over (FastAPI apps: a
        # WebSocketDisconnect the handler did not catch), raised as FastAPI's client does.
        unhandled = self.scope["extensions"].get("kettle.server_errors")
        if unhandled and exc_info[0] is None:
            raise unhandled[0]

    def _finish(self) -> None:
        # The app's own error, if any, was already raised by receive().
        with contextlib.suppress(Exception):
            self._task.result(timeout=_TIMEOUT)
        self.portal.call(self._aclose)

    async def _aclose(self) -> None:
        for stream in (
            self._to_app_send,
            self._to_app_recv,
            self._from_app_send,
            self._from_app_recv,
        ):
            await stream.aclose()

    def _call(self, func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        async def bounded() -> Any:
            with anyio.fail_after(_TIMEOUT):
                return await func(*args)

        return self.portal.call(bounded)

    def send(self, message: Message) -> None:
        self._call(self._to_app_send.send, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: str = "text") -> None:
        encoded = orjson.dumps(data)
        if mode == "binary":
            self.send_bytes(encoded)
        else:
            self.send_text(encoded.decode())

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The next message the app sent; raises the app's exception if it crashed."""
        message: Message = self._call(self._from_app_recv.receive)
        if message["type"] == "error":
            raise message["exc"]
        return message

    def _receive_data(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        if message["type"] == "app.finished":
            raise WebSocketDisconnect(1006, "The app finished without closing")
        return message

    def receive_text(self) -> str:
        return str(self._receive_data()["text"])

    def receive_bytes(self) -> bytes:
        return bytes(self._receive_data()["bytes"])

    def receive_json(self, mode: str = "text") -> Any:
        message = self._receive_data()
        return orjson.loads(message["text"] if mode == "text" else message["bytes"])
