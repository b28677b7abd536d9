"""Where rate-limit counters live: in this process (:class:`MemoryStore`) or in Redis
(:class:`RedisStore`, shared by every worker and host), or in any :class:`kettle.stores.Store`
(:class:`StoreCounters`).

Both count with the same two algorithms, and both check every rule of a request and count
the hit in one atomic step (a request refused by one rule uses none of the others):

* **fixed window**: a counter per key and per window of ``period`` seconds, aligned on the
  clock (``12:00:00-12:00:59``...); cheap, but a client can send ``2 * limit`` requests
  across a window boundary;
* **sliding window** (the default): the same counters, but the previous window's count is
  weighted by how much of it still overlaps the last ``period`` seconds
  (``previous * (1 - elapsed / period) + current``). It smooths the boundary burst away
  with two counters per key instead of a log of every request.

Only allowed requests are counted: a client hammering a closed limit does not push its
own reopening further away.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kettle import stores
from kettle.exceptions import ConfigurationError
from kettle.stores import StoreUnavailable

__all__ = [
    "MemoryStore",
    "Rate",
    "RateLimitStore",
    "RedisStore",
    "StoreCounters",
    "StoreUnavailable",
    "Window",
    "counters_for",
]

logger = logging.getLogger("kettle.ratelimit")


@dataclasses.dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: float


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """One rule's counters as the store saw them, this hit included when it was allowed."""

    current: int
    previous: int
    elapsed: float  # seconds since the current window started


class RateLimitStore(Protocol):
    """What :class:`~kettle.middleware.ratelimit.RateLimitMiddleware` needs of a store."""

    async def hit(
        self, keys: Sequence[str], rates: Sequence[Rate], sliding: bool
    ) -> tuple[bool, list[Window]]:
        """Check every ``(key, rate)`` pair; if all allow one more request, count it in each.

        Raises:
            StoreUnavailable: the counters could not be read or written.
        """
        ...


def used(window: Window, rate: Rate, sliding: bool) -> float:
    """Requests counted against ``rate`` in the last ``period`` (weighted when sliding)."""
    if not sliding:
        return float(window.current)
    overlap = max(0.0, rate.period - window.elapsed) / rate.period
    return window.previous * overlap + window.current


class MemoryStore:
    """Counters in this process: for one worker, or limits that may differ per worker.

    Memory stays bounded: expired keys are purged at most every ``purge_interval``
    seconds, and past ``max_keys`` the least recently used keys are dropped (a dropped key
    starts again from zero, so keep the cap above the number of clients you expect).

    Example:
        >>> import asyncio
        >>> from kettle.middleware.ratelimit_stores import MemoryStore, Rate
        >>> store = MemoryStore()
        >>> hits = [asyncio.run(store.hit(["ada"], [Rate(2, 60)], True))[0] for _ in range(3)]
        >>> hits
        [True, True, False]
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
        # key -> [window index, current count, previous count, expires at]
        self._counters: dict[str, list[Any]] = {}
        self._next_purge = clock() + purge_interval

    def __len__(self) -> int:
        return len(self._counters)

    async def hit(
        self, keys: Sequence[str], rates: Sequence[Rate], sliding: bool
    ) -> tuple[bool, list[Window]]:
        now = self.clock()
        if now >= self._next_purge:
            self._purge(now)
        counters = self._counters
        allowed = True
        seen: list[tuple[str, Rate, int, int, int, float]] = []
        for key, rate in zip(keys, rates, strict=True):
            index = int(now // rate.period)
            entry = counters.get(key)
            if entry is None or entry[0] < index - 1:
                current = previous = 0
            elif entry[0] == index - 1:
                current, previous = 0, entry[1]
            else:
                current, previous = entry[1], entry[2]
            elapsed = now - index * rate.period
            count: float = current
            if sliding and previous:
                count += previous * max(0.0, rate.period - elapsed) / rate.period
            if count + 1 > rate.limit:
                allowed = False
            seen.append((key, rate, index, current, previous, elapsed))
        windows = []
        for key, rate, index, current, previous, elapsed in seen:
            if allowed:
                current += 1
                # Moved to the end: dict order is the least recently used first.
                counters.pop(key, None)
                counters[key] = [index, current, previous, (index + 2) * rate.period]
            windows.append(Window(current, previous, elapsed))
        if len(counters) > self.max_keys:
            self._purge(now)
            while len(counters) > self.max_keys:
                del counters[next(iter(counters))]
        return allowed, windows

    def _purge(self, now: float) -> None:
        self._next_purge = now + self.purge_interval
        expired = [key for key, entry in self._counters.items() if entry[3] <= now]
        for key in expired:
            del self._counters[key]


# Every rule checked before any is counted, all in one script: atomic across the rules, and
# one round trip. The window index is part of the key, and each counter expires after two
# windows (the sliding algorithm still reads it during the next one). Redis's own clock is
# used, so workers on hosts whose clocks drift still share windows.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local sliding = ARGV[1] == '1'
local allowed = 1
local seen = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local index = math.floor(now / period)
  local key = KEYS[i] .. ':' .. string.format('%d', index)
  local current = tonumber(redis.call('GET', key) or '0')
  local previous = 0
  if sliding then
    previous = tonumber(redis.call('GET', KEYS[i] .. ':' .. string.format('%d', index - 1)) or '0')
  end
  local elapsed = now - index * period
  local count = current
  if sliding then
    count = previous * math.max(0, period - elapsed) / period + current
  end
  if count + 1 > limit then
    allowed = 0
  end
  seen[i] = {key, current, previous, elapsed, period}
end
local out = {allowed}
for i = 1, #KEYS do
  local s = seen[i]
  local current = s[2]
  if allowed == 1 then
    current = redis.call('INCR', s[1])
    if current == 1 then
      redis.call('PEXPIRE', s[1], math.ceil(s[5] * 2000))
    end
  end
  out[#out + 1] = tostring(current)
  out[#out + 1] = tostring(s[3])
  out[#out + 1] = tostring(s[4])
end
return out
"""


class RedisStore:
    """Counters in Redis, shared by every worker and host that uses the same server.

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://`` (TLS) or ``unix://``.
        client: a ``redis.asyncio.Redis`` to use instead of ``url`` (its event loop is
            then yours to manage).
        prefix: namespace for the keys; each key is ``prefix`` + a hash of the rule and
            the client's key, so no client input ever reaches a key name.
        timeout: seconds to wait for Redis before the request is answered as the
            middleware's ``on_store_error`` says.
        store: a :class:`kettle.stores.RedisStore` whose connections to share (instead of
            ``url``, ``client`` and ``timeout``; its own prefix is not used).

    Example:
        >>> from kettle.middleware.ratelimit_stores import RedisStore
        >>> store = RedisStore("redis://127.0.0.1:6379/0", prefix="myapp:ratelimit:")
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Any = None,
        prefix: str = "kettle:ratelimit:",
        timeout: float = 0.5,
        store: stores.RedisStore | None = None,
    ) -> None:
        self.connection = store or stores.RedisStore(url, client=client, timeout=timeout)
        self.url = self.connection.url
        self.timeout = self.connection.timeout
        self.prefix = prefix

    async def aclose(self) -> None:
        """Close this event loop's connections (the middleware calls it at shutdown; a
        shared store opens new ones when next used)."""
        await self.connection.aclose()

    async def hit(
        self, keys: Sequence[str], rates: Sequence[Rate], sliding: bool
    ) -> tuple[bool, list[Window]]:
        args: list[Any] = ["1" if sliding else "0"]
        for rate in rates:
            args += [rate.limit, repr(float(rate.period))]
        names = [self.prefix + key for key in keys]
        reply = await self.connection.call("EVAL", _SCRIPT, len(names), *names, *args)
        values = [v.decode() if isinstance(v, bytes) else str(v) for v in reply[1:]]
        windows = [
            Window(int(values[i]), int(float(values[i + 1])), float(values[i + 2]))
            for i in range(0, len(values), 3)
        ]
        return int(reply[0]) == 1, windows


class StoreCounters:
    """Counters in any :class:`kettle.stores.Store`, through its ``get`` and ``incr``.

    With :class:`kettle.stores.MemoryStore` a hit is atomic (nothing awaits between the
    reads and the writes). With another store each counter is atomic but the rules of one
    hit are checked and counted in several steps, so two requests at once may both pass
    the last unit of a budget; :class:`RedisStore` does it in one script instead.
    The clock is this process's (``time.time``).

    Example:
        >>> import asyncio
        >>> from kettle import stores
        >>> from kettle.middleware.ratelimit_stores import Rate, StoreCounters
        >>> counters = StoreCounters(stores.MemoryStore())
        >>> [asyncio.run(counters.hit(["ada"], [Rate(1, 60)], False))[0] for _ in range(2)]
        [True, False]
    """

    def __init__(
        self,
        store: stores.Store,
        *,
        prefix: str = "ratelimit:",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.clock = clock

    async def aclose(self) -> None:
        """Close the store's connections (the middleware calls it at shutdown)."""
        await self.store.aclose()

    async def hit(
        self, keys: Sequence[str], rates: Sequence[Rate], sliding: bool
    ) -> tuple[bool, list[Window]]:
        now = self.clock()
        allowed = True
        seen: list[tuple[str, Rate, int, int, float]] = []
        for key, rate in zip(keys, rates, strict=True):
            index = int(now // rate.period)
            name = f"{self.prefix}{key}:{index}"
            current = int(await self.store.get(name) or 0)
            previous = 0
            if sliding:
                previous = int(await self.store.get(f"{self.prefix}{key}:{index - 1}") or 0)
            elapsed = now - index * rate.period
            window = Window(current, previous, elapsed)
            if used(window, rate, sliding) + 1 > rate.limit:
                allowed = False
            seen.append((name, rate, current, previous, elapsed))
        windows = []
        for name, rate, current, previous, elapsed in seen:
            if allowed:
                # Kept two windows: the sliding algorithm reads it during the next one.
                current = await self.store.incr(name, ttl=2 * rate.period)
            windows.append(Window(current, previous, elapsed))
        return allowed, windows


def counters_for(store: Any) -> RateLimitStore:
    """The rate-limit counters for ``store``: a :class:`RateLimitStore` as it is, a
    :class:`kettle.stores.RedisStore` through the one-script :class:`RedisStore` (on the
    same connections), any other :class:`kettle.stores.Store` through
    :class:`StoreCounters`.

    Raises:
        ConfigurationError: ``store`` is neither.
    """
    if callable(getattr(store, "hit", None)):
        return store  # type: ignore[no-any-return]
    if isinstance(store, stores.RedisStore):
        return RedisStore(store=store, prefix=store.prefix + "ratelimit:")
    if isinstance(store, stores.Store):
        return StoreCounters(store)
    raise ConfigurationError(
        f"store {type(store).__name__}: use a kettle.stores store or a rate-limit store"
    )
