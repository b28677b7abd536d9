"""Real-time benchmark: Server-Sent Events fan-out on one worker, and WebSocket broadcast
through Redis across two workers. Everything runs on 127.0.0.1 and ends by itself.

``sse``: one ``kettle run`` process (one worker, channels in memory); ``--subscribers``
event-stream clients connect; a publisher posts ``--messages`` messages at ``--rate`` per
second to ``/publish``, which stamps each with the server's clock and publishes it to the
channel every stream follows. ``ws-redis``: a throwaway ``redis-server`` and two
``kettle run`` processes sharing it; the WebSocket clients are on server A, the publisher
posts to server B, so every message crosses Redis.

Reported per scenario: deliveries per second (messages x subscribers over the time from
the first publish to the last delivery), the delivery latency (server publish to client
receipt, both clocks this machine's) at p50/p99/max, and messages lost. The clients run
in this one Python process (asyncio, raw sockets for SSE), so on a small machine they
share the CPU with the server and their own parsing is part of the latency measured.

Run from the repo root: ``python -m bench.realtime [--scenarios sse,ws-redis]
[--subscribers 1000] [--messages 100] [--rate 20]``. ``ws-redis`` needs ``redis-server``
(``scripts/install-redis`` installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The only address this benchmark ever sends traffic to. Deliberately not configurable.
HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 30.0
# However slow the machine, a scenario ends this long after its last publish.
DRAIN_TIMEOUT_S = 30.0
MAX_SUBSCRIBERS = 5000

APP = textwrap.dedent(
    """
    import os
    import time
    from typing import Any

    from kettle import Kettle, WebSocket
    from kettle.channels import Channels
    from kettle.sse import EventSourceResponse, ServerSentEvent

    app = Kettle(__name__)
    if os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    # A subscriber may fall a whole run behind: the benchmark counts losses, it does not
    # want the slow-subscriber policy to cause them.
    channels = Channels.from_app(app, history=0, queue_size=100_000, prefix="bench:")


    @app.post("/publish")
    async def publish(body: dict[str, Any]) -> dict[str, str]:
        body["t"] = time.time()
        return {"id": await channels.publish("bench", body)}


    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def stream():
            async with channels.subscribe("bench") as sub:
                yield ServerSentEvent(comment="ready")
                async for message in sub:
                    yield message.event

        return EventSourceResponse(stream())


    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        async with channels.subscribe("bench") as sub:
            await socket.send_text("ready")
            async for message in sub:
                await socket.send_text(message.text)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError):
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not come up:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def kettle_server(directory: Path, env: dict[str, str]) -> Iterator[int]:
    """A one-worker ``kettle run`` of the bench app on a free port; its port."""
    port = free_port()
    log = directory / f"kettle-{port}.log"
    full_env = {**os.environ, **env, "PYTHONPATH": f"{directory}{os.pathsep}{REPO_ROOT}"}
    command = [
        sys.executable, "-m", "kettle", "run", "realtime_app:app", "--port", str(port),
        "--log-level", "warning", "--limit-concurrency", "8192",
        "--limit-connections", "8192",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=directory, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, proc, log)
        yield port
    finally:
        stop(proc)


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 (no persistence); its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (scripts/install-redis)")
    port = free_port()
    log = directory / "redis.log"
    command = [
        binary, "--bind", HOST, "--port", str(port), "--dir", str(directory),
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, log)
        yield f"redis://{HOST}:{port}/0"
    finally:
        stop(proc)


@dataclass
class Tally:
    """What the subscribers received: one latency (seconds) per delivery."""

    latencies: list[float] = field(default_factory=list)
    last_receipt: float = 0.0
    received: int = 0

    def record(self, payload: str) -> None:
        now = time.time()
        self.latencies.append(now - json.loads(payload)["t"])
        self.received += 1
        self.last_receipt = now


async def sse_subscriber(port: int, tally: Tally, ready: asyncio.Event, expected: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(
        f"GET /events HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    count = 0
    try:
        while count < expected:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b": ready"):
                ready.set()
            elif line.startswith(b"data: "):
                tally.record(line[6:].decode())
                count += 1
    finally:
        writer.close()


async def ws_subscriber(port: int, tally: Tally, ready: asyncio.Event, expected: int) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://{HOST}:{port}/ws", compression=None) as socket:
        if await socket.recv() == "ready":
            ready.set()
        for _ in range(expected):
            tally.record(str(await socket.recv()))


async def publish_all(port: int, messages: int, rate: float) -> float:
    """Post ``messages`` messages at ``rate`` per second; when the first one was sent."""
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}") as client:
        started = time.time()
        for seq in range(messages):
            due = started + seq / rate
            await asyncio.sleep(max(0.0, due - time.time()))
            response = await client.post("/publish", json={"seq": seq})
            response.raise_for_status()
        return started


async def run_scenario(
    subscribe_port: int, publish_port: int, kind: str, subscribers: int, messages: int, rate: float
) -> dict[str, Any]:
    client = sse_subscriber if kind == "sse" else ws_subscriber
    tally = Tally()
    ready = [asyncio.Event() for _ in range(subscribers)]
    tasks = []
    for event in ready:
        tasks.append(asyncio.ensure_future(client(subscribe_port, tally, event, messages)))
        await asyncio.sleep(0)  # open the connections a little at a time
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), STARTUP_TIMEOUT_S)
    await asyncio.sleep(0.5)  # every subscription attached, across Redis too
    started = await publish_all(publish_port, messages, rate)
    published = time.time()
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S + messages / rate)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(tally.latencies) or [float("nan")]
    elapsed = (tally.last_receipt or published) - started
    return {
        "scenario": kind,
        "subscribers": subscribers,
        "messages": messages,
        "rate": rate,
        "delivered": tally.received,
        "lost": subscribers * messages - tally.received,
        "deliveries_per_s": tally.received / elapsed if elapsed > 0 else 0.0,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def sse_fanout(directory: Path, subscribers: int, messages: int, rate: float) -> dict[str, Any]:
    with kettle_server(directory, {}) as port:
        return asyncio.run(run_scenario(port, port, "sse", subscribers, messages, rate))


def ws_redis(directory: Path, subscribers: int, messages: int, rate: float) -> dict[str, Any]:
    with (
        redis_server(directory) as url,
        kettle_server(directory, {"REDIS_URL": url}) as server_a,
        kettle_server(directory, {"REDIS_URL": url}) as server_b,
    ):
        scenario = run_scenario(server_a, server_b, "ws-redis", subscribers, messages, rate)
        return asyncio.run(scenario)


SCENARIOS = {"sse": sse_fanout, "ws-redis": ws_redis}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="sse,ws-redis")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--ws-subscribers", type=int, default=None, help="default: --subscribers")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="messages published per second")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    names = [name for name in args.scenarios.split(",") if name]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}: choose from {sorted(SCENARIOS)}")
    if not 1 <= args.subscribers <= MAX_SUBSCRIBERS or args.rate <= 0 or args.messages < 1:
        parser.error(f"1..{MAX_SUBSCRIBERS} subscribers, a positive rate, 1 or more messages")
    results = []
    with tempfile.TemporaryDirectory(prefix="kettle-realtime-") as tmp:
        directory = Path(tmp)
        (directory / "realtime_app.py").write_text(APP)
        for name in names:
            count = args.subscribers
            if name == "ws-redis" and args.ws_subscribers:
                count = args.ws_subscribers
            results.append(SCENARIOS[name](directory, count, args.messages, args.rate))
    print(
        f"{'scenario':<10} {'subs':>5} {'msgs':>5} {'rate/s':>7} {'deliveries/s':>13} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'lost':>6}"
    )
    for r in results:
        print(
            f"{r['scenario']:<10} {r['subscribers']:>5} {r['messages']:>5} {r['rate']:>7.0f} "
            f"{r['deliveries_per_s']:>13.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['max_ms']:>8.1f} {r['lost']:>6}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
