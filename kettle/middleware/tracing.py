"""OpenTelemetry tracing: one SERVER span per request, named by its route template.

:class:`TracingMiddleware` continues the trace a caller started (``traceparent`` and
``tracestate``, read by the globally configured propagator), opens a span named
``"{method} {route template}"`` with the HTTP semantic conventions' attributes, makes it
current while the app runs (so the app's own spans are its children), and ends it with the
response status: an error for a 5xx or an exception, whose traceback is recorded on the
span. WebSocket connections get a span too, for the whole connection.

It depends on ``opentelemetry-api`` only. Until an SDK is configured (a tracer provider set
with ``opentelemetry.trace.set_tracer_provider``, before the app starts or in its lifespan
startup) every request goes straight to the app: the decision is taken at startup, not per
request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import (
    NoOpTracerProvider,
    ProxyTracerProvider,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)

from kettle.types import ASGIApp, Message, RawHeaders, Receive, Scope, Send

__all__ = ["TRACE_ID_KEY", "TracingMiddleware"]

#: The scope key holding the request's trace id (32 hex digits) while its span records:
#: the access log reads it whichever middleware is outermost.
TRACE_ID_KEY: Final = "kettle.trace_id"

_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
_WEBSOCKET: Final = "WEBSOCKET"


class _HeaderGetter(Getter[RawHeaders]):
    """Reads propagation fields from ASGI's raw header list (names are lower-case)."""

    def get(self, carrier: RawHeaders, key: str) -> list[str] | None:
        name = key.lower().encode("latin-1")
        found = [value.decode("latin-1") for header, value in carrier if header == name]
        return found or None

    def keys(self, carrier: RawHeaders) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


_GETTER: Final = _HeaderGetter()


class _RecordOnSpan(logging.Filter):
    """Records on the current span the exceptions kettle logs as unhandled.

    Dispatch turns a handler's exception into a 500 before it reaches any middleware; it
    logs it (``kettle.error``) while the request's span is still current, so the traceback
    reaches the span here. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None:
            span = trace.get_current_span()
            if span.is_recording():
                span.record_exception(exc_info[1])
        return True


_RECORD_ON_SPAN: Final = _RecordOnSpan()


def _is_noop(provider: TracerProvider) -> bool:
    return isinstance(provider, ProxyTracerProvider | NoOpTracerProvider)


class TracingMiddleware:
    """Trace every HTTP request and WebSocket connection with OpenTelemetry.

    Args:
        app: the ASGI app to trace (``app.add_middleware`` passes it).
        tracer_provider: the provider to take the tracer from; the global one (set with
            ``opentelemetry.trace.set_tracer_provider``) by default.

    Attributes (HTTP semantic conventions): ``http.request.method``, ``url.path``,
    ``url.scheme``, ``http.route``, ``http.response.status_code``, ``server.address``,
    ``server.port``, ``client.address``, ``client.port``, ``user_agent.original``,
    ``network.protocol.version``, ``error.type``.

    Example:
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        ...     InMemorySpanExporter,
        ... )
        >>> from kettle import Kettle, TracingMiddleware
        >>> from kettle.testing import TestClient
        >>> exporter = InMemorySpanExporter()
        >>> provider = TracerProvider()
        >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
        >>> app = Kettle(__name__)
        >>> @app.get("/items/{item_id}")
        ... async def item(item_id: int) -> dict[str, int]:
        ...     return {"id": item_id}
        >>> app.add_middleware(TracingMiddleware, tracer_provider=provider)
        >>> TestClient(app).get("/items/7").status_code
        200
        >>> [span.name for span in exporter.get_finished_spans()]
        ['GET /items/{item_id}']
    """

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        self.tracer_provider = tracer_provider
        self.tracer: Tracer | None = None
        self._resolve()

    def _resolve(self) -> None:
        """Take the tracer, unless no SDK is configured (then every request skips it)."""
        if self.tracer is not None:
            return
        provider = self.tracer_provider or trace.get_tracer_provider()
        if _is_noop(provider):
            return
        self.tracer = provider.get_tracer("kettle")
        errors = logging.getLogger("kettle.error")
        if _RECORD_ON_SPAN not in errors.filters:
            errors.addFilter(_RECORD_ON_SPAN)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracer = self.tracer
        # PERF: no SDK configured, no work: one attribute test per request.
        if tracer is None:
            if scope["type"] == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        websocket = kind == "websocket"
        method = _WEBSOCKET if websocket else scope["method"]
        known = method in _METHODS or websocket
        headers: RawHeaders = scope["headers"]
        parent = propagate.extract(headers, getter=_GETTER)
        span = tracer.start_span(
            method if known else "HTTP", parent, kind=SpanKind.SERVER, record_exception=False
        )
        if span.is_recording():
            _start_attributes(span, scope, headers, "GET" if websocket else method, known)
            scope[TRACE_ID_KEY] = format(span.get_span_context().trace_id, "032x")
        # A WebSocket closed before its handshake was refused (403 for the client).
        status = 403 if websocket else 500
        closed_with = 1000

        # PERF: the server's awaitable handed back, no coroutine around it (errors.py)
        def traced_send(message: Message) -> Awaitable[None]:
            nonlocal status, closed_with
            kind = message["type"]
            if kind == "http.response.start" or kind == "websocket.http.response.start":
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close":
                closed_with = message.get("code", 1000)
            return send(message)

        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, traced_send)
        except BaseException as exc:
            if span.is_recording():
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, str(exc) or type(exc).__name__))
            raise
        else:
            if span.is_recording():
                span.set_attribute("http.response.status_code", status)
                if status >= 500 or closed_with == 1011:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
        finally:
            otel_context.detach(token)
            if span.is_recording():
                route = scope.get("route")
                if route is not None:
                    span.set_attribute("http.route", route.path)
                    span.update_name(f"{method if known else 'HTTP'} {route.path}")
            span.end()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def resolve_at_startup(message: Message) -> None:
            # An SDK configured in the app's lifespan startup is seen from here on.
            if message["type"] == "lifespan.startup.complete":
                self._resolve()
            await send(message)

        await self.app(scope, receive, resolve_at_startup)


def _start_attributes(
    span: Span, scope: Scope, headers: RawHeaders, method: str, known: bool
) -> None:
    attributes: dict[str, Any] = {
        "http.request.method": method if known else "_OTHER",
        "url.path": scope["path"],
        "url.scheme": scope.get("scheme", "http"),
    }
    if not known:
        attributes["http.request.method_original"] = method
    version = scope.get("http_version")
    if version:
        attributes["network.protocol.version"] = version
    host = None
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"user-agent":
            attributes["user_agent.original"] = value.decode("latin-1")
    if host:
        address, port = host, ""
        if host.rfind(":") > host.rfind("]"):  # a port, not the end of an IPv6 address
            address, _, port = host.rpartition(":")
        attributes["server.address"] = address.strip("[]")
        if port.isdigit():
            attributes["server.port"] = int(port)
    else:
        server = scope.get("server")
        if server:
            attributes["server.address"] = server[0]
            if server[1] is not None:
                attributes["server.port"] = server[1]
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
        attributes["client.port"] = client[1]
    span.set_attributes(attributes)
