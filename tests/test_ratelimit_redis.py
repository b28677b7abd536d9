"""The Redis rate-limit store against a real redis-server (installed by
scripts/install-redis), including two ``kettle run`` workers sharing one limit, and what
happens while Redis is down. The servers are started by tests/realservers.py.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from realservers import KettleProcess, RedisServer, own_redis, prefix_for, redis_server

from kettle import Kettle, stores
from kettle.exceptions import ConfigurationError
from kettle.middleware.ratelimit import RateLimitMiddleware, header_key
from kettle.middleware.ratelimit_stores import MemoryStore, Rate, RedisStore
from kettle.testing import TestClient

__all__ = ["own_redis", "redis_server"]  # fixtures, imported for pytest to find


def make_app(store: Any, rules: Any = "3/minute", **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.add_middleware(RateLimitMiddleware, rules=rules, store=store, **options)

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_redis_store_limits_a_burst(redis_server: RedisServer, request: Any) -> None:
    app = make_app(RedisStore(redis_server.url, prefix=prefix_for(request)))
    with TestClient(app) as client:
        responses = [client.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert int(responses[-1].headers["retry-after"]) >= 1


@pytest.mark.parametrize("kind", ["redis", "memory"])
@pytest.mark.parametrize("algorithm", ["sliding", "fixed"])
def test_a_general_store_holds_the_counters(
    redis_server: RedisServer, request: Any, kind: str, algorithm: str
) -> None:
    # The stores apps use (kettle.stores) hold rate limits too: Redis through the same
    # one-script check on the store's connections, memory through get and incr.
    prefix = prefix_for(request)
    store: stores.Store = (
        stores.RedisStore(redis_server.url, prefix=prefix)
        if kind == "redis"
        else stores.MemoryStore()
    )
    with TestClient(make_app(store, algorithm=algorithm)) as client:
        responses = [client.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    if kind == "redis":
        keys = redis_server.command("KEYS", "*")
        assert len([k for k in keys if k.startswith(f"{prefix}ratelimit:".encode())]) == 1


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

    redis_result = asyncio.run(run(RedisStore(redis_server.url, prefix=prefix_for(request))))
    memory_result = asyncio.run(run(MemoryStore()))
    assert redis_result == memory_result
    # Refused hits counted in neither rule.
    assert redis_result[-1] == (False, [3, 3])


def test_keys_are_namespaced_hashed_and_expiring(redis_server: RedisServer, request: Any) -> None:
    prefix = prefix_for(request)
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
    store = RedisStore(own_redis.url, prefix=prefix_for(request), timeout=0.3)
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

    store = RedisStore(own_redis.url, prefix=prefix_for(request), timeout=0.3)
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


@pytest.mark.slow
def test_two_workers_share_the_limit(redis_server: RedisServer, tmp_path: Path) -> None:
    (tmp_path / "worker_app.py").write_text(WORKER_APP)
    env = {"RATE_REDIS_URL": redis_server.url, "RATE_PREFIX": f"two-workers:{time.time_ns()}:"}
    workers = [KettleProcess(tmp_path, env), KettleProcess(tmp_path, env)]
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
