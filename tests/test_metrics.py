"""MetricsMiddleware through the test client: labels, gauges and the scrape endpoint."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from kettle import Kettle, MetricsMiddleware, WebSocket
from kettle.exceptions import ConfigurationError
from kettle.middleware.metrics import UNMATCHED, RequestSeries
from kettle.sse import EventSourceResponse
from kettle.testing import TestClient

REQUESTS = "kettle_http_requests"
DURATION = "kettle_http_request_duration_seconds"


def make_app(registry: CollectorRegistry, **options: Any) -> Kettle:
    app = Kettle(__name__)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.route("/users/<int:user_id>", methods=["GET", "POST"])
    def user(user_id: int) -> dict[str, int]:
        return {"user": user_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/busy")
    async def busy() -> dict[str, float | None]:
        return {"in_flight": registry.get_sample_value("kettle_http_requests_in_flight")}

    @app.get("/events")
    async def events() -> Any:
        async def stream() -> AsyncIterator[dict[str, float | None]]:
            yield {"open": registry.get_sample_value("kettle_sse_connections")}

        return EventSourceResponse(stream())

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(registry.get_sample_value("kettle_websocket_connections"))

    app.add_middleware(MetricsMiddleware, registry=registry, **options)
    return app


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by its name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def labels(method: str, route: str, status: int) -> tuple[tuple[str, str], ...]:
    return (("method", method), ("route", route), ("status", str(status)))


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/items/1", "/items/{item_id}", 200),
        ("GET", "/items/2", "/items/{item_id}", 200),
        ("GET", "/items/x", "/items/{item_id}", 422),
        ("POST", "/users/5", "/users/<int:user_id>", 200),
        ("GET", "/no/such/page", UNMATCHED, 404),
        ("GET", "/another-miss", UNMATCHED, 404),
        ("DELETE", "/items/1", UNMATCHED, 405),
        ("BREW", "/items/1", UNMATCHED, 405),
        ("GET", "/boom", "/boom", 500),
    ],
)
def test_requests_are_labelled_by_route_template_and_status(
    registry: CollectorRegistry, method: str, path: str, route: str, status: int
) -> None:
    client = TestClient(make_app(registry, path="/metrics"), raise_server_exceptions=False)
    for _ in range(3):
        assert client.request(method, path).status_code == status
    found = samples(client.get("/metrics").text)
    label_method = method if method != "BREW" else "OTHER"
    assert found[(f"{REQUESTS}_total", labels(label_method, route, status))] == 3
    assert found[(f"{DURATION}_count", labels(label_method, route, status))] == 3
    # One series: the raw path never becomes a label, and the scrape itself is not counted.
    assert len([key for key in found if key[0] == f"{REQUESTS}_total"]) == 1


def test_many_paths_of_one_route_make_one_series(registry: CollectorRegistry) -> None:
    client = TestClient(make_app(registry, path="/metrics"))
    for number in range(50):
        client.get(f"/items/{number}")
        client.get(f"/missing/{number}")
    found = samples(client.get("/metrics").text)
    series = {pairs for name, pairs in found if name == f"{REQUESTS}_total"}
    assert series == {labels("GET", "/items/{item_id}", 200), labels("GET", UNMATCHED, 404)}


def test_in_flight_gauge_counts_the_request_being_answered(registry: CollectorRegistry) -> None:
    client = TestClient(make_app(registry, path="/metrics"))
    assert client.get("/busy").json() == {"in_flight": 1.0}
    assert samples(client.get("/metrics").text)[("kettle_http_requests_in_flight", ())] == 0


def test_sse_streams_are_counted_while_open_and_not_timed(registry: CollectorRegistry) -> None:
    client = TestClient(make_app(registry, path="/metrics"))
    response = client.get("/events")
    assert 'data: {"open":1.0}' in response.text
    found = samples(client.get("/metrics").text)
    assert found[("kettle_sse_connections", ())] == 0
    assert found[(f"{REQUESTS}_total", labels("GET", "/events", 200))] == 1
    assert found[(f"{DURATION}_count", labels("GET", "/events", 200))] == 0


def test_websocket_gauge_counts_open_connections(registry: CollectorRegistry) -> None:
    client = TestClient(make_app(registry, path="/metrics"))
    with client.websocket_connect("/ws") as session:
        assert session.receive_json() == 1.0
    found = samples(client.get("/metrics").text)
    assert found[("kettle_websocket_connections", ())] == 0
    # A WebSocket is a connection, not an HTTP request.
    assert not [key for key in found if key[0] == f"{REQUESTS}_total"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("", "text/plain; version=0.0.4; charset=utf-8"),
        ("text/plain", "text/plain; version=0.0.4; charset=utf-8"),
        ("application/openmetrics-text; version=1.0.0", "application/openmetrics-text"),
    ],
)
def test_scrape_answers_in_the_format_asked_for(
    registry: CollectorRegistry, accept: str, media_type: str
) -> None:
    client = TestClient(make_app(registry, path="/metrics"))
    client.get("/items/1")
    response = client.get("/metrics", headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["cache-control"] == "no-store"
    assert "kettle_http_requests" in response.text


@pytest.mark.parametrize(("path", "other"), [("/metrics", "/stats"), ("/ops/stats", "/metrics")])
def test_scrape_path_is_configurable_and_outside_the_openapi_document(
    registry: CollectorRegistry, path: str, other: str
) -> None:
    client = TestClient(make_app(registry, path=path))
    assert client.get(path).status_code == 200
    assert client.head(path).content == b""
    assert client.get(other).status_code == 404
    # Another method is the app's to answer: no route there.
    assert client.post(path).status_code == 404
    assert path not in client.get("/openapi.json").json()["paths"]


def test_without_a_path_nothing_is_served_but_metrics_are_kept(
    registry: CollectorRegistry,
) -> None:
    client = TestClient(make_app(registry))
    assert client.get("/metrics").status_code == 404
    value = registry.get_sample_value(f"{REQUESTS}_total", dict(labels("GET", UNMATCHED, 404)))
    assert value == 1


@pytest.mark.parametrize(
    "options", [{"path": "metrics"}, {"namespace": "my-app"}, {"namespace": "1app"}]
)
def test_bad_options_are_configuration_errors(options: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        MetricsMiddleware(Kettle(__name__), **options)


def test_namespace_prefixes_every_metric(registry: CollectorRegistry) -> None:
    client = TestClient(make_app(registry, path="/metrics", namespace="shop"))
    client.get("/items/1")
    names = {name for name, _ in samples(client.get("/metrics").text)}
    assert "shop_http_requests_total" in names
    assert not [name for name in names if name.startswith("kettle_")]


def _exposition_without_created_times(registry: CollectorRegistry, openmetrics: bool) -> str:
    from prometheus_client import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

    text = (openmetrics_latest if openmetrics else generate_latest)(registry).decode()
    return re.sub(r"(_created\{[^}]*\}) \S+", r"\1 T", text)


@pytest.mark.parametrize("openmetrics", [False, True])
def test_the_one_process_series_expose_what_prometheus_clients_own_metrics_do(
    openmetrics: bool,
) -> None:
    # kettle keeps a single process's request numbers itself (no locks); a scrape must not
    # be able to tell: the same families, samples, bucket edges and values.
    from prometheus_client import Counter, Histogram

    ours = CollectorRegistry()
    series = RequestSeries(
        "app_http_requests", "app_http_request_duration_seconds", Histogram.DEFAULT_BUCKETS
    )
    ours.register(series)
    helps = [family.documentation for family in series.describe()]
    labels = ("method", "route", "status")
    theirs = CollectorRegistry()
    counter = Counter("app_http_requests", helps[0], labels, registry=theirs)
    histogram = Histogram("app_http_request_duration_seconds", helps[1], labels, registry=theirs)
    for seconds, status in [(0.003, 200), (0.2, 200), (7.0, 500), (100.0, 200), (0.005, 200)]:
        counter.labels("GET", "/x", str(status)).inc()
        histogram.labels("GET", "/x", str(status)).observe(seconds)
        series.series(("GET", "/x", status)).count_and_time(seconds)
    assert _exposition_without_created_times(ours, openmetrics) == (
        _exposition_without_created_times(theirs, openmetrics)
    )


@pytest.mark.parametrize("buckets", [(1.0, 0.5), (0.1, 0.1, 1.0)])
def test_histogram_buckets_must_increase(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ConfigurationError, match="increasing"):
        RequestSeries("a", "b", buckets)
