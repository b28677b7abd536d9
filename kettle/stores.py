"""Key-value stores shared by kettle's parts and by apps: in this process or in Redis.

One interface, :class:`Store`, with two implementations:

* :class:`MemoryStore`: a dict in this worker process, bounded in size (least recently
  used keys go first) with expiry; for one process, tests and development;
* :class:`RedisStore`: Redis through redis-py's asyncio client, shared by every worker
  and host that names the same server.

Every operation is ``async``; values are bytes (a ``str`` is stored as its UTF-8 bytes).
``ttl`` is in seconds; ``None`` keeps the key until it is deleted (or, in memory, pushed
out by newer keys). :meth:`Store.incr` is atomic: two workers incrementing one key at
once both count. :func:`store_from_url` picks the implementation from a URL, so an app
can say which in its configuration (``REDIS_URL``).

Server-side sessions (:mod:`kettle.serversessions`), the rate limiter and channels'
connections use these; apps may too, for caching::

    cache = store_from_url(app.config.get("REDIS_URL"))
    page = await cache.get("page:/") or await render_and_store()
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from kettle.exceptions import ConfigurationError

__all__ = ["MemoryStore", "RedisStore", "Store", "StoreUnavailable", "store_from_url"]

_SCHEMES = ("redis://", "rediss://", "unix://")


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error."""


@runtime_checkable
class Store(Protocol):
    """What every store offers. Each method raises :class:`StoreUnavailable` when the
    backing service cannot be reached."""

    async def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None`` when it is missing or expired."""
        ...

    async def set(self, key: str, value: bytes | str, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, for ``ttl`` seconds (``None``: no expiry)."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add ``amount`` to the integer at ``key`` (missing: 0), atomically; the new value.

        ``ttl`` applies when this call creates the key, so a counter expires ``ttl``
        seconds after its first increment (a fixed window), however often it is hit.
        """
        ...

    async def aclose(self) -> None:
        """Release connections (a no-op for memory)."""
        ...


def _bytes(value: bytes | str) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"store values are bytes or str, not {type(value).__name__}")
    return bytes(value)


def _check_ttl(ttl: float | None) -> None:
    if ttl is not None and not ttl > 0:
        raise ValueError("ttl is a number of seconds above 0, or None")


class MemoryStore:
    """A store in this process's memory: for one worker, tests and development.

    Memory stays bounded: past ``max_keys`` the least recently used keys are dropped,
    and expired ones are purged at most every ``purge_interval`` seconds (an expired key
    also reads as missing at once).

    Example:
        >>> import asyncio
        >>> from kettle.stores import MemoryStore
        >>> store = MemoryStore()
        >>> async def demo():
        ...     await store.set("greeting", "hello", ttl=60)
        ...     await store.incr("hits")
        ...     return await store.get("greeting"), await store.incr("hits")
        >>> asyncio.run(demo())
        (b'hello', 2)
    """

    def __init__(
        self,
        *,
        max_keys: int = 100_000,
        purge_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_keys < 1:
            raise ConfigurationError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.purge_interval = purge_interval
        self.clock = clock
        # key -> (value, expires at or None); dict order is least recently used first.
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._next_purge = clock() + purge_interval

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        now = self.clock()
        if now >= self._next_purge:
            self._purge(now)
        entry = self._data.pop(key, None)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= now:
            return None
        self._data[key] = entry  # moved to the end: most recently used
        return entry

    def _put(self, key: str, value: bytes, expires: float | None) -> None:
        data = self._data
        data.pop(key, None)
        data[key] = (value, expires)
        if len(data) > self.max_keys:
            self._purge(self.clock())
            while len(data) > self.max_keys:
                del data[next(iter(data))]

    def _purge(self, now: float) -> None:
        self._next_purge = now + self.purge_interval
        expired = [k for k, (_, at) in self._data.items() if at is not None and at <= now]
        for key in expired:
            del self._data[key]

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes | str, ttl: float | None = None) -> None:
        _check_ttl(ttl)
        self._put(key, _bytes(value), None if ttl is None else self.clock() + ttl)

    async def delete(self, key: str) -> bool:
        return self._live(key) is not None and self._data.pop(key, None) is not None

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        _check_ttl(ttl)
        # No await between the read and the write: atomic within the event loop.
        entry = self._live(key)
        if entry is None:
            value, expires = amount, None if ttl is None else self.clock() + ttl
        else:
            try:
                value = int(entry[0]) + amount
            except ValueError:
                raise ValueError(f"the value at {key!r} is not an integer") from None
            expires = entry[1]
        self._put(key, b"%d" % value, expires)
        return value

    async def aclose(self) -> None:
        return None


class RedisStore:
    """A store in Redis (redis-py's asyncio client), shared by every process using it.

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://`` (TLS) or ``unix://``.
        client: a ``redis.asyncio.Redis`` to use instead of ``url`` (its event loop and
            closing are then yours to manage).
        prefix: put before every key, so several apps (or parts) can share one database.
        timeout: seconds to wait for Redis (connecting, and each command) before
            :class:`StoreUnavailable` is raised.

    Example:
        >>> from kettle.stores import RedisStore
        >>> store = RedisStore("redis://127.0.0.1:6379/0", prefix="myapp:")
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Any = None,
        prefix: str = "kettle:",
        timeout: float = 0.5,
    ) -> None:
        if client is None and not url.startswith(_SCHEMES):
            raise ConfigurationError(
                f"Redis url {url.split('://')[0]!r}://...: use redis://, rediss:// or unix://"
            )
        if not timeout > 0:
            raise ConfigurationError("timeout must be positive seconds")
        import redis.asyncio  # noqa: F401  (fail at startup if redis-py is missing)

        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._client = client
        # One client per event loop: connections belong to the loop that opened them.
        self._clients: dict[int, Any] = {}

    def redis(self) -> Any:
        """This event loop's ``redis.asyncio.Redis`` (made on first use)."""
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            import redis.asyncio

            client = self._client
            if client is None:
                if len(self._clients) > 8:  # loops come and go in tests
                    self._clients.clear()
                client = redis.asyncio.Redis.from_url(
                    self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
                )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close this event loop's connections (unless the client was given)."""
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None and self._client is None:
            await client.aclose()

    async def call(self, name: str, *args: Any) -> Any:
        """Run one Redis command (``await store.call("GET", key)``), errors as
        :class:`StoreUnavailable`. Keys passed here are not prefixed."""
        import redis

        # The socket timeouts bound a slow Redis; cancelling a command midway instead
        # could leave its reply on a pooled connection for the next command to read.
        try:
            return await self.redis().execute_command(name, *args)
        except (redis.RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"Redis store: {type(exc).__name__}") from exc

    async def get(self, key: str) -> bytes | None:
        value = await self.call("GET", self.prefix + key)
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes | str, ttl: float | None = None) -> None:
        _check_ttl(ttl)
        if ttl is None:
            await self.call("SET", self.prefix + key, _bytes(value))
        else:
            await self.call("SET", self.prefix + key, _bytes(value), "PX", _ms(ttl))

    async def delete(self, key: str) -> bool:
        return bool(await self.call("DEL", self.prefix + key))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        _check_ttl(ttl)
        name = self.prefix + key
        if ttl is None:
            return int(await self.call("INCRBY", name, amount))
        # One script: the increment and the expiry of a new key cannot be split by a
        # crash between two commands (a counter that never expires).
        value = await self.call("EVAL", _INCR_SCRIPT, 1, name, amount, _ms(ttl))
        return int(value)


_INCR_SCRIPT = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def store_from_url(url: str | None, *, prefix: str = "kettle:", timeout: float = 0.5) -> Store:
    """A :class:`RedisStore` for a ``redis://``, ``rediss://`` or ``unix://`` URL; a
    :class:`MemoryStore` for ``None``, ``""`` or ``memory://``.

    Example:
        >>> from kettle.stores import store_from_url
        >>> type(store_from_url(None)).__name__, type(store_from_url("redis://127.0.0.1/1")).__name__
        ('MemoryStore', 'RedisStore')
    """
    if not url or url == "memory://":
        return MemoryStore()
    if url.startswith(_SCHEMES):
        return RedisStore(url, prefix=prefix, timeout=timeout)
    raise ConfigurationError(
        f"store URL {url.split('://')[0]!r}://...: use redis://, rediss://, unix:// or memory://"
    )
