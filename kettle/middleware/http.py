"""Middleware written as one function of the request and ``call_next`` (Starlette's
``BaseHTTPMiddleware``, FastAPI's ``@app.middleware("http")``).

``await call_next(request)`` runs the rest of the app and returns its response as soon as
its status and headers are known; the body streams through as the app produces it. The
function may change the headers, or return another response altogether (the app's is
then dropped, and the app stopped).

This costs a task and a queue per request, which plain ASGI middleware does not: use it
for code moved from Starlette or FastAPI, write new middleware as plain ASGI (see
:mod:`kettle.middleware`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from kettle.requests import Request
from kettle.responses import Response
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "CallNext", "DispatchFunction"]

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]

_END = object()


class BaseHTTPMiddleware:
    """Run ``dispatch(request, call_next)`` around every HTTP request (not WebSockets).

    Pass ``dispatch=``, or subclass and override :meth:`dispatch`.

    Example:
        >>> import time
        >>> from kettle import Kettle
        >>> from kettle.middleware.http import BaseHTTPMiddleware
        >>> from kettle.testing import TestClient
        >>> async def timed(request, call_next):
        ...     started = time.perf_counter()
        ...     response = await call_next(request)
        ...     response.headers["X-Process-Time"] = f"{time.perf_counter() - started:.6f}"
        ...     return response
        >>> app = Kettle(__name__)
        >>> app.add_middleware(BaseHTTPMiddleware, dispatch=timed)
        >>> @app.get("/")
        ... async def index():
        ...     return {"ok": True}
        >>> "x-process-time" in TestClient(app).get("/").headers
        True
    """

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = dispatch or self.dispatch

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        """What a subclass does around ``call_next``; by default, nothing."""
        return await call_next(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        calls: list[_Downstream] = []
        # What dispatch reads of the body is kept, and given to the app again.
        consumed: list[Message] = []

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                consumed.append(message)
            return message

        async def call_next(request: Request) -> Response:
            downstream = _Downstream(self.app, scope, _replaying(consumed, receive))
            calls.append(downstream)
            return await downstream.response()

        try:
            response = await self.dispatch_func(Request(scope, recording), call_next)
            if response is None:  # a dispatch function that forgot its return
                raise TypeError("the middleware's dispatch function returned no response")
            await response(scope, receive, send)
        finally:
            for downstream in calls:
                await downstream.finish()


def _replaying(consumed: list[Message], receive: Receive) -> Receive:
    """``receive`` for the app: first the body messages ``dispatch`` already read."""
    replay = list(consumed)

    async def replaying() -> Message:
        if replay:
            return replay.pop(0)
        return await receive()

    return replaying


class _Downstream:
    """The rest of the app, running in its own task, its messages passed through a queue."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        # One message ahead at most: an app producing a large body waits for the client.
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        self.complete = False
        self.task = asyncio.ensure_future(app(scope, receive, self.queue.put))

    async def _next(self) -> Any:
        """The app's next message, or ``_END`` once it has returned (raising its error)."""
        if not self.queue.empty() or not self.task.done():
            getter = asyncio.ensure_future(self.queue.get())
            await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                return getter.result()
            getter.cancel()
            if not self.queue.empty():
                return self.queue.get_nowait()
        await self.task  # raises the app's error, if that is why it ended
        return _END

    async def response(self) -> Response:
        start = await self._next()
        if start is _END:
            raise RuntimeError("the app returned without sending a response")
        return _Streamed(start["status"], list(start.get("headers", [])), self._body())

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._next()
            if message is _END:
                return
            if message["type"] == "http.response.body":
                yield message.get("body", b"")
                if not message.get("more_body", False):
                    self.complete = True
                    return

    async def finish(self) -> None:
        """Wait for the app's background work once its whole body was sent; stop the app
        if its response was not used (or not to the end)."""
        if not self.complete:
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


class _Streamed(Response):
    """The app's response as ``call_next`` returns it: status and headers now, the body as
    the app sends it."""

    def __init__(self, status: int, raw_headers: list[tuple[bytes, bytes]], body: Any) -> None:
        self.status_code = status
        self.background = None
        self._headers = None
        self._auto_secure = None
        self.body = b""
        self.raw_headers = raw_headers
        self.chunks: AsyncIterator[bytes] = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
