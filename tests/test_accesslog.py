"""AccessLogMiddleware: request ids (honoured, replaced, echoed), access records, JSON lines."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from kettle import AccessLogMiddleware, Kettle, Request, TracingMiddleware, WebSocket
from kettle.middleware.accesslog import (
    MAX_REQUEST_ID,
    JSONFormatter,
    RequestIdFilter,
    configure_logging,
    current_request_id,
)
from kettle.testing import TestClient

GENERATED = re.compile(r"[0-9a-f]{32}")
app_logger = logging.getLogger("tests.accesslog.app")


def make_app(**options: object) -> Kettle:
    app = Kettle(__name__)

    @app.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, object]:
        app_logger.info("loading item %d", item_id)
        return {"state": request.state.request_id, "current": current_request_id()}

    @app.get("/sync")
    def sync() -> dict[str, str | None]:
        # A plain def runs in the thread pool: the id follows it there.
        return {"current": current_request_id()}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json([websocket.state.request_id, current_request_id()])

    app.add_middleware(AccessLogMiddleware, **options)
    return app


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "kettle.access"]


@pytest.mark.parametrize(
    "given",
    ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "a" * MAX_REQUEST_ID, "k=v:1/2.3_~+@"],
)
def test_a_sane_request_id_is_honoured_everywhere(
    access: pytest.LogCaptureFixture, given: str
) -> None:
    response = TestClient(make_app()).get("/items/3", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given
    assert response.json() == {"state": given, "current": given}
    (record,) = access_records(access)
    assert record.request_id == given  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "hostile",
    [
        b"",
        b"a" * (MAX_REQUEST_ID + 1),
        b"x" * 10_000,
        b"abc\x00def",
        b"abc\x1b[31mred",
        b"abc\tdef",
        b"two words",
        b'quote"d',
        b"caf\xc3\xa9",
        b"\xff\xfe",
        b"<script>",
        b"a,b",
        b"{json}",
    ],
)
def test_a_hostile_request_id_is_replaced(access: pytest.LogCaptureFixture, hostile: bytes) -> None:
    client = TestClient(make_app())
    response = client.get("/items/3", headers=[(b"x-request-id", hostile)])
    replaced = response.headers["x-request-id"]
    assert GENERATED.fullmatch(replaced)
    assert response.json() == {"state": replaced, "current": replaced}
    assert response.headers.get_list("x-request-id") == [replaced]
    (record,) = access_records(access)
    assert record.request_id == replaced  # type: ignore[attr-defined]


def test_without_the_header_each_request_gets_a_new_id() -> None:
    client = TestClient(make_app())
    ids = {client.get("/items/1").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(GENERATED.fullmatch(value) for value in ids)


@pytest.mark.parametrize(
    ("options", "header", "honoured"),
    [
        ({"trust_header": False}, "X-Request-ID", False),
        ({"header": "X-Correlation-ID"}, "X-Correlation-ID", True),
        ({"header": "X-Correlation-ID"}, "X-Request-ID", False),
    ],
)
def test_header_options(options: dict[str, object], header: str, honoured: bool) -> None:
    response = TestClient(make_app(**options)).get("/items/1", headers={header: "given-1"})
    assert (response.json()["state"] == "given-1") is honoured
    echoed = str(options.get("header", "X-Request-ID"))
    assert response.headers[echoed] == response.json()["state"]


def test_the_id_reaches_sync_handlers_and_websockets() -> None:
    client = TestClient(make_app())
    rid = "from-client"
    assert client.get("/sync", headers={"X-Request-ID": rid}).json() == {"current": rid}
    with client.websocket_connect("/ws", headers={"X-Request-ID": rid}) as session:
        assert session.receive_json() == [rid, rid]
    assert current_request_id() is None


@pytest.mark.parametrize(
    ("method", "path", "status", "route"),
    [
        ("GET", "/items/5", 200, "/items/{item_id}"),
        ("GET", "/items/x", 422, "/items/{item_id}"),
        ("GET", "/missing", 404, None),
        ("POST", "/items/5", 405, None),
    ],
)
def test_one_access_record_per_request_with_its_fields(
    access: pytest.LogCaptureFixture, method: str, path: str, status: int, route: str | None
) -> None:
    response = TestClient(make_app()).request(method, path)
    (record,) = access_records(access)
    fields = record.__dict__
    assert fields["method"] == method
    assert fields["path"] == path
    assert fields["route"] == route
    assert fields["status"] == status
    assert fields["bytes"] == len(response.content)
    assert fields["client"] == "testclient"
    assert fields["duration_ms"] >= 0
    assert fields["trace_id"] is None
    assert record.getMessage().startswith(f'testclient "{method} {path}" {status} ')


def test_the_apps_own_log_lines_carry_the_request_id() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(request_id)s %(name)s %(message)s"))
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    try:
        TestClient(make_app()).get("/items/9", headers={"X-Request-ID": "rid-9"})
        app_logger.info("outside")
    finally:
        app_logger.removeHandler(handler)
        app_logger.setLevel(logging.NOTSET)
    assert out.getvalue().splitlines() == [
        "rid-9 tests.accesslog.app loading item 9",
        "None tests.accesslog.app outside",
    ]


@pytest.mark.parametrize("outermost", ["tracing", "accesslog"])
def test_json_lines_carry_the_trace_id_when_traced(outermost: str) -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"ok": "yes"}

    provider = TracerProvider()
    layers = [(TracingMiddleware, {"tracer_provider": provider}), (AccessLogMiddleware, {})]
    if outermost == "accesslog":
        layers.reverse()
    for cls, options in reversed(layers):  # the last added is the outermost
        app.add_middleware(cls, **options)
    out = io.StringIO()
    handler = configure_logging(json=True, stream=out)
    try:
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        TestClient(app).get("/", headers={"traceparent": traceparent, "X-Request-ID": "r1"})
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    (entry,) = [line for line in lines if line["logger"] == "kettle.access"]
    assert entry["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert entry["request_id"] == "r1"
    assert {"time", "level", "message", "method", "path", "route", "status"} <= entry.keys()
    assert (entry["route"], entry["status"], entry["level"]) == ("/", 200, "INFO")


def test_json_formatter_writes_the_traceback() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == "failed"
    assert "ValueError: bad" in entry["exception"]


def test_nothing_is_built_when_the_access_logger_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="kettle.access")
    response = TestClient(make_app()).get("/items/1")
    assert response.status_code == 200
    assert not access_records(caplog)
    assert GENERATED.fullmatch(response.headers["x-request-id"])
