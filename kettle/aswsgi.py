"""An ASGI app served by a WSGI server: gunicorn's sync workers, mod_wsgi, ``wsgiref``.

Flask apps are deployed as ``gunicorn 'hello:app'``; a kettle app answers WSGI calls too
(``app(environ, start_response)``, and ``app.wsgi_app``), through :class:`WSGIBridge`.
One event loop per process runs in a background thread: it runs the app's lifespan
startup before the first request (shutdown at interpreter exit) and every request's ASGI
call, while the WSGI server's thread reads the body and writes the answer.

The two threads hand over one message at a time: the app's ``send`` waits until the
WSGI side has passed the chunk on, so a slow client holds back the app instead of
filling memory, and the body is read only as fast as the app asks for it (its body
limits apply as under ``kettle run``). An environ that cannot be a request (a path that
is not UTF-8, a ``Content-Length`` that is not a number) is a 400, before the app runs.

``kettle run`` serves ASGI directly and is several times faster: the bridge is for
hosts that only speak WSGI.

Example:
    >>> from kettle.aswsgi import WSGIBridge
    >>> async def hello(scope, receive, send):
    ...     await send({"type": "http.response.start", "status": 200,
    ...                 "headers": [(b"content-type", b"text/plain")]})
    ...     await send({"type": "http.response.body", "body": b"hi"})
    >>> import io, wsgiref.util
    >>> environ = {"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    >>> wsgiref.util.setup_testing_defaults(environ)
    >>> seen = []
    >>> b"".join(WSGIBridge(hello)(environ, lambda status, headers: seen.append(status)))
    b'hi'
    >>> seen
    ['200 OK']
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import http
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kettle.types import ASGIApp, Message, Scope

__all__ = ["WSGIBridge"]

logger = logging.getLogger("kettle.error")

StartResponse = Callable[..., Any]

#: How much of the body one ``receive()`` hands over.
_CHUNK = 64 * 1024
#: Seconds the lifespan startup and shutdown may take.
_LIFESPAN_TIMEOUT = 60.0
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}
_UNPREFIXED = {"CONTENT_TYPE": b"content-type", "CONTENT_LENGTH": b"content-length"}


class _BadEnviron(ValueError):
    """The environ cannot be turned into an ASGI request."""


def build_scope(environ: dict[str, Any]) -> Scope:
    """The ASGI HTTP scope of a WSGI environ (PEP 3333's strings are latin-1 bytes).

    Example:
        >>> scope = build_scope({"REQUEST_METHOD": "GET", "PATH_INFO": "/caf\\xc3\\xa9",
        ...     "QUERY_STRING": "q=1", "SERVER_NAME": "h", "SERVER_PORT": "80",
        ...     "HTTP_X_A": "1", "CONTENT_TYPE": "text/plain"})
        >>> scope["path"], scope["query_string"], scope["headers"]
        ('/café', b'q=1', [(b'x-a', b'1'), (b'content-type', b'text/plain')])
    """
    try:
        script_name = environ.get("SCRIPT_NAME", "").encode("latin-1")
        path_info = environ.get("PATH_INFO", "").encode("latin-1")
        raw_path = script_name + path_info
        root_path = script_name.decode("utf-8")
        path = raw_path.decode("utf-8")
        query = environ.get("QUERY_STRING", "").encode("latin-1")
        headers = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    continue  # CGI's names are the ones that count
                name = key[5:].lower().replace("_", "-").encode("latin-1")
            elif key in _UNPREFIXED:
                if not value:
                    continue
                name = _UNPREFIXED[key]
            else:
                continue
            headers.append((name, value.encode("latin-1")))
        port = int(environ.get("SERVER_PORT") or 80)
    except (UnicodeError, ValueError) as exc:
        raise _BadEnviron(str(exc)) from None
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "method": environ.get("REQUEST_METHOD", "GET").upper(),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "root_path": root_path,
        "headers": headers,
        "server": (environ.get("SERVER_NAME", "localhost"), port),
        "client": None,
        "state": {},
        "extensions": {},
        "wsgi.environ": environ,
    }
    remote = environ.get("REMOTE_ADDR")
    if remote:
        try:
            scope["client"] = (remote, int(environ.get("REMOTE_PORT") or 0))
        except ValueError:
            scope["client"] = (remote, 0)
    return scope


def _content_length(environ: dict[str, Any]) -> int | None:
    """The body's length, or ``None`` when the server streams it to EOF (chunked)."""
    raw = environ.get("CONTENT_LENGTH") or ""
    if not raw:
        return None if environ.get("wsgi.input_terminated") else 0
    if not raw.isdigit() or not raw.isascii():
        raise _BadEnviron(f"Content-Length {raw!r} is not a number")
    return int(raw)


class _Loop:
    """The process's event loop thread, and the app's lifespan on it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="kettle-wsgi-loop", daemon=True
        )
        self.thread.start()
        self._inbox: asyncio.Queue[Message] | None = None
        self._finished: asyncio.Event | None = None
        self.submit(self._start_lifespan()).result(_LIFESPAN_TIMEOUT)
        atexit.register(self.close)

    def submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def _start_lifespan(self) -> None:
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        started: asyncio.Future[Message] = self.loop.create_future()
        finished = asyncio.Event()

        async def send(message: Message) -> None:
            if message["type"].startswith("lifespan.startup") and not started.done():
                started.set_result(message)
            elif message["type"].startswith("lifespan.shutdown"):
                finished.set()

        async def lifespan() -> None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
            try:
                await self.app(scope, inbox.get, send)
            except Exception as exc:  # an app without lifespan support raises: serve on
                if not started.done():
                    started.set_exception(exc)
            finally:
                finished.set()
                if not started.done():  # returned without a word: no lifespan either
                    started.set_exception(LookupError("no lifespan"))

        await inbox.put({"type": "lifespan.startup"})
        self._task = self.loop.create_task(lifespan())
        try:
            answer = await started
        except Exception:
            logger.debug("the app has no lifespan: serving without startup hooks")
            return
        if answer["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {answer.get('message', '')}")
        self._inbox, self._finished = inbox, finished

    def close(self) -> None:
        """Run the lifespan shutdown (once) and stop the loop."""
        if not self.loop.is_running():
            return
        inbox, finished, self._inbox = self._inbox, self._finished, None
        if inbox is not None and finished is not None:

            async def shut_down() -> None:
                await inbox.put({"type": "lifespan.shutdown"})
                await finished.wait()

            try:
                self.submit(shut_down()).result(_LIFESPAN_TIMEOUT)
            except Exception:  # a shutdown hook's error must not hide the exit
                logger.exception("lifespan shutdown under WSGI failed")
        self.loop.call_soon_threadsafe(self.loop.stop)


class WSGIBridge:
    """Serve an ASGI app to a WSGI server.

    Args:
        app: the ASGI app (a :class:`kettle.Kettle` app is one).

    The first call starts the event loop thread and runs the app's lifespan startup.

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> @app.get("/")
        ... def index():
        ...     return "hello"
        >>> from wsgiref.simple_server import make_server
        >>> server = make_server("127.0.0.1", 0, WSGIBridge(app))  # or gunicorn 'mod:app'
        >>> server.server_close()
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._loop: _Loop | None = None
        self._lock = threading.Lock()

    def _running(self) -> _Loop:
        loop = self._loop
        if loop is None:
            with self._lock:
                if self._loop is None:
                    self._loop = _Loop(self.app)
                loop = self._loop
        return loop

    def close(self) -> None:
        """Run the app's lifespan shutdown now (otherwise it runs at interpreter exit)."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        try:
            scope = build_scope(environ)
            length = _content_length(environ)
        except _BadEnviron as exc:
            body = f"Bad Request: {exc}".encode()
            start_response(
                "400 Bad Request",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return iter([body])
        return _Exchange(self._running(), scope, environ["wsgi.input"], length).run(start_response)


class _Exchange:
    """One request: the app's task on the loop, the WSGI thread serving its messages."""

    def __init__(self, loop: _Loop, scope: Scope, body: Any, length: int | None) -> None:
        self.loop = loop.loop
        self.submit = loop.submit
        self.app = loop.app
        self.scope = scope
        self.body = body
        self.left = length  # None: read to EOF
        # (kind, payload, future): "receive"/"send" from the app, "done" when it returns.
        self.inbox: queue.SimpleQueue[tuple[str, Any, asyncio.Future[Any] | None]] = (
            queue.SimpleQueue()
        )
        # Read and written on the loop only, so a call cannot slip in after the close.
        self.closed = False
        self.pending: dict[asyncio.Future[Any], Any] = {}  # future -> its answer at close

    # -- the loop's side -------------------------------------------------------------------

    async def receive(self) -> Message:
        if self.closed:
            return {"type": "http.disconnect"}
        future: asyncio.Future[Message] = self.loop.create_future()
        self.pending[future] = {"type": "http.disconnect"}
        self.inbox.put(("receive", None, future))
        return await future

    async def send(self, message: Message) -> None:
        if self.closed:
            raise OSError("the WSGI client is gone")
        future: asyncio.Future[None] = self.loop.create_future()
        self.pending[future] = None
        self.inbox.put(("send", message, future))
        await future

    async def call(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except BaseException as exc:
            self.inbox.put(("done", exc, None))
            if not isinstance(exc, Exception):
                raise
        else:
            self.inbox.put(("done", None, None))

    def _settle(self, future: asyncio.Future[Any], value: Any) -> None:
        self.pending.pop(future, None)
        if not future.done():
            future.set_result(value)

    def _close(self) -> None:
        self.closed = True
        for future, value in list(self.pending.items()):
            self._settle(future, value)

    def _resolve(self, future: asyncio.Future[Any] | None, value: Any) -> None:
        if future is not None:
            self.loop.call_soon_threadsafe(self._settle, future, value)

    # -- the WSGI thread's side -------------------------------------------------------------

    def _read(self) -> Message:
        size = _CHUNK if self.left is None else min(_CHUNK, self.left)
        data = self.body.read(size) if size else b""
        if self.left is not None:
            self.left -= len(data)
            more = self.left > 0 and bool(data)
        else:
            more = bool(data)
        return {"type": "http.request", "body": data, "more_body": more}

    def run(self, start_response: StartResponse) -> Iterator[bytes]:
        self.submit(self.call())
        started = False
        try:
            while True:
                kind, payload, future = self.inbox.get()
                if kind == "receive":
                    self._resolve(future, self._read())
                    continue
                if kind == "done":
                    if payload is not None:
                        logger.error(
                            "the app raised while answering a WSGI request",
                            exc_info=(type(payload), payload, payload.__traceback__),
                        )
                    if not started:
                        start_response(
                            "500 Internal Server Error",
                            [("Content-Type", "text/plain; charset=utf-8")],
                        )
                        yield b"Internal Server Error"
                    return
                message_type = payload["type"]
                if message_type == "http.response.start" and not started:
                    started = True
                    status = int(payload["status"])
                    headers = [
                        (name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in payload.get("headers", ())
                    ]
                    start_response(f"{status} {_REASONS.get(status, 'Unknown')}", headers)
                    self._resolve(future, None)
                elif message_type == "http.response.body" and started:
                    chunk = payload.get("body", b"")
                    if chunk:
                        yield chunk  # the app waits until the server has taken it
                    self._resolve(future, None)
                    if not payload.get("more_body", False):
                        return
                else:
                    self._resolve(future, None)  # an extension the bridge does not offer
        finally:
            # The answer is complete, or the server closed the iterable (the client left):
            # whatever the app still waits for or asks for gets "disconnect".
            self.loop.call_soon_threadsafe(self._close)
