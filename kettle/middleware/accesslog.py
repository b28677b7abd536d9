"""Access logs and request ids, on the standard ``logging`` module.

:class:`AccessLogMiddleware` gives every request an id (the client's ``X-Request-ID`` when
it is a sane token, a new random one otherwise), echoes it on the response, hands it to
the app (``request.state.request_id``, :func:`current_request_id`) and, once the response
is sent, writes one record to the ``kettle.access`` logger: method, path, route template,
status, duration, bytes sent, client address, request id and, when the request is traced,
its trace id.

Logging stays the app's to configure. :class:`RequestIdFilter` on a handler gives every
record it handles (the app's own ``logger.info`` lines too) a ``request_id`` attribute,
and :class:`JSONFormatter` writes records as JSON lines; :func:`configure_logging` sets
both up on the root logger in one call.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import sys
import time
from collections.abc import Awaitable
from typing import IO, Any, Final

import orjson
from opentelemetry import trace

from kettle.middleware.tracing import TRACE_ID_KEY
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_LOGGER",
    "AccessLogMiddleware",
    "JSONFormatter",
    "RequestIdFilter",
    "configure_logging",
    "current_request_id",
]

#: The logger access records go to.
ACCESS_LOGGER: Final = "kettle.access"
#: The longest client-supplied request id kept; a longer one is replaced.
MAX_REQUEST_ID: Final = 128
# What a request id may hold: a token that is safe in a header, a log line and a JSON
# string as it is (no spaces, quotes, control characters or non-ASCII).
_SAFE_ID = re.compile(rb"[A-Za-z0-9._~:+=/@-]{1,%d}" % MAX_REQUEST_ID)
# The fields an access record carries, beside the message (LogRecord attributes).
_FIELDS: Final = (
    "request_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "bytes",
    "client",
    "trace_id",
)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kettle_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being answered (``None`` outside one, or without
    :class:`AccessLogMiddleware`).

    Example:
        >>> current_request_id() is None
        True
    """
    return _request_id.get()


def accept_request_id(value: bytes | None) -> str:
    """``value`` (a client's ``X-Request-ID``) if it is a sane token, else a new id.

    Example:
        >>> accept_request_id(b"abc-123")
        'abc-123'
        >>> len(accept_request_id(b"bad id\\n"))
        32
    """
    if value is not None and _SAFE_ID.fullmatch(value):
        return value.decode("ascii")
    return secrets.token_hex(16)


class AccessLogMiddleware:
    """Give each request an id and log one record for it once it is answered.

    Args:
        app: the ASGI app (``app.add_middleware`` passes it).
        logger: the logger records go to (``kettle.access``).
        header: the request id header, read from the request and set on the response.
        trust_header: take the client's id when it is sane; ``False`` always makes a new
            one (when nothing in front of the app sets the header for it).

    The record's message reads ``127.0.0.1 "GET /items/7" 200 10B 0.42ms``; its fields
    (``request_id``, ``method``, ``path``, ``route``, ``status``, ``duration_ms``,
    ``bytes``, ``client``, ``trace_id``) are attributes of the record, which
    :class:`JSONFormatter` writes out. WebSocket connections get an id, not a record.

    Example:
        >>> from kettle import AccessLogMiddleware, Kettle, Request
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/")
        ... async def home(request: Request) -> dict[str, str]:
        ...     return {"id": request.state.request_id}
        >>> app.add_middleware(AccessLogMiddleware)
        >>> response = TestClient(app).get("/", headers={"X-Request-ID": "abc-123"})
        >>> response.json(), response.headers["x-request-id"]
        ({'id': 'abc-123'}, 'abc-123')
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        logger: str | logging.Logger = ACCESS_LOGGER,
        header: str = "X-Request-ID",
        trust_header: bool = True,
    ) -> None:
        self.app = app
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
        self.header = header.lower().encode("latin-1")
        self.trust_header = trust_header

    def _request_id(self, scope: Scope) -> str:
        given = None
        if self.trust_header:
            wanted = self.header
            for name, value in scope["headers"]:
                if name == wanted:
                    given = value
                    break
        request_id = accept_request_id(given)
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["request_id"] = request_id
        return request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                token = _request_id.set(self._request_id(scope))
                try:
                    await self.app(scope, receive, send)
                finally:
                    _request_id.reset(token)
            else:
                await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        echoed = (self.header, request_id.encode("ascii"))
        status = 500
        sent = 0

        # PERF: the server's awaitable handed back, no coroutine around it (errors.py)
        def logged_send(message: Message) -> Awaitable[None]:
            nonlocal status, sent
            kind = message["type"]
            if kind == "http.response.body":
                sent += len(message.get("body", b""))
            elif kind == "http.response.start":
                status = message["status"]
                wanted = self.header
                headers = [h for h in message.get("headers", ()) if h[0] != wanted]
                headers.append(echoed)
                message["headers"] = headers
            return send(message)

        token = _request_id.set(request_id)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, logged_send)
        finally:
            duration = (time.perf_counter() - start) * 1000
            _request_id.reset(token)
            if self.logger.isEnabledFor(logging.INFO):
                self._log(scope, request_id, status, sent, duration)

    def _log(self, scope: Scope, request_id: str, status: int, sent: int, duration: float) -> None:
        route = scope.get("route")
        client = scope.get("client")
        address = client[0] if client else None
        method: str = scope["method"]
        path: str = scope["path"]
        fields = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "route": route.path if route is not None else None,
            "status": status,
            "duration_ms": round(duration, 3),
            "bytes": sent,
            "client": address,
            "trace_id": scope.get(TRACE_ID_KEY),
        }
        logger = self.logger
        # PERF: the record is made here rather than by logger.info(), which looks for the
        # caller's frame and file on every record (~1 us); the source is always this line.
        record = logging.getLogRecordFactory()(
            logger.name,
            logging.INFO,
            __file__,
            0,
            '%s "%s %s" %d %dB %.2fms',
            (address or "-", method, path, status, sent, duration),
            None,
        )
        record.__dict__.update(fields)
        logger.handle(record)


class RequestIdFilter(logging.Filter):
    """Give every record the ``request_id`` (and ``trace_id``) of the request being
    answered, ``None`` outside one. Add it to a handler, so records of every logger
    that handler writes carry it. It never drops a record.

    Example:
        >>> import logging
        >>> handler = logging.StreamHandler()
        >>> handler.addFilter(RequestIdFilter())
        >>> handler.setFormatter(logging.Formatter("[%(request_id)s] %(message)s"))
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        if not hasattr(record, "trace_id"):
            context = trace.get_current_span().get_span_context()
            record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        return True


class JSONFormatter(logging.Formatter):
    """Write each record as one JSON object on one line: ``time`` (UTC, ISO 8601),
    ``level``, ``logger``, ``message``, the access fields a record has, and
    ``exception`` (the formatted traceback) when one is attached.

    Example:
        >>> import logging
        >>> record = logging.LogRecord("app", logging.INFO, __file__, 1, "hi %s", ("you",), None)
        >>> record.created, record.msecs = 0.0, 0.0
        >>> JSONFormatter().format(record)
        '{"time":"1970-01-01T00:00:00.000Z","level":"INFO","logger":"app","message":"hi you"}'
    """

    # PERF: the formatted second is kept for the next record (strftime is ~1 us a call).
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        entry: dict[str, Any] = {
            "time": f"{cached[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        values = record.__dict__
        for field in _FIELDS:
            value = values.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(
    *, json: bool = False, level: int | str = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Send log records of ``level`` and above to ``stream`` (stderr), each carrying its
    request id: as JSON lines with ``json=True``, as text lines otherwise. Returns the
    handler added to the root logger (remove it to undo).

    Example:
        >>> import io, logging
        >>> out = io.StringIO()
        >>> handler = configure_logging(json=True, stream=out)
        >>> logging.getLogger("app").info("ready")
        >>> '"message":"ready"' in out.getvalue()
        True
        >>> logging.getLogger().removeHandler(handler)
        >>> logging.getLogger().setLevel(logging.WARNING)
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    if json:
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
