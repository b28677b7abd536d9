"""The Redis rate-limit store against a real redis-server (installed by
scripts/install-redis), including two ``kettle run`` workers sharing one limit, and what
happens while Redis is down.

Each redis-server is started here on 127.0.0.1, on a free port, in a temporary directory
with persistence off, and stopped afterwards. Without redis-server these tests are skipped
with the reason, except in CI (the ``CI`` variable set), where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import kettle
from kettle import Kettle
from kettle.exceptions import ConfigurationError
from kettle.middleware.ratelimit import RateLimitMiddleware, header_key
from kettle.middleware.ratelimit_stores import MemoryStore, Rate, RedisStore
from kettle.testing import TestClient

REDIS_SERVER = shutil.which(os.environ.get("KETTLE_REDIS_SERVER", "redis-server"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throwaway redis-server on 127.0.0.1: no persistence, its own directory."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or _free_port()
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


def _need_redis() -> None:
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (scripts/install-redis installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    _need_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may stop and start again."""
    _need_redis()
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def make_app(store: Any, rules: Any = "3/minute", **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.add_middleware(RateLimitMiddleware, rules=rules, store=store, **options)

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    return app


def _prefix(request: pytest.FixtureRequest) -> str:
    return f"test:{request.node.name}:{time.monotonic_ns()}:"


def test_redis_store_limits_a_burst(redis_server: RedisServer, request: Any) -> None:
    app = make_app(RedisStore(redis_server.url, prefix=_prefix(request)))
    with TestClient(app) as client:
        responses = [client.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert int(responses[-1].headers["retry-after"]) >= 1


@pytest.mark.parametrize("sliding", [True, False])
def test_redis_and_memory_stores_agree(
    redis_server: RedisServer, request: Any, sliding: bool
) -> None:
    rates = [Rate(3, 60), Rate(5, 3600)]

    async def run(store: Any) -> list[tuple[bool, list[int]]]:
        out = []
        for _ in range(5):
            allowed, windows = await store.hit(["a", "b"], rates, sliding)
            out.append((allowed, [w.current for w in windows]))
        if isinstance(store, RedisStore):
            await store.aclose()
        return out

    redis_result = asyncio.run(run(RedisStore(redis_server.url, prefix=_prefix(request))))
    memory_result = asyncio.run(run(MemoryStore()))
    assert redis_result == memory_result
    # Refused hits counted in neither rule.
    assert redis_result[-1] == (False, [3, 3])


def test_keys_are_namespaced_hashed_and_expiring(redis_server: RedisServer, request: Any) -> None:
    prefix = _prefix(request)
    app = make_app(RedisStore(redis_server.url, prefix=prefix), key=header_key("X-API-Key"))
    odd = "evil*key {tag} \\ '..redis.call(\"FLUSHALL\")..' ü"
    with TestClient(app) as client:
        assert client.get("/", headers={b"X-API-Key": odd.encode()}).status_code == 200
    keys = redis_server.command("KEYS", f"{prefix}*")
    assert len(keys) == 1
    name = keys[0].decode()
    assert "evil" not in name
    assert "FLUSHALL" not in name
    assert name.startswith(prefix)
    ttl = redis_server.command("PTTL", name)
    assert 0 < ttl <= 120_000
    assert redis_server.command("DBSIZE") >= 1  # nothing was flushed


@pytest.mark.parametrize(("on_store_error", "status"), [("closed", 503), ("open", 200)])
def test_redis_down(own_redis: RedisServer, request: Any, on_store_error: str, status: int) -> None:
    store = RedisStore(own_redis.url, prefix=_prefix(request), timeout=0.3)
    app = make_app(store, "100/minute", on_store_error=on_store_error)
    with TestClient(app) as client:
        _redis_down(own_redis, client, status)


def _redis_down(own_redis: RedisServer, client: TestClient, status: int) -> None:
    assert client.get("/").status_code == 200
    own_redis.stop()
    started = time.monotonic()
    response = client.get("/")
    assert time.monotonic() - started < 3
    assert response.status_code == status
    assert "ratelimit-limit" not in response.headers
    if status == 503:
        assert response.headers["retry-after"] == "1"
        assert "Traceback" not in response.text
        assert own_redis.url not in response.text
    own_redis.start()  # the same port: the store reconnects by itself
    recovered = client.get("/")
    assert recovered.status_code == 200
    assert recovered.headers["ratelimit-remaining"] == "99"  # the counters went with Redis


def test_a_hung_redis_times_out_and_recovers(own_redis: RedisServer, request: Any) -> None:
    import signal

    store = RedisStore(own_redis.url, prefix=_prefix(request), timeout=0.3)
    assert own_redis.proc is not None
    with TestClient(make_app(store, "100/minute")) as client:
        assert client.get("/").headers["ratelimit-remaining"] == "99"
        own_redis.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert client.get("/").status_code == 503
            assert time.monotonic() - started < 2
        finally:
            own_redis.proc.send_signal(signal.SIGCONT)
        # The timed-out command's late reply is not read as the next command's.
        answers = [client.get("/").headers.get("ratelimit-remaining") for _ in range(3)]
        assert answers in (["98", "97", "96"], ["97", "96", "95"])


def test_a_bad_url_is_refused_at_startup() -> None:
    with pytest.raises(ConfigurationError):
        RedisStore("http://127.0.0.1:6379")
    with pytest.raises(ConfigurationError):
        RedisStore(timeout=0)


# -- two workers sharing one limit ----------------------------------------------------------

WORKER_APP = textwrap.dedent(
    """
    import os

    from kettle import Kettle
    from kettle.middleware.ratelimit import RateLimitMiddleware
    from kettle.middleware.ratelimit_stores import RedisStore

    app = Kettle(__name__)
    store = RedisStore(os.environ["RATE_REDIS_URL"], prefix=os.environ["RATE_PREFIX"])
    app.add_middleware(RateLimitMiddleware, rules="10/minute", store=store)

    @app.get("/hello")
    async def hello():
        return {"pid": os.getpid()}
    """
)


class Worker:
    """A ``kettle run`` process on 127.0.0.1 serving the app above."""

    def __init__(self, app_dir: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.log = app_dir / f"worker-{self.port}.log"
        root = str(Path(kettle.__file__).resolve().parent.parent)
        env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(app_dir), root])}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kettle", "run", "worker_app:app", "--port", str(self.port)],
                cwd=app_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log.read_text()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            time.sleep(0.05)
        raise RuntimeError(f"worker did not come up:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.mark.slow
def test_two_workers_share_the_limit(redis_server: RedisServer, tmp_path: Path) -> None:
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    env = {"RATE_REDIS_URL": redis_server.url, "RATE_PREFIX": f"two-workers:{time.time_ns()}:"}
    workers = [Worker(tmp_path, env), Worker(tmp_path, env)]
    try:
        for worker in workers:
            worker.wait_until_up()
        # Connecting to see them up made no request: the budget is whole.
        seen: list[tuple[int, int]] = []
        pids = set()
        with httpx.Client(timeout=5) as client:
            for i in range(16):
                worker = workers[i % 2]
                response = client.get(f"{worker.url}/hello")
                seen.append((i % 2, response.status_code))
                if response.status_code == 200:
                    pids.add(response.json()["pid"])
                    remaining = int(response.headers["ratelimit-remaining"])
                    assert remaining == 9 - i  # one count, whichever worker served it
                else:
                    assert int(response.headers["retry-after"]) >= 1
        assert [status for _, status in seen] == [200] * 10 + [429] * 6
        assert {w for w, status in seen if status == 429} == {0, 1}  # both refuse
        assert len(pids) == 2
    finally:
        for worker in workers:
            worker.stop()
