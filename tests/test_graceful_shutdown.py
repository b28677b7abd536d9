"""SIGTERM to a real ``kettle run`` process (one worker, then two): readiness fails first,
the server still accepts during ``--drain-delay``, the request in flight completes, an
open WebSocket is closed with 1001, an open SSE stream ends, the lifespan shutdown runs
and the process exits 0. Everything on 127.0.0.1, each step bounded in time."""

from __future__ import annotations

import concurrent.futures
import signal
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest
from realservers import KettleProcess
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

APP = textwrap.dedent(
    """
    import asyncio
    import os
    from pathlib import Path

    from kettle import Kettle, WebSocket, WebSocketDisconnect
    from kettle.health import Health
    from kettle.sse import EventSourceResponse, ServerSentEvent

    app = Kettle(__name__)
    Health(app)

    @app.on_shutdown
    async def stopped() -> None:
        Path(os.environ["SHUTDOWN_DIR"], str(os.getpid())).write_text("shutdown ran")

    @app.get("/slow")
    async def slow(seconds: float) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def forever():
            yield ServerSentEvent(data="hello", id="1")
            await asyncio.Event().wait()
        return EventSourceResponse(forever())

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hello")
        try:
            while True:
                await socket.receive_text()
        except WebSocketDisconnect as exc:
            Path(os.environ["SHUTDOWN_DIR"], f"ws-{os.getpid()}").write_text(str(exc.code))
    """
)

DRAIN_DELAY = 2.0


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "worker_app.py").write_text(APP)
    (tmp_path / "stopped").mkdir()
    return tmp_path


def _start(app_dir: Path, workers: int) -> KettleProcess:
    options = [
        "--drain-delay", str(DRAIN_DELAY), "--timeout-graceful-shutdown", "5",
        "--workers", str(workers),
    ]  # fmt: skip
    env = {"SHUTDOWN_DIR": str(app_dir / "stopped")}
    server = KettleProcess(app_dir, env=env, options=options).wait_until_up()
    # Up means accepting; with two workers both must have started their lifespan.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with httpx.Client(base_url=server.url, timeout=2) as client:
            if all(client.get("/readyz").status_code == 200 for _ in range(4)):
                return server
        time.sleep(0.1)
    raise AssertionError(server.output())


def _read_sse(url: str, first: threading.Event) -> tuple[list[str], bool]:
    """The stream's lines, and whether its body ended properly (not cut)."""
    lines: list[str] = []
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(15)) as response:
            for line in response.iter_lines():
                lines.append(line)
                first.set()
        return lines, True
    except httpx.HTTPError:
        return lines, False


def _readiness_during_drain(url: str, until: float) -> list[int]:
    statuses = []
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() < until:
            try:
                response = client.get("/readyz", headers={"connection": "close"})
            except httpx.TransportError:
                break  # a slow machine reached the end of the drain: no longer accepting
            statuses.append(response.status_code)
            time.sleep(0.1)
    return statuses


def test_sigterm_drains_then_stops_cleanly(app_dir: Path) -> None:
    server = _start(app_dir, workers=1)
    pool = concurrent.futures.ThreadPoolExecutor(4)
    try:
        first_event = threading.Event()
        sse = pool.submit(_read_sse, f"{server.url}/events", first_event)
        assert first_event.wait(10)
        with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "hello"
            slow = pool.submit(httpx.get, f"{server.url}/slow?seconds=3", timeout=15)
            time.sleep(0.3)  # the slow request is in flight

            started = time.monotonic()
            server.terminate()
            statuses = _readiness_during_drain(server.url, started + DRAIN_DELAY - 0.4)
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=DRAIN_DELAY + 5)
            close_code = socket.close_code
        code = server.wait(timeout=15)
        elapsed = time.monotonic() - started

        assert close_code == 1001
        assert statuses
        assert set(statuses) == {503}, statuses
        assert slow.result(timeout=5).status_code == 200
        lines, ended = sse.result(timeout=5)
        assert ended
        assert 'data: "hello"' in lines, lines
        assert code == 0, server.output()
        assert DRAIN_DELAY <= elapsed < DRAIN_DELAY + 5, elapsed
        stopped = {p.name: p.read_text() for p in (app_dir / "stopped").iterdir()}
        assert "shutdown ran" in stopped.values(), server.output()
        assert any(name.startswith("ws-") for name in stopped)
        assert "Traceback" not in server.output(), server.output()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        server.stop()


def test_sigterm_with_two_workers_completes_every_request(app_dir: Path) -> None:
    server = _start(app_dir, workers=2)
    pool = concurrent.futures.ThreadPoolExecutor(8)
    try:
        slow = [
            pool.submit(httpx.get, f"{server.url}/slow?seconds=3.5", timeout=15) for _ in range(6)
        ]
        time.sleep(0.3)
        started = time.monotonic()
        server.terminate()
        # uvicorn's supervisor looks at its signals every 0.5 s, then signals the workers.
        time.sleep(0.6)
        statuses = _readiness_during_drain(server.url, started + DRAIN_DELAY - 0.2)
        code = server.wait(timeout=20)

        assert statuses
        assert set(statuses) == {503}, statuses
        assert [r.result(timeout=5).status_code for r in slow] == [200] * 6
        assert code == 0, server.output()
        assert time.monotonic() - started < DRAIN_DELAY + 8
        shutdowns = [p for p in (app_dir / "stopped").iterdir() if p.name.isdigit()]
        assert len(shutdowns) == 2, server.output()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        server.stop()


def test_a_second_signal_skips_the_drain_delay(app_dir: Path) -> None:
    server = _start(app_dir, workers=1)
    try:
        started = time.monotonic()
        server.terminate()
        time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0, server.output()
        assert time.monotonic() - started < DRAIN_DELAY, server.output()
    finally:
        server.stop()


def test_without_a_drain_delay_open_streams_do_not_hold_the_shutdown(app_dir: Path) -> None:
    # The default grace period is 30 s: an SSE stream, which never ends by itself, used to
    # keep the worker up that long, and a WebSocket was cut with 1012.
    env = {"SHUTDOWN_DIR": str(app_dir / "stopped")}
    server = KettleProcess(app_dir, env=env).wait_until_up()
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        first_event = threading.Event()
        sse = pool.submit(_read_sse, f"{server.url}/events", first_event)
        assert first_event.wait(10)
        with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "hello"
            started = time.monotonic()
            server.terminate()
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=5)
            close_code = socket.close_code
        assert server.wait(timeout=10) == 0, server.output()
        assert time.monotonic() - started < 3
        assert close_code == 1001
        lines, ended = sse.result(timeout=5)
        assert ended, lines
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        server.stop()
