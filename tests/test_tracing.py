"""TracingMiddleware with the real OpenTelemetry SDK and its in-memory span exporter."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, SpanKind, StatusCode

from kettle import HTTPException, Kettle, TracingMiddleware, WebSocket
from kettle.testing import TestClient

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def make_app(provider: Any) -> Kettle:
    app = Kettle(__name__)
    inner = (provider or trace.get_tracer_provider()).get_tracer("app")

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        # The app's own span is a child of the request's.
        with inner.start_as_current_span("load item"):
            return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise HTTPException(503)

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(room)

    app.add_middleware(TracingMiddleware, tracer_provider=provider)
    return app


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]


def test_a_request_gets_a_server_span_with_the_http_attributes(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    client = TestClient(make_app(provider))
    response = client.get("/items/7?q=1", headers={"user-agent": "probe/1.0"})
    assert response.status_code == 200
    (span,) = server_spans(exporter)
    assert span.name == "GET /items/{item_id}"
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/items/7",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "server.address": "testserver",
        "user_agent.original": "probe/1.0",
        "client.address": "testclient",
        "client.port": 50000,
        "http.route": "/items/{item_id}",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET
    (child,) = [s for s in exporter.get_finished_spans() if s.name == "load item"]
    assert child.parent is not None
    assert child.parent.span_id == span.context.span_id


@pytest.mark.parametrize("tracestate", [None, "vendor=abc"])
def test_the_callers_trace_is_continued_from_traceparent(
    provider: TracerProvider, exporter: InMemorySpanExporter, tracestate: str | None
) -> None:
    headers = {"traceparent": TRACEPARENT}
    if tracestate:
        headers["tracestate"] = tracestate
    TestClient(make_app(provider)).get("/items/1", headers=headers)
    (span,) = server_spans(exporter)
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert span.parent.is_remote
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert (span.context.trace_state.to_header() or None) == tracestate


@pytest.mark.parametrize(
    "traceparent", ["garbage", "00-" + "0" * 32 + "-" + PARENT_ID + "-01", "00-abc-def-01"]
)
def test_an_invalid_traceparent_starts_a_new_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter, traceparent: str
) -> None:
    TestClient(make_app(provider)).get("/items/1", headers={"traceparent": traceparent})
    (span,) = server_spans(exporter)
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [("/teapot", 418, False), ("/unavailable", 503, True), ("/boom", 500, True)],
)
def test_server_errors_mark_the_span(
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    path: str,
    status: int,
    error: bool,
) -> None:
    client = TestClient(make_app(provider), raise_server_exceptions=False)
    assert client.get(path).status_code == status
    (span,) = server_spans(exporter)
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == status
    assert (span.status.status_code is StatusCode.ERROR) == error
    assert ("error.type" in span.attributes) == error


def test_an_unhandled_exception_is_recorded_on_the_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    TestClient(make_app(provider), raise_server_exceptions=False).get("/boom")
    (span,) = server_spans(exporter)
    (event,) = [event for event in span.events if event.name == "exception"]
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "RuntimeError"
    assert event.attributes["exception.message"] == "kaboom"


@pytest.mark.parametrize(
    ("method", "name", "attribute"), [("GET", "GET", "GET"), ("BREW", "HTTP", "_OTHER")]
)
def test_unmatched_requests_are_named_by_method_only(
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
    method: str,
    name: str,
    attribute: str,
) -> None:
    TestClient(make_app(provider)).request(method, "/no/such/page")
    (span,) = server_spans(exporter)
    assert span.name == name
    assert span.attributes is not None
    assert span.attributes["http.request.method"] == attribute
    assert "http.route" not in span.attributes


def test_a_websocket_connection_gets_a_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    client = TestClient(make_app(provider))
    with client.websocket_connect("/ws/lobby", headers={"traceparent": TRACEPARENT}) as session:
        assert session.receive_text() == "lobby"
    (span,) = server_spans(exporter)
    assert span.name == "WEBSOCKET /ws/{room}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/ws/{room}"
    assert span.attributes["url.scheme"] == "ws"
    assert span.attributes["http.response.status_code"] == 101
    assert format(span.context.trace_id, "032x") == TRACE_ID


@pytest.mark.parametrize("configured", [None, NoOpTracerProvider()])
def test_without_an_sdk_nothing_is_traced(configured: Any) -> None:
    # No global provider is set in the test process: the middleware keeps no tracer.
    app = make_app(configured)
    client = TestClient(app)
    assert client.get("/items/1").json() == {"id": 1}
    middleware = app.user_middleware[0].build(app)
    assert isinstance(middleware, TracingMiddleware)
    assert middleware.tracer is None
