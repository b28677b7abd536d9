"""Metrics under ``kettle run --workers 2``: a scrape of any worker reports every worker's
requests (prometheus_client's multiprocess mode), and a killed worker's open connections
stop counting."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from realservers import KettleProcess

pytestmark = pytest.mark.slow

WORKER_APP = textwrap.dedent(
    """
    import asyncio, os

    from kettle import Kettle, MetricsMiddleware
    from kettle.sse import EventSourceResponse

    app = Kettle(__name__)

    @app.get("/work/{n}")
    async def work(n: int) -> dict[str, int]:
        return {"pid": os.getpid(), "n": n}

    @app.get("/events")
    async def events():
        async def stream():
            yield {"pid": os.getpid()}
            while True:
                await asyncio.sleep(1)

        return EventSourceResponse(stream())

    app.add_middleware(MetricsMiddleware, path="/metrics")
    """
)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    # A new connection each time, so scrapes land on either worker.
    text = httpx.get(f"{url}/metrics", headers={"connection": "close"}, timeout=5).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


WORK = (("method", "GET"), ("route", "/work/{n}"), ("status", "200"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[KettleProcess, Path]]:
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    process = KettleProcess(tmp_path, env=env, options=["--workers", "2"]).wait_until_up()
    try:
        yield process, metrics_dir
    finally:
        process.stop()


def spread_requests(url: str, minimum: int, deadline: float) -> tuple[int, set[int]]:
    """Requests on new connections until both workers answered and ``minimum`` were
    sent; the number sent and the worker pids seen."""
    sent, pids = 0, set()
    while (len(pids) < 2 or sent < minimum) and time.monotonic() < deadline:
        response = httpx.get(f"{url}/work/{sent}", headers={"connection": "close"}, timeout=5)
        assert response.status_code == 200
        pids.add(response.json()["pid"])
        sent += 1
    return sent, pids


def test_a_scrape_of_any_worker_reports_every_workers_requests(
    server: tuple[KettleProcess, Path],
) -> None:
    process, metrics_dir = server
    sent, pids = spread_requests(process.url, 40, time.monotonic() + 30)
    assert len(pids) == 2, f"one worker answered all {sent} requests"
    for _ in range(10):
        found = scrape(process.url)
        assert found[("kettle_http_requests_total", WORK)] == sent
        assert found[("kettle_http_request_duration_seconds_count", WORK)] == sent
        assert found[("kettle_http_requests_in_flight", ())] == 0
    assert {int(name.rsplit("_", 1)[1][:-3]) for name in os.listdir(metrics_dir)} >= pids


def test_a_killed_workers_connections_stop_counting(server: tuple[KettleProcess, Path]) -> None:
    process, _ = server
    sent, _ = spread_requests(process.url, 10, time.monotonic() + 30)
    with httpx.Client(timeout=5) as client, client.stream("GET", f"{process.url}/events") as events:
        # One iterator, kept: a dropped one closes the stream.
        lines = events.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        victim = int(first.split('"pid":')[1].rstrip("}"))
        assert scrape(process.url)[("kettle_sse_connections", ())] == 1
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        found = scrape(process.url)
        while found[("kettle_sse_connections", ())] != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            found = scrape(process.url)
    assert found[("kettle_sse_connections", ())] == 0
    # What the dead worker answered was still answered.
    assert found[("kettle_http_requests_total", WORK)] == sent
