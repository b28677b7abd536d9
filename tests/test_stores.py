"""kettle.stores: the same behaviour from the memory store and from a real redis-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from realservers import RedisServer, own_redis, prefix_for, redis_server

from kettle.exceptions import ConfigurationError
from kettle.stores import MemoryStore, RedisStore, Store, StoreUnavailable, store_from_url

__all__ = ["own_redis", "redis_server"]  # fixtures, imported for pytest to find


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    if request.param == "memory":
        return MemoryStore
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = prefix_for(request)
    return lambda: RedisStore(server.url, prefix=prefix)


def run(make_store: Callable[[], Store], steps: Callable[[Store], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        store = make_store()
        try:
            return await steps(store)
        finally:
            await store.aclose()

    return asyncio.run(main())


def test_get_set_delete(make_store: Callable[[], Store]) -> None:
    async def steps(store: Store) -> list[Any]:
        seen = [await store.get("k")]
        await store.set("k", "text")
        seen.append(await store.get("k"))
        await store.set("k", b"\x00bytes")
        seen.append(await store.get("k"))
        seen += [await store.delete("k"), await store.delete("k"), await store.get("k")]
        return seen

    assert run(make_store, steps) == [None, b"text", b"\x00bytes", True, False, None]


def test_values_expire(make_store: Callable[[], Store]) -> None:
    async def steps(store: Store) -> list[Any]:
        await store.set("short", "x", ttl=0.05)
        await store.set("long", "y", ttl=60)
        await store.incr("counter", ttl=0.05)
        await asyncio.sleep(0.15)
        return [await store.get("short"), await store.get("long"), await store.incr("counter")]

    assert run(make_store, steps) == [None, b"y", 1]


def test_incr_is_atomic_and_keeps_the_first_expiry(make_store: Callable[[], Store]) -> None:
    async def steps(store: Store) -> tuple[list[int], bytes | None, int]:
        values = await asyncio.gather(*(store.incr("n", ttl=0.2) for _ in range(20)))
        value = await store.get("n")
        await asyncio.sleep(0.1)
        await store.incr("n", 5, ttl=60)  # an existing key keeps its expiry
        await asyncio.sleep(0.2)
        return sorted(values), value, await store.incr("n", 2)

    values, value, after = run(make_store, steps)
    assert values == list(range(1, 21))
    assert value == b"20"
    assert after == 2  # expired 0.2 s after it was created, despite the later incr


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_a_bad_ttl_is_refused(make_store: Callable[[], Store], bad: float) -> None:
    async def steps(store: Store) -> None:
        await store.set("k", "v", ttl=bad)

    with pytest.raises(ValueError, match="ttl"):
        run(make_store, steps)


def test_incr_of_text_is_an_error(make_store: Callable[[], Store]) -> None:
    async def steps(store: Store) -> int:
        await store.set("k", "not a number")
        return await store.incr("k")

    with pytest.raises((ValueError, StoreUnavailable)):
        run(make_store, steps)


def test_memory_store_stays_bounded() -> None:
    async def steps() -> tuple[int, bytes | None, bytes | None]:
        store = MemoryStore(max_keys=3)
        for key in "abc":
            await store.set(key, key)
        await store.get("a")  # a is now the most recently used
        await store.set("d", "d")
        return len(store), await store.get("a"), await store.get("b")

    assert asyncio.run(steps()) == (3, b"a", None)


def test_memory_store_purges_expired_keys() -> None:
    now = [0.0]
    store = MemoryStore(purge_interval=10, clock=lambda: now[0])

    async def steps() -> int:
        for i in range(5):
            await store.set(f"k{i}", "v", ttl=1)
        now[0] = 11
        await store.get("other")
        return len(store)

    assert asyncio.run(steps()) == 0


def test_redis_keys_are_prefixed(redis_server: RedisServer, request: Any) -> None:
    prefix = prefix_for(request)

    async def steps() -> None:
        store = RedisStore(redis_server.url, prefix=prefix)
        await store.set("a", "1", ttl=30)
        await store.aclose()

    asyncio.run(steps())
    assert redis_server.command("KEYS", f"{prefix}*") == [f"{prefix}a".encode()]
    assert 0 < redis_server.command("PTTL", f"{prefix}a") <= 30_000


def test_redis_down_is_store_unavailable(own_redis: RedisServer) -> None:
    own_redis.stop()

    async def steps() -> None:
        store = RedisStore(own_redis.url, timeout=0.3)
        try:
            await store.get("k")
        finally:
            await store.aclose()

    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="Redis store"):
        asyncio.run(steps())
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("url", "kind"),
    [(None, MemoryStore), ("", MemoryStore), ("memory://", MemoryStore),
     ("redis://127.0.0.1:6379/0", RedisStore), ("rediss://h/0", RedisStore),
     ("unix:///run/redis.sock", RedisStore)],
)  # fmt: skip
def test_store_from_url(url: str | None, kind: type) -> None:
    assert type(store_from_url(url)) is kind


@pytest.mark.parametrize("url", ["http://127.0.0.1", "postgres://db", "redis"])
def test_store_from_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(ConfigurationError):
        store_from_url(url)


def test_values_are_bytes_or_text() -> None:
    with pytest.raises(TypeError, match="bytes or str"):
        asyncio.run(MemoryStore().set("k", 12))  # type: ignore[arg-type]
