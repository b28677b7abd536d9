"""The server layer of ``kettle run``: uvicorn, driving a hardened httptools protocol.

uvicorn's httptools protocol trusts the client more than a server facing the internet
can. ``kettle run`` serves with :class:`BoundedHttpToolsProtocol`, a subclass that adds:

- a bound on the request head (431 past ``max_head_size``, checked per read, so the end
  of a head split across two reads is still found) and on a chunked body's trailer
  section, which httptools would otherwise buffer without limit;
- trailer fields dropped: llhttp reports them through the same ``on_header`` callback as
  the head, and uvicorn appends them to the list that is ``scope["headers"]``, so a
  trailer ``Host``, ``Cookie`` or ``X-Forwarded-Proto`` would reach the app;
- a head deadline (from the connection's first moment, or from the first byte of each
  later head, to the end of the head) and a body deadline that grows with the bytes
  received (``timeout_body`` plus one second per ``min_body_rate`` bytes): 408 and close;
- a cap on open connections (503 at accept, before any parsing, so a flood of idle
  sockets can never use the process's last file descriptors) and on requests in progress
  (503 without calling the app);
- a grace period after SIGTERM, after which connections still mid-request are closed;
- a drain on SIGTERM, chained in front of uvicorn's own signal handling
  (:mod:`kettle.shutdown`): readiness fails at once, the server keeps accepting
  for ``drain_delay`` seconds, then WebSockets are closed with 1001 and Server-Sent Events
  streams end (:mod:`kettle.draining`) and uvicorn's shutdown runs as usual.

Each connection has at most one timer (``loop.call_at``), re-armed lazily when it fires:
a request that finishes in time costs a few float assignments, never a timer.

Importing this module imports nothing from uvicorn: the protocol class is built on first
use of ``kettle.server.BoundedHttpToolsProtocol`` (the import string uvicorn is given), with
the settings ``kettle run`` put in the environment, so reload and worker processes, which
import it anew, get the same ones.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

    from kettle.app import Kettle

KiB = 1024
MAX_HEAD_SIZE = 64 * KiB
#: The environment variable carrying :class:`ServerSettings` to every server process.
SETTINGS_ENV = "KETTLE_SERVER_SETTINGS"
#: Connections allowed by default, unless the open-file limit calls for fewer.
DEFAULT_LIMIT_CONNECTIONS = 4096
#: The environment variable telling :func:`proxied_app` which app to serve behind which
#: proxies, in every server process.
PROXY_ENV = "KETTLE_PROXIED_APP"


@dataclasses.dataclass(frozen=True, slots=True)
class ServerSettings:
    """What ``kettle run`` bounds at the connection level (its ``--timeout-*`` and
    ``--limit-*`` options).

    Attributes:
        timeout_head: seconds from a connection's opening, or from the first byte of a
            later request head, to the end of that head (408 and close past it).
        timeout_body: seconds from the end of the head to the end of the body, extended by
            one second per ``min_body_rate`` bytes received (408 and close past it, or
            just close once the response has started).
        min_body_rate: bytes per second that earn a slow body more time; ``0`` makes
            ``timeout_body`` a fixed deadline.
        timeout_keep_alive: seconds an idle connection is kept between requests.
        timeout_graceful_shutdown: seconds requests in progress get after SIGTERM before
            their connections are closed.
        drain_delay: seconds between SIGTERM (readiness failing) and the server closing
            its listening socket, so a load balancer notices and stops sending.
        limit_connections: open connections (HTTP and WebSocket); one more is answered 503
            and closed.
        limit_concurrency: HTTP requests being handled at once; one more is answered 503.
        max_head_size: bytes of one request head, and of one chunked body's trailers (431).
    """

    timeout_head: float = 10.0
    timeout_body: float = 20.0
    min_body_rate: float = 500.0
    timeout_keep_alive: float = 5.0
    timeout_graceful_shutdown: float = 30.0
    drain_delay: float = 0.0
    limit_connections: int = DEFAULT_LIMIT_CONNECTIONS
    limit_concurrency: int = 1024
    max_head_size: int = MAX_HEAD_SIZE

    def to_env(self) -> str:
        """These settings as the value of :data:`SETTINGS_ENV`."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_env(cls, text: str | None) -> ServerSettings:
        """The settings in :data:`SETTINGS_ENV`'s value, or the defaults when unset.

        Example:
            >>> ServerSettings.from_env(ServerSettings(timeout_head=2).to_env()).timeout_head
            2
        """
        return cls(**json.loads(text)) if text else cls()


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return the result.

    Every connection is a file descriptor: a soft limit of 1024 (a common default) would
    otherwise cap a server at about a thousand sockets, and past it ``accept()`` fails.
    Child processes (reload, workers) inherit the raised limit.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: no such limit to raise
        return 1 << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # pragma: no cover - macOS refuses an unlimited soft limit
            pass
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def default_connection_limit(open_files: int) -> int:
    """The default ``limit_connections`` for a process allowed ``open_files`` descriptors.

    A quarter of the descriptors (at least 64) stay free for everything else a server
    opens -- the listening socket, log files, uploads spooled to disk, database
    connections -- so accepting and refusing a connection never runs out of them.

    Example:
        >>> default_connection_limit(1024), default_connection_limit(1 << 20)
        (768, 4096)
    """
    spare = max(64, open_files // 4)
    return max(1, min(DEFAULT_LIMIT_CONNECTIONS, open_files - spare))


def http_protocol() -> str:
    """The uvicorn ``http=`` setting kettle serves with (an import string, so workers can
    import it too)."""
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        return "h11"
    return "kettle.server:BoundedHttpToolsProtocol"


def ws_protocol() -> str:
    """The uvicorn ``ws=`` setting: the implementation on the ``websockets`` library's
    Sans-I/O core, which stops inflating a compressed message once it passes
    ``ws_max_size`` (wsproto's inflates whatever arrives and checks the size afterwards)."""
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:  # pragma: no cover - websockets missing, or an older uvicorn
        return "auto"
    return "websockets-sansio"


def _response(status: bytes, reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b" " + reason + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(reason)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + reason
    )


_408 = _response(b"408", b"Request Timeout")
_431 = _response(b"431", b"Request Header Fields Too Large")
_503 = _response(b"503", b"Service Unavailable")

# What a connection's deadline currently applies to.
_IDLE, _HEAD, _BODY = 0, 1, 2


class _Shared:
    """State shared by the connections of one server process."""

    __slots__ = ("requests", "warned_at")

    def __init__(self) -> None:
        self.requests = 0  # HTTP requests whose app task is running
        self.warned_at: dict[str, float] = {}


@functools.cache
def protocol_class(settings: ServerSettings) -> type[Any]:
    """uvicorn's httptools protocol with ``settings`` applied (built once per settings)."""
    import contextvars

    from uvicorn.protocols.http.flow_control import service_unavailable
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    timeout_head = settings.timeout_head
    timeout_body = settings.timeout_body
    min_body_rate = settings.min_body_rate
    grace = settings.timeout_graceful_shutdown
    limit_connections = settings.limit_connections
    limit_concurrency = settings.limit_concurrency
    max_head = settings.max_head_size
    shared = _Shared()
    # PERF: the per-request overrides call these directly; super() costs twice as much
    # (0.29 against 0.13 us a call on the 2-core benchmark machine).
    parent_data_received = HttpToolsProtocol.data_received
    parent_on_headers_complete = HttpToolsProtocol.on_headers_complete
    parent_on_message_complete = HttpToolsProtocol.on_message_complete

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with kettle's bounds (see :mod:`kettle.server`)."""

        _in_head = True  # the next bytes received belong to a request head
        _in_chunk = False  # between a chunk's header and its end (or the trailers' end)
        _head_bytes = 0
        _trailer_bytes = 0
        _received = 0  # bytes received on this connection, for the body rate
        _phase = _IDLE
        _deadline = 0.0
        _timer: asyncio.TimerHandle | None = None
        _timer_at = 0.0
        _body_start = 0.0
        _body_mark = 0  # _received when the body clock (re)started
        _shutdown_timer: asyncio.TimerHandle | None = None
        _fresh_context = False

        # -- connections ----------------------------------------------------------------

        def connection_made(  # type: ignore[override]
            self, transport: asyncio.Transport
        ) -> None:
            if len(self.connections) >= limit_connections:
                # Refused before anything is parsed or allocated. The answer goes out at
                # once and the descriptor is freed with it, so refusing costs nothing
                # that a flood of connections could pile up. (close() also stops reading:
                # data_received is never called for this connection.)
                self.transport = transport
                self._warn("connections", "Connection limit (%d) reached: answering 503")
                transport.write(_503)
                transport.close()
                return
            super().connection_made(transport)
            # uvicorn's opt-in workaround for context variables leaking between tasks.
            self._fresh_context = getattr(self.config, "reset_contextvars", False)
            self._phase = _HEAD
            self._deadline = self.loop.time() + timeout_head
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._phase = _IDLE
            if self._timer is not None:
                self._timer.cancel()
            if self._shutdown_timer is not None:
                self._shutdown_timer.cancel()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self) -> None:
            # The WebSocket protocol takes the transport over (and has its own pings).
            self._phase = _IDLE
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            super().handle_websocket_upgrade()

        def shutdown(self) -> None:
            # uvicorn closes idle connections now and lets busy ones finish their
            # response; a client that never finishes sending its request would keep the
            # server waiting for ever. After the grace period it is closed.
            super().shutdown()
            if not self.transport.is_closing():
                self._shutdown_timer = self.loop.call_later(grace, self._shutdown_expired)

        def _shutdown_expired(self) -> None:
            self._shutdown_timer = None
            if not self.transport.is_closing():
                self.logger.info("Closing a connection still busy after the grace period")
                self._fail(_503 if self._can_answer_request() else None)

        # -- reads ------------------------------------------------------------------------

        def data_received(self, data: bytes) -> None:
            # PERF: per read, a few attribute operations and one C-speed find while in a
            # head; the timer is touched only when a deadline moved earlier.
            self._received += len(data)
            if self._in_head:
                if not self._phase:  # the first bytes of a later head: its clock starts
                    self._phase = _HEAD
                    self._deadline = self.loop.time() + timeout_head
                # Count up to the blank line that ends the head when this read holds it
                # (the rest is body), else the whole read.
                end = data.find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else end + 4
                if end >= 0 and self._head_bytes > max_head:
                    self._refuse_head()
                    return
                parent_data_received(self, data)
                # Still in the same head and over the bound. Judged after parsing, not
                # before: when the blank line is split across two reads ("\r\n\r" then
                # "\n" and a body), find() sees no end, yet the parser ends the head in
                # this read's first bytes and the rest is body. (The bound can be passed
                # by at most one read before this triggers.)
                if self._in_head and self._head_bytes > max_head:
                    if not self.transport.is_closing():
                        self._refuse_head()
                    return
            elif self._in_chunk:
                # Inside a chunk: its data, or -- after the last, empty chunk -- the
                # trailer section, which httptools buffers field by field without limit.
                # A read that adds no body while a chunk is open is trailer bytes.
                body = self.cycle.body
                size = len(body)
                parent_data_received(self, data)
                if self._in_chunk and len(body) == size:
                    self._trailer_bytes += len(data)
                    if self._trailer_bytes > max_head and not self.transport.is_closing():
                        self.logger.warning("Chunked trailers over %d bytes refused", max_head)
                        self._fail(_431 if self._can_answer_request() else None)
                        return
                else:
                    self._trailer_bytes = 0
            else:
                parent_data_received(self, data)
            phase = self._phase
            if phase:  # a head or a body is still on its way
                if phase == _BODY and not self._body_start:
                    # A body is expected (a bodiless request would be complete by now):
                    # its clock starts with the end of the head, in this read.
                    self._body_start = now = self.loop.time()
                    self._body_mark = self._received
                    self._deadline = now + timeout_body
                if self._timer is None or self._timer_at > self._deadline:
                    self._arm()

        def _refuse_head(self) -> None:
            self.logger.warning("Request head over %d bytes refused", max_head)
            self._fail(_431 if self._can_answer_head() else None)

        # -- parser callbacks ---------------------------------------------------------------

        def on_headers_complete(self) -> None:
            if self.parser.get_http_version() == "1.1" and not any(
                name == b"host" for name, _ in self.headers
            ):
                # RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. Raised in the
                # parser callback, it is uvicorn's answer to a malformed request (a 400,
                # then the connection closed); no app task starts.
                raise ValueError("HTTP/1.1 request without a Host header")
            self._in_head = False
            self._phase = _BODY
            self._body_start = 0.0  # started by data_received, if a body follows
            parent_on_headers_complete(self)

        def on_chunk_header(self) -> None:
            self._in_chunk = True
            self._trailer_bytes = 0
            if self.headers is self.scope["headers"]:
                # Trailers: llhttp reports them through on_header too, which appends to
                # self.headers -- the very list scope["headers"] holds. Before the first
                # chunk (so before any trailer) it becomes a private copy: no trailer
                # field ever reaches the app.
                self.headers = self.headers.copy()

        def on_chunk_complete(self) -> None:
            self._in_chunk = False

        def on_message_complete(self) -> None:
            parent_on_message_complete(self)
            # Whatever follows belongs to the next request's head; its clock starts with
            # its first byte (until then uvicorn's keep-alive timeout applies).
            self._in_head = True
            self._head_bytes = 0
            self._phase = _IDLE

        # -- requests in progress -------------------------------------------------------

        def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
            # uvicorn's own version of this method counts every app task (WebSocket
            # sessions too) and every connection against its limit_concurrency; this one
            # counts the HTTP requests being handled, so idle keep-alive connections and
            # open WebSockets never turn requests away.
            if shared.requests >= limit_concurrency:
                self._warn("requests", "Concurrency limit (%d) reached: answering 503")
                app = service_unavailable
            if self._fresh_context:
                task = self.loop.create_task(cycle.run_asgi(app), context=contextvars.Context())
            else:
                task = self.loop.create_task(cycle.run_asgi(app))
            shared.requests += 1
            task.add_done_callback(self._request_done)
            self.tasks.add(task)

        def _request_done(self, task: asyncio.Task[None]) -> None:
            shared.requests -= 1
            self.tasks.discard(task)

        # -- deadlines ----------------------------------------------------------------------

        def _arm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline = self._deadline
            self._timer = self.loop.call_at(deadline, self._on_timer)

        def _on_timer(self) -> None:
            self._timer = None
            phase = self._phase
            if not phase or self.transport.is_closing():
                return  # the request it was armed for finished; the next one re-arms
            now = self.loop.time()
            if phase == _BODY:
                cycle: RequestResponseCycle | None = self.cycle
                if self.flow.read_paused or (cycle and cycle.waiting_for_100_continue):
                    # The app, not the client, is holding the body back (it has not read
                    # what arrived, or not asked for it yet): the clock starts again.
                    self._body_start, self._body_mark = now, self._received
                    self._deadline = now + timeout_body
                elif min_body_rate:
                    earned = (self._received - self._body_mark) / min_body_rate
                    self._deadline = self._body_start + timeout_body + earned
            elif not self._can_answer_head():
                # A head (or a stray CRLF) sent ahead while the previous response is still
                # being produced: its clock waits until the connection is free again.
                self._deadline = now + timeout_head
            if now < self._deadline:
                self._arm()
            elif phase == _HEAD:
                # Silence on an idle connection is just closed; a partial head is answered.
                self._fail(_408 if self._head_bytes else None)
            else:
                self.logger.warning("Request body too slow: closing the connection")
                self._fail(_408 if self._can_answer_request() else None)

        # -- giving up on a connection -----------------------------------------------------

        def _can_answer_head(self) -> bool:
            """No response is being written: the previous one (if any) is complete."""
            cycle: RequestResponseCycle | None = self.cycle
            return not self.pipeline and (cycle is None or cycle.response_complete)

        def _can_answer_request(self) -> bool:
            """The current request's response has not started."""
            cycle: RequestResponseCycle | None = self.cycle
            return not self.pipeline and cycle is not None and not cycle.response_started

        def _fail(self, response: bytes | None) -> None:
            """Answer ``response`` (when given), stop the request's app and close."""
            transport = self.transport
            if response is not None:
                transport.write(response)
            cycle: RequestResponseCycle | None = self.cycle
            if cycle is not None and not cycle.response_complete:
                # What connection_lost would do, done now: the app's sends become no-ops
                # (nothing can follow the answer above) and a receive() returns
                # http.disconnect.
                cycle.disconnected = True
                cycle.message_event.set()
            if transport.get_write_buffer_size():
                transport.abort()  # a client that does not read gets no graceful close
            else:
                transport.close()

        def _warn(self, kind: str, message: str) -> None:
            # At most one line per kind every 10 s: a flood must not flood the log too.
            now = self.loop.time()
            if now - shared.warned_at.get(kind, -10.0) >= 10.0:
                shared.warned_at[kind] = now
                limit = limit_connections if kind == "connections" else limit_concurrency
                self.logger.warning(message, limit)

    return BoundedHttpToolsProtocol


def proxy_settings(target: str, factory: bool, proxies: list[str], style: str) -> str:
    """The value of :data:`PROXY_ENV` for :func:`proxied_app`.

    Example:
        >>> proxy_settings("web:app", False, ["10.0.0.5"], "x-forwarded")
        '{"target":"web:app","factory":false,"proxies":["10.0.0.5"],"style":"x-forwarded"}'
    """
    settings = {"target": target, "factory": factory, "proxies": proxies, "style": style}
    return json.dumps(settings, separators=(",", ":"))


def proxied_app() -> Any:
    """The app named in :data:`PROXY_ENV`, behind kettle's ``ProxyHeadersMiddleware``.

    ``kettle run --forwarded-allow-ips ... --workers N`` (or ``--reload``) gives uvicorn
    this factory, so that each server process imports the app by name, as it would
    without proxies, and wraps it with the same trust as a single process.
    """
    import importlib

    from kettle.middleware.proxy import ProxyHeadersMiddleware

    settings = json.loads(os.environ[PROXY_ENV])
    module_name, _, attr = settings["target"].partition(":")
    app: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        app = getattr(app, part)
    if settings["factory"]:
        app = app()
    return ProxyHeadersMiddleware(app, trusted_proxies=settings["proxies"], style=settings["style"])


def __getattr__(name: str) -> Any:
    # Built on first use so importing kettle never imports uvicorn's protocol modules.
    if name == "BoundedHttpToolsProtocol":
        settings = ServerSettings.from_env(os.environ.get(SETTINGS_ENV))
        # uvicorn imports this class in each server process (a worker, the reloaded
        # process, or the only one) from inside Server.serve, its signal handlers
        # installed: the moment to chain the drain in front of them, once per process.
        from kettle.shutdown import chain_signal_handlers

        chain_signal_handlers(settings.drain_delay)
        return protocol_class(settings)
    raise AttributeError(name)


def largest_websocket_message_size(app: Kettle) -> int:
    """The largest ``max_websocket_message_size`` any of ``app``'s WebSocket routes allows
    (the app-wide limit when it has none), so the server refuses nothing a route accepts."""
    sizes = [
        app.limits.merged(route.limits).max_websocket_message_size
        for route in app.compiled_routes
        if route.is_websocket
    ]
    return max(sizes, default=app.limits.max_websocket_message_size)


def server_access_log(app: Kettle) -> bool:
    """Whether uvicorn writes its own access lines: not when the app logs every request
    itself (``AccessLogMiddleware``), which would make two lines of each."""
    from kettle.middleware.accesslog import AccessLogMiddleware

    return not any(
        isinstance(layer.cls, type) and issubclass(layer.cls, AccessLogMiddleware)
        for layer in app.user_middleware
    )
