"""Prometheus metrics for an app: requests, latency, in-flight requests, open connections.

:class:`MetricsMiddleware` counts every HTTP request by method, **route template** (the
``/items/{id}`` a request matched, never its raw path, so the number of series stays
bounded; requests no route takes share the label :data:`UNMATCHED`) and status, times it
in a histogram, and keeps gauges of requests in flight and of open WebSocket and
Server-Sent Events connections. The route is read from ``scope["route"]``, which dispatch
sets before the handler runs, once the app has answered.

With ``path="/metrics"`` it also answers scrapes there (GET or HEAD; the route is not part
of the app, so it stays out of the OpenAPI document).

Several worker processes (``kettle run --workers N``) each count their own requests; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before the server starts and every
worker writes its values there (``prometheus_client``'s multiprocess mode), and a scrape
of any worker adds them up. The gauges count live workers only: a worker removes its own
files at lifespan shutdown, and a scrape removes those of workers that died without one.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import re
import time
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.utils import floatToGoString

from kettle.exceptions import ConfigurationError
from kettle.routing.rootpath import route_path
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MULTIPROC_ENV", "UNMATCHED", "MetricsMiddleware"]

#: The ``route`` label of requests no route takes (404, 405, redirects, mounted apps).
UNMATCHED: Final = "<unmatched>"
#: The variable that turns on ``prometheus_client``'s multiprocess mode.
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

# A client may send any method name: anything else is one label, so series stay bounded.
_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
_OTHER_METHOD: Final = "OTHER"
_SCRAPE: Final = frozenset({"GET", "HEAD"})
_EVENT_STREAM: Final = b"text/event-stream"
_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# A live gauge's file in the multiprocess directory: gauge_livesum_1234.db and the like.
_LIVE_FILE_RE = re.compile(r"gauge_live[a-z]*_(\d+)\.db")


class MetricsMiddleware:
    """Record Prometheus metrics for every request, and serve them at ``path`` if given.

    Args:
        app: the ASGI app to measure (``app.add_middleware`` passes it).
        path: where to answer scrapes (``"/metrics"``); ``None`` serves nothing, for an
            app that exposes ``registry`` itself.
        namespace: the metric names' prefix (``kettle_http_requests_total``...).
        registry: where the metrics are registered; a new registry of the middleware's
            own by default, so two apps in one process do not collide.
        buckets: the latency histogram's upper bounds, in seconds.

    Metrics: ``{namespace}_http_requests_total`` and
    ``{namespace}_http_request_duration_seconds`` (labels ``method``, ``route``,
    ``status``; Server-Sent Events streams are counted but not timed: their length is the
    client's, not the app's), ``{namespace}_http_requests_in_flight``,
    ``{namespace}_websocket_connections`` and ``{namespace}_sse_connections``.

    Example:
        >>> from kettle import Kettle, MetricsMiddleware
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/items/{item_id}")
        ... async def item(item_id: int) -> dict[str, int]:
        ...     return {"id": item_id}
        >>> app.add_middleware(MetricsMiddleware, path="/metrics")
        >>> client = TestClient(app)
        >>> client.get("/items/7").status_code
        200
        >>> [line for line in client.get("/metrics").text.splitlines()
        ...  if line.startswith("kettle_http_requests_total")]
        ['kettle_http_requests_total{method="GET",route="/items/{item_id}",status="200"} 1.0']
    """

    def __init__(
        self,
        app: ASGIApp,
        path: str | None = None,
        *,
        namespace: str = "kettle",
        registry: CollectorRegistry | None = None,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> None:
        if path is not None and not path.startswith("/"):
            raise ConfigurationError(f"MetricsMiddleware path {path!r} must start with '/'")
        if not _NAME_RE.fullmatch(namespace):
            raise ConfigurationError(
                f"MetricsMiddleware namespace {namespace!r} is not a metric name"
            )
        self.app = app
        self.path = path
        self.registry = registry if registry is not None else CollectorRegistry()
        # Decided once: prometheus_client itself picks its value storage at import.
        directory = os.environ.get(MULTIPROC_ENV)
        self.multiprocess_dir = Path(directory) if directory else None
        registry = self.registry
        names = (f"{namespace}_http_requests", f"{namespace}_http_request_duration_seconds")
        #: the request counter and latency histogram: ``prometheus_client``'s own under
        #: several processes (they share values through its files), else kettle's
        #: :class:`RequestSeries`, exposed by a collector of its own
        self.requests: Counter | None = None
        self.duration: Histogram | None = None
        # PERF: in one process, a request adds to plain numbers (0.05 us) instead of a
        # locked counter and a locked histogram (0.25 + 0.48 us on the benchmark machine).
        self._collector: RequestSeries | None = None
        if self.multiprocess_dir is None:
            self._collector = RequestSeries(*names, buckets)
            registry.register(self._collector)
        else:
            self.requests = Counter(names[0], _REQUESTS_HELP, _LABELS, registry=registry)
            self.duration = Histogram(
                names[1], _DURATION_HELP, _LABELS, registry=registry, buckets=tuple(buckets)
            )
        # livesum: under several workers, the sum over the workers still running.
        self.in_flight = Gauge(
            f"{namespace}_http_requests_in_flight",
            "HTTP requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.websockets = Gauge(
            f"{namespace}_websocket_connections",
            "Open WebSocket connections (accepted, not yet closed).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.sse = Gauge(
            f"{namespace}_sse_connections",
            "Open Server-Sent Events streams.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        # PERF: in one process, the gauges read plain counters (0.05 us a change instead
        # of 0.57 for a locked gauge value); several processes share values through
        # prometheus_client's files, so there each change goes to the gauge itself.
        self._in_flight: _Tally | Gauge = self.in_flight
        self._websockets: _Tally | Gauge = self.websockets
        self._sse: _Tally | Gauge = self.sse
        if self.multiprocess_dir is None:
            self._in_flight, self._websockets, self._sse = _Tally(), _Tally(), _Tally()
            self.in_flight.set_function(self._in_flight.get)
            self.websockets.set_function(self._websockets.get)
            self.sse.set_function(self._sse.get)
        # PERF: one series per label set, looked up in a dict, instead of .labels()
        # (which takes a lock and validates) on every request.
        self._series: dict[tuple[str, str, int], _Series] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = self.path
            if (
                path is not None
                and scope["method"] in _SCRAPE
                and route_path(scope["path"], scope.get("root_path")) == path
            ):
                await self._serve(scope, send)
                return
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan" and self.multiprocess_dir is not None:
            await self._lifespan(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        streams_events = False

        # PERF: the server's awaitable handed back, no coroutine around it (errors.py)
        def measured_send(message: Message) -> Awaitable[None]:
            nonlocal status, streams_events
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        if value.startswith(_EVENT_STREAM):
                            streams_events = True
                            self._sse.inc()
                        break
            return send(message)

        in_flight = self._in_flight
        in_flight.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, measured_send)
        finally:
            elapsed = time.perf_counter() - start
            in_flight.dec()
            route = scope.get("route")
            method: str = scope["method"]
            key = (
                method if method in _METHODS else _OTHER_METHOD,
                route.path if route is not None else UNMATCHED,
                status,
            )
            series = self._series.get(key)
            if series is None:
                series = self._add_series(key)
            if streams_events:
                series.count()
                self._sse.dec()
            else:
                series.count_and_time(elapsed)

    def _add_series(self, key: tuple[str, str, int]) -> _Series:
        series: _Series
        if self._collector is not None:
            series = self._collector.series(key)
        else:
            assert self.requests is not None
            assert self.duration is not None
            labels = (key[0], key[1], str(key[2]))
            series = _SharedSeries(self.requests.labels(*labels), self.duration.labels(*labels))
        self._series[key] = series
        return series

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        def counting_send(message: Message) -> Awaitable[None]:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self._websockets.inc()
            return send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                self._websockets.dec()

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def on_shutdown(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                # This worker's gauges stop counting once it has stopped serving.
                mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
            await send(message)

        await self.app(scope, receive, on_shutdown)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition of every metric (all workers' in multiprocess mode) and its media
        type: the OpenMetrics format when ``accept`` asks for it, Prometheus text else."""
        encoder, media_type = choose_encoder(accept)
        if self.multiprocess_dir is None:
            return encoder(self.registry), media_type
        forget_dead_workers(self.multiprocess_dir)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return encoder(merged), media_type

    async def _serve(self, scope: Scope, send: Send) -> None:
        accept = ""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
                break
        body, media_type = self.render(accept)
        headers = [
            (b"content-type", media_type.encode("latin-1")),
            (b"content-length", b"%d" % len(body)),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


_LABELS: Final = ("method", "route", "status")
_REQUESTS_HELP: Final = "HTTP requests answered, by method, route template and status."
_DURATION_HELP: Final = "Time from the request reaching the app to the end of its response."


class _Series(Protocol):
    """One label set's request count and latency, as the middleware adds to them."""

    def count(self) -> None: ...
    def count_and_time(self, seconds: float) -> None: ...


class _SharedSeries:
    """A label set in ``prometheus_client``'s metrics (its multiprocess mode)."""

    __slots__ = ("counter", "histogram")

    def __init__(self, counter: Counter, histogram: Histogram) -> None:
        self.counter, self.histogram = counter, histogram

    def count(self) -> None:
        self.counter.inc()

    def count_and_time(self, seconds: float) -> None:
        self.counter.inc()
        self.histogram.observe(seconds)


class _LocalSeries:
    """A label set's numbers in one process: the event loop's thread is the only writer,
    so they are plain numbers, read when a scrape collects them."""

    __slots__ = ("bounds", "buckets", "created", "requests", "timed", "total")

    def __init__(self, bounds: list[float]) -> None:
        self.bounds = bounds
        self.requests = self.timed = 0
        self.total = 0.0
        #: observations per bucket, not cumulative: [i] counts those <= bounds[i] only
        self.buckets = [0] * len(bounds)
        self.created = time.time()

    def count(self) -> None:
        self.requests += 1

    def count_and_time(self, seconds: float) -> None:
        self.requests += 1
        self.timed += 1
        self.total += seconds
        self.buckets[bisect.bisect_left(self.bounds, seconds)] += 1


class RequestSeries:
    """A ``prometheus_client`` collector of the request counter and latency histogram of
    one process: the same families, names, labels and samples as a ``Counter`` and a
    ``Histogram`` would expose (``_total``, ``_created``, ``_bucket``, ``_count``,
    ``_sum``), kept in plain numbers.

    Example:
        >>> from prometheus_client import CollectorRegistry, generate_latest
        >>> registry = CollectorRegistry()
        >>> series = RequestSeries("app_requests", "app_seconds", (0.1, 1.0))
        >>> registry.register(series)
        >>> series.series(("GET", "/", 200)).count_and_time(0.05)
        >>> registry.get_sample_value(
        ...     "app_seconds_bucket", {"method": "GET", "route": "/", "status": "200", "le": "0.1"}
        ... )
        1.0
    """

    def __init__(self, requests: str, duration: str, buckets: Sequence[float]) -> None:
        bounds = [float(bound) for bound in buckets]
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ConfigurationError(f"histogram buckets must be increasing: {list(buckets)}")
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        self.names = (requests, duration)
        self.bounds = bounds
        self._all: dict[tuple[str, str, int], _LocalSeries] = {}

    def series(self, key: tuple[str, str, int]) -> _LocalSeries:
        """The numbers of one ``(method, route, status)``, made on first use."""
        found = self._all.get(key)
        if found is None:
            found = self._all[key] = _LocalSeries(self.bounds)
        return found

    def describe(self) -> list[Metric]:
        requests, duration = self.names
        return [
            CounterMetricFamily(requests, _REQUESTS_HELP, labels=_LABELS),
            HistogramMetricFamily(duration, _DURATION_HELP, labels=_LABELS),
        ]

    def collect(self) -> Iterator[Metric]:
        requests, duration = self.names
        counter = CounterMetricFamily(requests, _REQUESTS_HELP, labels=_LABELS)
        histogram = HistogramMetricFamily(duration, _DURATION_HELP, labels=_LABELS)
        edges = [floatToGoString(bound) for bound in self.bounds]  # type: ignore[no-untyped-call]
        for (method, route, status), numbers in list(self._all.items()):
            labels = [method, route, str(status)]
            counter.add_metric(labels, numbers.requests, created=numbers.created)
            running, cumulative = 0, []
            for edge, count in zip(edges, numbers.buckets, strict=True):
                running += count
                cumulative.append((edge, float(running)))
            histogram.add_metric(labels, cumulative, numbers.total)
            histogram.add_sample(
                f"{duration}_created", dict(zip(_LABELS, labels, strict=True)), numbers.created
            )
        yield counter
        yield histogram


class _Tally:
    """A gauge's value in a single process: the event loop's thread is the only writer."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self) -> None:
        self.value += 1

    def dec(self) -> None:
        self.value -= 1

    def get(self) -> float:
        return float(self.value)


def forget_dead_workers(directory: Path) -> list[int]:
    """Drop the live-gauge files of worker processes that no longer run (killed without
    a lifespan shutdown), so in-flight and connection gauges count live workers only.

    Counters and histograms are kept: what a dead worker answered was still answered.
    Returns the process ids whose files were removed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     forget_dead_workers(Path(folder))
        []
    """
    dead = [pid for pid in _live_gauge_pids(os.listdir(directory)) if not _running(pid)]
    for pid in dead:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return dead


def _live_gauge_pids(names: Iterable[str]) -> set[int]:
    pids = set()
    for name in names:
        found = _LIVE_FILE_RE.fullmatch(name)
        if found is not None:
            pids.add(int(found.group(1)))
    return pids


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True
