"""Real servers for the tests: a throwaway redis-server and ``kettle run`` processes, all
on 127.0.0.1 and bounded in time.

Each redis-server is started on a free port, in a temporary directory with persistence
off, and stopped afterwards. Without redis-server (``scripts/install-redis`` installs
Debian's package) the tests using it are skipped with the reason, except in CI (the ``CI``
variable set), where they fail.

Test modules import the fixtures they use: ``from realservers import redis_server``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import kettle

REDIS_SERVER = shutil.which(os.environ.get("KETTLE_REDIS_SERVER", "redis-server"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on 127.0.0.1: no persistence, its own directory."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        command = [
            REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port),
            "--dir", str(self.directory), "--save", "", "--appendonly", "no",
            "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        log = self.directory / f"redis-{self.port}.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not come up")

    def command(self, *args: str) -> Any:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
        try:
            return client.execute_command(*args)  # type: ignore[no-untyped-call]
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


def need_redis() -> None:
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (scripts/install-redis installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may stop and start again."""
    need_redis()
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def prefix_for(request: pytest.FixtureRequest) -> str:
    """A key prefix of the test's own, so tests sharing one redis-server never collide."""
    return f"test:{request.node.name}:{time.monotonic_ns()}:"


class KettleProcess:
    """A ``kettle run APP --port N`` process on 127.0.0.1, started in ``app_dir``."""

    def __init__(
        self,
        app_dir: Path,
        env: dict[str, str] | None = None,
        app: str = "worker_app:app",
        options: Sequence[str] = (),
    ) -> None:
        self.port = free_port()
        self.log = app_dir / f"kettle-{self.port}.log"
        root = str(Path(kettle.__file__).resolve().parent.parent)
        full_env = {**os.environ, **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join([str(app_dir), root])
        command = [sys.executable, "-m", "kettle", "run", app, "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, *options],
                cwd=app_dir,
                env=full_env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_up(self, timeout: float = 20) -> KettleProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kettle exited early:\n{self.log.read_text()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            time.sleep(0.05)
        raise RuntimeError(f"kettle did not come up:\n{self.log.read_text()}")

    def terminate(self) -> None:
        """SIGTERM, as a process manager stops a worker."""
        self.send_signal(signal.SIGTERM)

    def send_signal(self, signum: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def output(self) -> str:
        """What the process printed so far (its log)."""
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = 15) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
