"""Loopback HTTP benchmark: each app behind uvicorn, loaded by wrk, on 127.0.0.1 only.

For every app: start one uvicorn process (uvloop, httptools, no access log) on a free local port,
wait until it answers and check its responses, warm it up, run ``wrk`` against ``/plaintext`` and
``/json``, let it idle, read its resident memory from /proc, and stop it. Every subprocess has a
timeout and servers are stopped in ``finally``, so the run ends by itself.

Run from the repo root: ``python -m bench.http [--duration 5] [--apps raw,kettle]``.
Needs ``wrk`` on PATH (``scripts/bench`` installs it).
"""

if __package__ in (None, ""):
    # Run as a file: put the repo root on sys.path and take bench/ off it, since this very file
    # would otherwise shadow the standard library's http package for every later import.
    import sys
    from pathlib import Path

    _BENCH_DIR = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH_DIR]
    sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse
import contextlib
import http.client
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from bench.driver import Response, verify
from bench.report import environment, format_ratio, format_table, ratio, write_json
from bench.scenarios import SCENARIOS, Scenario
from bench.targets import APP_MODULES, BASELINE, load_app, parse_app_names

# The only address this benchmark ever sends traffic to. Deliberately not configurable.
HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ENDPOINTS = ("plaintext", "json")
# The scenarios --scenarios may name: every timed one (routing misses and 1000-route lookups
# say nothing the in-process run does not).
ENDPOINTS = [scenario for scenario in SCENARIOS if scenario.name in DEFAULT_ENDPOINTS]
SERVABLE = {scenario.name: scenario for scenario in SCENARIOS if scenario.suite == "main"}

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
WARMUP_S = 1
IDLE_BEFORE_RSS_S = 2.0
MAX_DURATION_S = 60
MAX_CONNECTIONS = 512
WRK_GRACE_S = 30.0  # wrk's own --timeout plus process start and teardown

WRK_HINT = "wrk is not installed; run scripts/bench (installs it with apt-get) or install wrk."


@dataclass(slots=True)
class AppRun:
    name: str
    requests_per_s: dict[str, float] = field(default_factory=dict)
    rss_start_mib: float | None = None
    rss_idle_mib: float | None = None
    error: str | None = None  # set when the app could not be served or misbehaved
    unavailable: bool = False  # the app does not import (yet): not a failure of the harness


class ServeError(RuntimeError):
    """The server did not start, answered wrongly, or wrk reported errors."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def read_rss_mib(pid: int) -> float | None:
    """VmRSS of ``pid`` from /proc, in MiB; None where /proc is not available."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def uvicorn_command(name: str, port: int) -> list[str]:
    # No --workers: uvicorn then serves from this very process, so its pid is the worker's.
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"{APP_MODULES[name]}:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--lifespan",
        "on",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def get(port: int, scenario: Scenario, timeout: float = 2.0) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {name.decode(): value.decode() for name, value in scenario.headers}
        connection.request(
            scenario.method, scenario.target, body=scenario.body or None, headers=headers
        )
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def tail(log: IO[str], lines: int = 5) -> str:
    log.flush()
    log.seek(0)
    return " | ".join(log.read().strip().splitlines()[-lines:])


def wait_until_ready(server: subprocess.Popen[str], port: int, log: IO[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServeError(f"server exited with code {server.returncode}: {tail(log)}")
        with contextlib.suppress(OSError):
            get(port, ENDPOINTS[0], timeout=0.5)
            return
        time.sleep(0.1)
    raise ServeError(f"server did not answer within {STARTUP_TIMEOUT_S:.0f}s: {tail(log)}")


def check_responses(port: int, endpoints: list[Scenario]) -> None:
    """The same contract as the in-process run, over real HTTP, before any load."""
    for scenario in endpoints:
        status, content_type, body = get(port, scenario)
        headers = {"content-type": content_type, "content-length": str(len(body))}
        problems = verify(scenario, Response(status, headers, body))
        if problems:
            raise ServeError(f"{scenario.target}: {'; '.join(problems)}")


def wrk_script(scenario: Scenario) -> str:
    """A wrk Lua script sending the scenario's method, headers and body with every request."""

    def lua(value: bytes) -> str:
        return '"' + "".join(f"\\{byte:03d}" for byte in value) + '"'

    lines = [f"wrk.method = {lua(scenario.method.encode())}"]
    lines += [f"wrk.headers[{lua(name)}] = {lua(value)}" for name, value in scenario.headers]
    if scenario.body:
        lines.append(f"wrk.body = {lua(scenario.body)}")
    return "\n".join(lines) + "\n"


def run_wrk(port: int, scenario: Scenario, duration: int, connections: int) -> float:
    url = f"http://{HOST}:{port}{scenario.target}"
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="ascii") as script:
        script.write(wrk_script(scenario))
        script.flush()
        done = subprocess.run(
            [*command, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=duration + WRK_GRACE_S,
            check=False,
        )
    if done.returncode != 0:
        raise ServeError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    # Errors mean the figure is not a throughput of correct responses: refuse it.
    for marker in ("Non-2xx or 3xx responses", "Socket errors"):
        if marker in done.stdout:
            detail = next(line for line in done.stdout.splitlines() if marker in line)
            raise ServeError(f"wrk reported errors on {scenario.target}: {detail.strip()}")
    match = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    if match is None:
        raise ServeError(f"could not find Requests/sec in wrk output: {done.stdout!r}")
    return float(match.group(1))


@contextlib.contextmanager
def serve(name: str) -> Iterator[tuple[subprocess.Popen[str], int, IO[str]]]:
    """A uvicorn process for ``name`` on a free loopback port, always stopped on exit."""
    port = free_port()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        server = subprocess.Popen(
            uvicorn_command(name, port),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield server, port, log
        finally:
            stop(server)


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_TIMEOUT_S)


def bench_app(name: str, duration: int, connections: int, endpoints: list[Scenario]) -> AppRun:
    result = AppRun(name)
    # Importing here first tells "kettle is not written yet" apart from "the server broke".
    loaded = load_app(name)
    if loaded.app is None:
        return AppRun(name, error=loaded.error, unavailable=True)
    with serve(name) as (server, port, log):
        try:
            wait_until_ready(server, port, log)
            check_responses(port, endpoints)
            result.rss_start_mib = read_rss_mib(server.pid)
            for scenario in endpoints:
                run_wrk(port, scenario, WARMUP_S, connections)
                result.requests_per_s[scenario.name] = run_wrk(
                    port, scenario, duration, connections
                )
                print(f"  {name} {scenario.target}: done", file=sys.stderr, flush=True)
            time.sleep(IDLE_BEFORE_RSS_S)  # Let buffers and pending tasks settle first.
            result.rss_idle_mib = read_rss_mib(server.pid)
        except (ServeError, OSError, subprocess.TimeoutExpired) as exc:
            result.error = str(exc)
    return result


def print_results(runs: list[AppRun], endpoints: list[Scenario]) -> None:
    baseline = next((run for run in runs if run.name == BASELINE and run.error is None), None)
    rows: list[list[str]] = []
    for run in runs:
        if run.error is not None:
            label = "not available" if run.unavailable else "FAILED"
            print(f"{run.name}: {label} ({run.error})")
            continue
        cells = [run.name]
        for scenario in endpoints:
            rps = run.requests_per_s[scenario.name]
            base = baseline.requests_per_s.get(scenario.name) if baseline else None
            cells.append(f"{rps:,.0f} ({format_ratio(ratio(rps, base))})")
        base_rss = baseline.rss_idle_mib if baseline else None
        cells.extend(
            [_mib(run.rss_start_mib), _mib(run.rss_idle_mib), _delta(run.rss_idle_mib, base_rss)]
        )
        rows.append(cells)
    header = [
        "app",
        *[f"{scenario.name} req/s" for scenario in endpoints],
        "RSS start MiB",
        "RSS idle MiB",
        "vs raw MiB",
    ]
    print()
    print("Loopback HTTP through uvicorn (1 process): requests/s with ratio to raw; worker RSS")
    print(format_table(header, rows))


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _delta(value: float | None, baseline: float | None) -> str:
    return "-" if value is None or baseline is None else f"{value - baseline:+.1f}"


def to_json(runs: list[AppRun], duration: int, connections: int) -> dict[str, Any]:
    return {
        "environment": environment(),
        "wrk": {"threads": 1, "connections": connections, "duration_s": duration},
        "apps": {
            run.name: {
                "requests_per_s": run.requests_per_s,
                "rss_start_mib": run.rss_start_mib,
                "rss_idle_mib": run.rss_idle_mib,
                "error": run.error,
                "unavailable": run.unavailable,
            }
            for run in runs
        },
    }


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 5, quick 2)")
    parser.add_argument("--quick", action="store_true", help="2-second wrk runs")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--apps", help="comma-separated subset of raw,starlette,fastapi,kettle")
    parser.add_argument(
        "--scenarios",
        help=f"comma-separated subset of {','.join(SERVABLE)} (default plaintext,json)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    wanted = (args.scenarios or ",".join(DEFAULT_ENDPOINTS)).split(",")
    unknown = [name for name in wanted if name not in SERVABLE]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    endpoints = [SERVABLE[name] for name in wanted]
    duration = args.duration or (2 if args.quick else 5)
    if not 1 <= duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in [1, {MAX_DURATION_S}]")
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"--connections must be in [1, {MAX_CONNECTIONS}]")
    try:
        names = parse_app_names(args.apps)
    except ValueError as exc:
        parser.error(str(exc))
    if shutil.which("wrk") is None:
        print(WRK_HINT, file=sys.stderr)
        return 2
    # Turn SIGTERM (e.g. from `timeout`) into SystemExit so the finally blocks stop the server.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    print(f"wrk -t1 -c{args.connections} -d{duration}s against {HOST}, one app at a time")
    runs = [bench_app(name, duration, args.connections, endpoints) for name in names]
    print_results(runs, endpoints)
    if args.json is not None:
        write_json(args.json, to_json(runs, duration, args.connections))
        print(f"\nwrote {args.json}")
    failed = any(run.error is not None and not run.unavailable for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
