"""What observability costs over loopback HTTP: kettle's bench app on ``/json``, bare and
with the middleware of bench/apps/observability.py, each under one uvicorn process and
loaded with wrk, in interleaved rounds (the best round counts).

Run from the repo root: ``python -m bench.observed [--duration 5] [--rounds 3]``. Needs wrk;
only ever targets 127.0.0.1. The in-process figures come from ``python -m bench.run
--scenarios json,traced,metered,observed``.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

from bench.http import (
    ENDPOINTS,
    HOST,
    REPO_ROOT,
    ServeError,
    check_responses,
    free_port,
    run_wrk,
    stop,
    wait_until_ready,
)

VARIANTS = {
    "bare": "bench.apps.kettle_app",
    "traced": "bench.apps.kettle_traced",
    "metered": "bench.apps.kettle_metered",
    "observed": "bench.apps.kettle_observed",
}
JSON = next(scenario for scenario in ENDPOINTS if scenario.name == "json")
MAX_ROUNDS = 5
MAX_DURATION_S = 30


@contextlib.contextmanager
def serve(module: str) -> Iterator[tuple[subprocess.Popen[str], int, IO[str]]]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", f"{module}:app", "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--lifespan", "on",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        server = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log, text=True
        )
        try:
            yield server, port, log
        finally:
            stop(server)


def measure(module: str, duration: int, connections: int) -> float:
    with serve(module) as (server, port, log):
        wait_until_ready(server, port, log)
        check_responses(port, [JSON])
        run_wrk(port, JSON, 1, connections)  # warm-up
        return run_wrk(port, JSON, duration, connections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    duration = max(1, min(args.duration, MAX_DURATION_S))
    rounds = max(1, min(args.rounds, MAX_ROUNDS))
    best: dict[str, float] = {}
    try:
        for _ in range(rounds):
            for name, module in VARIANTS.items():
                rate = measure(module, duration, args.connections)
                best[name] = max(best.get(name, 0.0), rate)
    except ServeError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    bare = best["bare"]
    print(f"GET /json, uvicorn + wrk -c{args.connections} -d{duration}s, best of {rounds}")
    for name, rate in best.items():
        print(f"{name:9s} {rate:9.0f} req/s  x{rate / bare:.3f}  cost {1 - rate / bare:+.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
