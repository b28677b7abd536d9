"""Test clients that call the app in-process: no server, no sockets.

``TestClient`` is synchronous (an httpx ``Client``): the app runs on an event loop in a
helper thread. ``AsyncTestClient`` is an httpx ``AsyncClient`` for async tests. Both run
the app's lifespan when used as context managers and keep cookies between requests.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
import httpx
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.from_thread import BlockingPortal

from kettle.testresponse import ResponseHeaders, TestResponse
from kettle.testsocket import WebSocketTestSession
from kettle.types import ASGIApp, Message

__all__ = [
    "AsyncTestClient",
    "ResponseHeaders",
    "TestClient",
    "TestResponse",
    "WebSocketTestSession",
]

_ASGI = {"version": "3.0", "spec_version": "2.4"}
_TIMEOUT = 30.0  # no test should wait longer than this for the app to answer


def _default_headers(headers: Mapping[str, str] | None) -> httpx.Headers:
    # Updating an httpx.Headers replaces keys whatever their case ("User-Agent" too).
    # Only the encodings every install decodes: httpx would add br and zstd when their
    # optional packages happen to be installed, and an app's tests would then depend on
    # the machine they run on.
    merged = httpx.Headers({"user-agent": "testclient", "accept-encoding": "gzip, deflate"})
    merged.update(headers or {})
    return merged


def _build_scope(
    request: httpx.Request, root_path: str, client: tuple[str, int], state: dict[str, Any]
) -> dict[str, Any]:
    url = request.url
    scheme = url.scheme
    default_port = {"http": 80, "https": 443, "ws": 80, "wss": 443}[scheme]
    raw_path = url.raw_path.split(b"?", 1)[0]
    headers = [(k.lower(), v) for k, v in request.headers.raw]
    return {
        "type": "http",
        "asgi": _ASGI,
        "http_version": "1.1",
        "method": request.method,
        "scheme": scheme,
        "path": root_path + unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": url.query,
        "root_path": root_path,
        "headers": headers,
        "client": client,
        "server": (url.host, url.port or default_port),
        "state": dict(state),
        "extensions": {"http.response.debug": {}},
    }


async def _call_app(
    app: ASGIApp,
    scope: dict[str, Any],
    body: bytes,
    raise_server_exceptions: bool,
    probe: Callable[[], Any] | None = None,
    seen: list[Any] | None = None,
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one HTTP exchange and collect the response.

    ``probe`` is called as the response starts, in the app's own context (its context
    variables set), and what it returns is appended to ``seen``.
    """
    sent_body = False
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    complete = anyio.Event()

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, the only thing left to say is that the client is gone; wait
        # until the response is complete so streaming handlers are not cut short.
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            if probe is not None and seen is not None:
                seen.append(probe())
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete.set()

    # Errors no handler answered, handed over by apps that ask for it (FastAPI's): its
    # test client raises them in the test even though the app answered a 500.
    unhandled: list[BaseException] = []
    if raise_server_exceptions:
        scope["extensions"]["kettle.server_errors"] = unhandled
    try:
        with anyio.fail_after(_TIMEOUT):
            await app(scope, receive, send)
    except Exception:
        if raise_server_exceptions:
            raise
        if status is None:  # what a real server does when the app fails before answering
            return 500, [(b"content-length", b"0")], b""
    if unhandled:
        raise unhandled[0]
    complete.set()
    if status is None:
        raise RuntimeError("The app returned without sending a response")
    return status, headers, b"".join(chunks)


class _Lifespan:
    """Drives the ASGI lifespan protocol for a test client."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        to_app: tuple[ObjectSendStream[Message], ObjectReceiveStream[Message]]
        to_app = anyio.create_memory_object_stream[Message](math.inf)
        from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app, self._from_app = to_app[0], from_app[1]
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        task_status.started()
        # The ends this task uses are closed here; the client closes its own two.
        async with to_app[1], from_app[0]:
            try:
                await self.app(scope, to_app[1].receive, from_app[0].send)
            except Exception as exc:
                # Reported to whoever waits on startup/shutdown; the task ends cleanly.
                await from_app[0].send({"type": "error", "exc": exc})

    async def _expect(self, event: str) -> None:
        with anyio.fail_after(_TIMEOUT):
            # If the app already failed it stopped listening; its error is waiting for us.
            with contextlib.suppress(anyio.BrokenResourceError):
                await self._to_app.send({"type": f"lifespan.{event}"})
            message = await self._from_app.receive()
        if message["type"] == f"lifespan.{event}.failed":
            # The app re-raises after reporting failure: surface that exception itself.
            with anyio.move_on_after(1):
                message = await self._from_app.receive()
            if message["type"] != "error":
                raise RuntimeError(f"Lifespan {event} failed: {message.get('message', '')}")
        if message["type"] == "error":
            raise message["exc"]

    async def startup(self) -> None:
        await self._expect("startup")

    async def shutdown(self) -> None:
        try:
            await self._expect("shutdown")
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._to_app.aclose()
        await self._from_app.aclose()


class _Transport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        c = self.client
        extensions = request.extensions
        # A client may name the root path and the peer per request (Flask's environ does);
        # then the URL's path already starts with the root path.
        root_path = extensions.get("kettle.root_path")
        client = extensions.get("kettle.client") or c.client_address
        if root_path is None:
            scope = _build_scope(request, c.root_path, client, c.lifespan_state)
        else:
            scope = _build_scope(request, "", client, c.lifespan_state)
            scope["root_path"] = root_path
        body = request.read()
        probe = c.context_probe
        seen: list[Any] = []
        with c.portal() as portal:
            status, headers, content = portal.call(
                _call_app, c.app, scope, body, c.raise_server_exceptions, probe, seen
            )
            if seen:
                portal.call(c.settle_context, seen[0])
        if probe is not None:
            c.exchanged(seen[0] if seen else None)
        # A stream, not content=: httpx would add a Content-Length the app never sent.
        return c.response_class(
            status, headers=headers, stream=httpx.ByteStream(content), request=request
        )


class TestClient(httpx.Client):
    """A synchronous client for testing an app in-process.

    Use it in a ``with`` block to run the app's lifespan (startup and shutdown hooks).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/ping")
        ... async def ping() -> dict[str, bool]:
        ...     return {"pong": True}
        >>> with TestClient(app) as client:
        ...     client.get("/ping").json()
        {'pong': True}
    """

    __test__ = False  # not a pytest test class

    #: the class of the responses the client returns
    response_class: type[TestResponse] = TestResponse
    #: called as each response starts, in the app's context; see :meth:`exchanged`
    context_probe: Callable[[], Any] | None = None

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: httpx._types.CookieTypes | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client_address = client
        self.lifespan_state: dict[str, Any] = {}
        self._running_portal: BlockingPortal | None = None
        self._exit_stack: contextlib.ExitStack | None = None
        self._lifespan: _Lifespan | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            transport=_Transport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    @contextlib.contextmanager
    def portal(self) -> Iterator[BlockingPortal]:
        """The blocking portal the client's requests run the app through: the one its
        ``with`` block holds, or a new one for a single call."""
        if self._running_portal is not None:
            yield self._running_portal
        else:
            with anyio.from_thread.start_blocking_portal() as portal:
                yield portal

    def __enter__(self) -> TestClient:
        stack = contextlib.ExitStack()
        portal = stack.enter_context(anyio.from_thread.start_blocking_portal())
        self._running_portal = portal
        self._exit_stack = stack
        lifespan = _Lifespan(self.app, self.lifespan_state)
        try:
            portal.start_task(lifespan.run)
            portal.call(lifespan.startup)
        except BaseException:
            portal.call(lifespan.aclose)
            self._running_portal = None
            stack.close()
            raise
        self._lifespan = lifespan
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._stop_lifespan()
        finally:
            self.close()

    def _stop_lifespan(self) -> None:
        """Run the lifespan's shutdown and release the ``with`` block's portal."""
        try:
            if self._lifespan is not None and self._running_portal is not None:
                self._running_portal.call(self._lifespan.shutdown)
        finally:
            self._lifespan = None
            self._running_portal = None
            if self._exit_stack is not None:
                self._exit_stack.close()
                self._exit_stack = None

    async def settle_context(self, context: Any) -> None:
        """Finish what :attr:`context_probe` saw, on the app's event loop, before the
        exchange ends (a subclass keeping the request readable reads its body here)."""

    def exchanged(self, context: Any) -> None:
        """Called after each exchange with what :attr:`context_probe` returned (``None``
        when no response started); only when a probe is set."""

    def open(self, path: str = "/", method: str = "GET", **kwargs: Any) -> httpx.Response:
        """Send one request, Flask's way of naming it: ``client.open("/", method="PUT")``.

        Example:
            >>> from kettle import Kettle
            >>> from kettle.testing import TestClient
            >>> app = Kettle(__name__)
            >>> @app.route("/", methods=["GET", "POST"])
            ... def index() -> str:
            ...     return "hi"
            >>> sorted(TestClient(app).open("/", method="OPTIONS").allow)
            ['GET', 'HEAD', 'OPTIONS', 'POST']
        """
        return self.request(method, path, **kwargs)

    @contextlib.contextmanager
    def session_transaction(self) -> Iterator[Any]:
        """Read and change the client's session outside a request, as in Flask.

        Example:
            >>> from kettle import Kettle, session
            >>> from kettle.testing import TestClient
            >>> app = Kettle(__name__)
            >>> app.secret_key = "test"
            >>> @app.get("/whoami")
            ... def whoami() -> str:
            ...     return str(session.get("user", "nobody"))
            >>> client = TestClient(app)
            >>> with client.session_transaction() as sess:
            ...     sess["user"] = "ada"
            >>> client.get("/whoami").text
            'ada'
        """
        from kettle.responses import Response

        app: Any = self.app
        interface = app.session_interface
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies.jar)
        ctx = app.test_request_context(
            "/", headers={"cookie": cookie} if cookie else {}, base_url=str(self.base_url)
        )
        with ctx:
            session = interface.open_session(app, ctx.request)
            if session is None:
                raise RuntimeError("the session is unavailable: set app.secret_key first")
            yield session
            response = Response()
            interface.save_session(app, session, response)
        host = self.base_url.host if "." in self.base_url.host else f"{self.base_url.host}.local"
        for header in response.headers.getlist("set-cookie"):
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            for existing in list(self.cookies.jar):
                if existing.name == name:
                    self.cookies.jar.clear(existing.domain, existing.path, existing.name)
            if "max-age=0" not in header.lower():
                self.cookies.set(name, value, domain=host, path="/")

    @contextlib.contextmanager
    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Generator[WebSocketTestSession, None, None]:
        """Open a WebSocket to ``url``; raises ``WebSocketDisconnect`` if the app refuses it.

        Example:
            >>> from kettle import Kettle, WebSocket
            >>> from kettle.testing import TestClient
            >>> app = Kettle(__name__)
            >>> @app.websocket("/ws")
            ... async def ws(ws: WebSocket) -> None:
            ...     await ws.accept()
            ...     await ws.send_text("hi " + await ws.receive_text())
            >>> with TestClient(app).websocket_connect("/ws") as session:
            ...     session.send_text("there")
            ...     session.receive_text()
            'hi there'
        """
        request = self.build_request("GET", url, headers=headers)
        scope = _build_scope(request, self.root_path, self.client_address, self.lifespan_state)
        scope.update(
            type="websocket",
            scheme={"http": "ws", "https": "wss"}.get(scope["scheme"], scope["scheme"]),
            subprotocols=list(subprotocols or ()),
        )
        for key in ("method", "http_version"):
            scope.pop(key, None)
        if self.raise_server_exceptions:
            scope["extensions"]["kettle.server_errors"] = []
        with self.portal() as portal:
            session = WebSocketTestSession(self.app, scope, portal)
            with session:
                yield session


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        c = self.client
        scope = _build_scope(request, c.root_path, c.client_address, c.lifespan_state)
        body = await request.aread()
        status, headers, content = await _call_app(c.app, scope, body, c.raise_server_exceptions)
        # A stream, not content=: httpx would add a Content-Length the app never sent.
        return TestResponse(
            status, headers=headers, stream=httpx.ByteStream(content), request=request
        )


class AsyncTestClient(httpx.AsyncClient):
    """An async client for testing an app in-process; ``async with`` runs the lifespan.

    Example:
        >>> import anyio
        >>> from kettle import Kettle
        >>> from kettle.testing import AsyncTestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/ping")
        ... async def ping() -> str:
        ...     return "pong"
        >>> async def main() -> str:
        ...     async with AsyncTestClient(app) as client:
        ...         return (await client.get("/ping")).text
        >>> anyio.run(main)
        'pong'
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        cookies: httpx._types.CookieTypes | None = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client_address = client
        self.lifespan_state: dict[str, Any] = {}
        self._task_group: anyio.abc.TaskGroup | None = None
        self._lifespan: _Lifespan | None = None
        super().__init__(
            base_url=base_url,
            headers=_default_headers(headers),
            transport=_AsyncTransport(self),
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        lifespan = _Lifespan(self.app, self.lifespan_state)
        await self._task_group.start(lifespan.run)
        try:
            await lifespan.startup()
        except BaseException:
            await lifespan.aclose()
            await self._task_group.__aexit__(None, None, None)
            await super().__aexit__(None, None, None)
            raise
        self._lifespan = lifespan
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if self._lifespan is not None:
                await self._lifespan.shutdown()
        finally:
            if self._task_group is not None:
                await self._task_group.__aexit__(None, None, None)
            await super().__aexit__(*exc_info)
