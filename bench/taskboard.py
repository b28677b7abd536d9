"""Loopback load test of the taskboard example: its list page and an API read under wrk.

Starts ``kettle run examples/taskboard/app.py:app`` (one worker, SQLite in a temporary
folder, seeded), signs in for a session cookie and an API token, then runs ``wrk`` against
``/`` (the board, rendered from the database) and ``/api/tasks/1`` (token check, database
read, output model); then the same two routes written for FastAPI (uvicorn, one worker:
``bench/apps/taskboard_fastapi.py``) and for Flask (gunicorn, one sync worker:
``bench/apps/taskboard_flask.py``) on the same database, with the same cookie and token.
Each target is fetched once before its load and must answer 200 with the content kettle
answered (the same task ids on the page, the same JSON), so a broken app cannot post a fast
error figure. Prints requests/s and p99 latency. Every server listens on 127.0.0.1 only
and is stopped in ``finally``; every run is bounded.

Run from the repo root: ``python -m bench.taskboard [--duration 10] [--connections 32]``.
Needs ``wrk`` (``scripts/bench`` installs it) and the bench extras (FastAPI, Flask,
gunicorn).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
MAX_DURATION_S = 60
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TASK_IDS = re.compile(r'data-task-id="(\d+)"')
PAGE = "/"
API = "/api/tasks/1"


def host_port(port: int) -> list[str]:
    """uvicorn's and ``kettle run``'s address options."""
    return ["--host", HOST, "--port", str(port)]


def gunicorn_bind(port: int) -> list[str]:
    return ["--bind", f"{HOST}:{port}"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(
    command: list[str],
    env: dict[str, str],
    ready: str,
    bind: Callable[[int], list[str]] = host_port,
) -> Iterator[str]:
    port = _free_port()
    args = [*command, *bind(port)]
    with (
        tempfile.TemporaryFile() as log,
        subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT) as proc,
    ):
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(base + ready, timeout=1).status_code < 500:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not come up in 30 s")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def sign_in(base: str) -> tuple[str, str]:
    """A session cookie header and an API bearer header for the demo account."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
        page = client.get("/login")
        token = CSRF.search(page.text)
        assert token is not None, "no CSRF token on the login page"
        answer = client.post(
            "/login",
            data={
                "email": "demo@taskboard.example",
                "password": "kettle-demo",
                "csrf_token": token.group(1),
            },
        )
        assert answer.status_code == 302, answer.text
        # Take the sign-in flash off the session: every target then serves the steady-state
        # board, with nothing to pop from the cookie and no new cookie to sign.
        client.get("/").raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        issued = client.post(
            "/api/token",
            data={"username": "demo@taskboard.example", "password": "kettle-demo"},
        )
        issued.raise_for_status()
    return cookie, f"Bearer {issued.json()['access_token']}"


def wrk(url: str, header: str, duration: int, connections: int) -> dict[str, float]:
    """Requests/s and p99 latency (ms) of ``url``, refused if any answer was not 2xx/3xx."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s"]
    command += ["--latency", "-H", header, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr}")
    for marker in ("Non-2xx or 3xx responses", "Socket errors"):
        if marker in done.stdout:
            raise RuntimeError(f"wrk saw errors on {url}: {done.stdout}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", done.stdout, re.MULTILINE)
    if rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output: {done.stdout}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {"requests_per_s": float(rate.group(1)), "p99_ms": float(p99.group(1)) * scale}


def fetch(base: str, path: str, header: str) -> httpx.Response:
    name, _, value = header.partition(": ")
    answer = httpx.get(base + path, headers={name: value}, follow_redirects=False, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"{base}{path} answered {answer.status_code}: {answer.text[:500]}")
    return answer


def content(path: str, answer: httpx.Response) -> object:
    """What must match kettle's answer: the tasks listed on the page, or the JSON."""
    if path == PAGE:
        ids = TASK_IDS.findall(answer.text)
        if not ids or '<ul class="tasks">' not in answer.text:
            raise RuntimeError(f"the board page lists no tasks: {answer.text[:500]}")
        return ids
    return answer.json()


def targets() -> list[tuple[str, list[str], Callable[[int], list[str]]]]:
    """(framework, server command, address options) for every framework measured."""
    python = sys.executable
    kettle = [python, "-m", "kettle", "run", "examples/taskboard/app.py:app"]
    fastapi = [python, "-m", "uvicorn", "bench.apps.taskboard_fastapi:app"]
    fastapi += ["--no-access-log", "--log-level", "warning"]
    # One sync worker, as kettle runs one worker; it serves one connection at a time.
    flask = [python, "-m", "gunicorn", "bench.apps.taskboard_flask:app"]
    flask += ["--workers", "1", "--worker-class", "sync", "--log-level", "warning"]
    return [
        ("kettle", kettle, host_port),
        ("FastAPI", fastapi, host_port),
        ("Flask", flask, gunicorn_bind),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.taskboard", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    options = parser.parse_args(argv)
    duration = max(1, min(options.duration, MAX_DURATION_S))
    if shutil.which("wrk") is None:
        print("wrk is not installed: run scripts/bench, which installs it", file=sys.stderr)
        return 2
    results: dict[str, dict[str, float]] = {}
    expected: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="taskboard-bench-") as folder:
        env = {
            **os.environ,
            "TASKBOARD_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/board.sqlite",
            "TASKBOARD_UPLOAD_DIR": f"{folder}/uploads",
            "TASKBOARD_SECRET_KEY": "a benchmark secret that is long enough for HS256",
            "TASKBOARD_FAST_PASSWORD_HASHING": "true",
        }
        env.pop("REDIS_URL", None)
        env.pop("DATABASE_URL", None)
        headers: dict[str, str] = {}
        for framework, command, bind in targets():
            with server(command, env, "/login", bind) as base:
                if not headers:  # kettle first: its login makes the cookie and the token
                    cookie, bearer = sign_in(base)
                    headers = {PAGE: f"Cookie: {cookie}", API: f"Authorization: {bearer}"}
                for label, path in (("list page", PAGE), ("API read", API)):
                    found = content(path, fetch(base, path, headers[path]))
                    if expected.setdefault(path, found) != found:
                        raise RuntimeError(
                            f"{framework} {path} differs from kettle's: {found} != {expected[path]}"
                        )
                    wrk(base + path, headers[path], 1, options.connections)  # warm-up
                    results[f"{framework}: {label} {path}"] = wrk(
                        base + path, headers[path], duration, options.connections
                    )
    print(f"wrk -t1 -c{options.connections} -d{duration}s, one server process each")
    print(f"{'target':<34} {'requests/s':>12} {'p99 ms':>9}")
    for name, figures in results.items():
        print(f"{name:<34} {figures['requests_per_s']:>12.0f} {figures['p99_ms']:>9.1f}")
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
