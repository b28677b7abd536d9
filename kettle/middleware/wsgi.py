"""Serving a WSGI app (a Flask or Django app, say) from an ASGI app: mount it.

The WSGI app runs in a worker thread (the mounting app's thread pool when there is one),
so it never blocks the event loop. Its request body is read first, and only up to
``max_body_size``: a larger one is a 413 the WSGI app never sees. What it answers is sent
as it yields it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import anyio.from_thread

from kettle.limits import Limits
from kettle.responses import JSONResponse, PlainTextResponse
from kettle.types import Message, Receive, Scope, Send
from kettle.wsgienviron import build_environ as build_environ  # re-exported

__all__ = ["WSGIMiddleware"]

logger = logging.getLogger("kettle.error")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Headers the environ spells as CONTENT_TYPE / CONTENT_LENGTH, not HTTP_*.


class WSGIMiddleware:
    """An ASGI app serving the WSGI app ``app``: mount it (``app.mount("/v1",
    WSGIMiddleware(flask_app))``) to move an old app behind a new one piece by piece.

    Args:
        app: the WSGI application.
        max_body_size: the largest request body handed to it (bytes; 413 past it).
        workers: threads for WSGI calls when the app is not mounted in a kettle app (one
            that is uses that app's thread pool).

    A header whose name holds an underscore is not passed on: in the environ
    ``X_User`` and ``X-User`` would both be ``HTTP_X_USER``, so a client could pass one
    for the other a proxy set. A header or status the WSGI app writes with a line break
    is a 500, never a response split in two.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware.wsgi import WSGIMiddleware
        >>> def legacy(environ, start_response):
        ...     start_response("200 OK", [("Content-Type", "text/plain")])
        ...     return [b"from WSGI at " + environ["PATH_INFO"].encode()]
        >>> app = Kettle(__name__)
        >>> app.mount("/old", WSGIMiddleware(legacy))
        >>> from kettle.testing import TestClient
        >>> TestClient(app).get("/old/page").text
        'from WSGI at /page'
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        max_body_size: int = Limits().max_body_size,
        workers: int = 10,
    ) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.workers = workers
        self._limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a WSGI app has no life of its own to start
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})  # WSGI has no sockets
            return
        body = await self._read_body(scope, receive)
        if body is None:
            response = JSONResponse({"detail": "Request body too large"}, 413)
            await response(scope, receive, send)
            return
        environ = build_environ(scope, body)
        pool = getattr(scope.get("app"), "thread_pool", None)
        if pool is not None:
            await pool.run(self._serve, environ, send)
        else:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self.workers)
            await anyio.to_thread.run_sync(self._serve, environ, send, limiter=self._limiter)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        limit = self.max_body_size
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""  # the client left: nothing to serve
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _serve(self, environ: dict[str, Any], send: Send) -> None:
        """Run the WSGI call in this worker thread, sending what it answers."""
        exchange = _Exchange(send)
        try:
            result = self.app(environ, exchange.start_response)
            try:
                for chunk in result:
                    exchange.write(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            exchange.finish()
        except Exception:
            logger.exception("Unhandled error in the WSGI app %r", self.app)
            exchange.fail()


class _Exchange:
    """One WSGI response, sent to the ASGI server from the worker thread."""

    def __init__(self, send: Send) -> None:
        self.asgi_send = send
        self.start: Message | None = None
        self.started = False
        self.finished = False

    def send(self, message: Message) -> None:
        async def sending() -> None:
            await self.asgi_send(message)

        anyio.from_thread.run(sending)

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        code = status.split(" ", 1)[0]
        if not (len(code) == 3 and code.isdigit()) or "\r" in status or "\n" in status:
            raise ValueError(f"invalid WSGI status {status!r}")
        raw = []
        for name, value in headers:
            if any(c in name or c in value for c in "\r\n\0"):
                raise ValueError(f"line break in the WSGI header {name!r}")
            raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        self.start = {"type": "http.response.start", "status": int(code), "headers": raw}
        return self.write

    def write(self, chunk: bytes) -> None:
        if self.start is None:
            raise RuntimeError("the WSGI app wrote its body before calling start_response")
        if not chunk:
            return
        self._send_start()
        self.send({"type": "http.response.body", "body": bytes(chunk), "more_body": True})

    def _send_start(self) -> None:
        if not self.started:
            assert self.start is not None
            self.started = True
            self.send(self.start)

    def finish(self) -> None:
        if self.start is None:
            raise RuntimeError("the WSGI app returned without calling start_response")
        self._send_start()
        self.send({"type": "http.response.body", "body": b"", "more_body": False})
        self.finished = True

    def fail(self) -> None:
        if self.finished:
            return
        if self.started:
            # The status is gone: end the body; the server closes the connection.
            self.send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        response = PlainTextResponse("Internal Server Error", 500)
        self.send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", b"%d" % len(response.body)),
                ],
            }
        )
        self.send({"type": "http.response.body", "body": response.body, "more_body": False})
