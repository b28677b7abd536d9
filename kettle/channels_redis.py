"""The Redis backend of :class:`~kettle.channels.Channels`, on Redis streams.

Each channel is a stream (``XADD``, trimmed to about ``max(history, 1000)`` entries, and
expiring ``channel_ttl`` seconds after its last message). Streams rather than pub/sub
because a stream keeps what was published: the history for late joiners and the
messages a reconnecting client missed are the stream itself (``XRANGE`` after its
``Last-Event-ID``), a worker whose connection to Redis drops reads on from where it was
when it is back instead of losing what was sent meanwhile, and every message has an id
that orders it within its channel. Pub/sub would forget each message as soon as it was
sent.

Each event loop (one per worker process) has one reader: a task on a connection of its
own, blocked in one ``XREAD`` over every channel this process has subscribers for, which
hands each message to the local subscribers (decoded once, shared). A new channel wakes
the reader through a stream of its own, so it joins the ``XREAD`` at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from kettle.stores import RedisStore, StoreUnavailable
from kettle.subscriptions import Message, Subscription

__all__ = ["RedisBackend"]

logger = logging.getLogger("kettle.channels")

_ID = re.compile(r"\d{1,20}-\d{1,20}")

# XADD and its expiry in one step: a stream never outlives its channel_ttl.
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id
"""


def _key(id: str) -> tuple[int, int]:
    ms, _, seq = id.partition("-")
    return int(ms), int(seq or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(reply: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """XREAD's reply as ``[(stream, [(id, data)])]`` (RESP2 lists or RESP3 maps)."""
    if not reply:
        return []
    items = reply.items() if isinstance(reply, dict) else reply
    return [
        (_text(stream), [(_text(i), _data(fields)) for i, fields in entries])
        for stream, entries in items
    ]


def _data(fields: Any) -> str:
    if isinstance(fields, dict):
        value = fields.get(b"d", fields.get("d"))
    else:  # a flat [field, value, ...] list
        value = fields[1] if len(fields) > 1 else ""
    return _text(value)


class RedisBackend:
    """Channels on Redis streams, shared by every process using the same Redis.

    Args:
        url: the Redis URL.
        history: messages kept for late joiners (the streams keep at least 1,000, so a
            reader that fell behind can catch up).
        prefix: put before each channel's stream name.
        block: seconds one ``XREAD`` waits before it is sent again.
        timeout: seconds to wait for Redis on a publish or a subscribe.
        channel_ttl: seconds a channel's stream is kept after its last message.
    """

    def __init__(
        self,
        url: str,
        *,
        history: int = 100,
        prefix: str = "kettle:channel:",
        block: float = 5.0,
        timeout: float = 0.5,
        channel_ttl: float = 86_400.0,
    ) -> None:
        self.url = url
        self.history = history
        self.retain = max(history, 1000)
        self.prefix = prefix
        self.block = block
        self.timeout = timeout
        self.ttl_ms = int(channel_ttl * 1000)
        self.store = RedisStore(url, prefix="", timeout=timeout)
        self._readers: dict[int, _Reader] = {}

    def _reader(self) -> _Reader:
        loop = asyncio.get_running_loop()
        reader = self._readers.get(id(loop))
        if reader is None or reader.loop is not loop:
            reader = self._readers[id(loop)] = _Reader(self, loop)
        return reader

    async def publish(self, channel: str, text: str) -> str:
        key = self.prefix + channel
        reply = await self.store.call("EVAL", _PUBLISH, 1, key, text, self.retain, self.ttl_ms)
        return _text(reply)

    async def range(self, channel: str, *args: Any) -> list[Message]:
        """``XRANGE``/``XREVRANGE`` of a channel as messages (``args`` after the key)."""
        command, *rest = args
        reply = await self.store.call(command, self.prefix + channel, *rest)
        messages = [Message(channel, _text(i), _data(fields)) for i, fields in reply]
        if command == "XREVRANGE":
            messages.reverse()
        return messages

    async def attach(self, sub: Subscription, last_id: str | None, history: int) -> None:
        await self._reader().add(sub, last_id, history)

    def detach(self, sub: Subscription) -> None:
        reader = self._readers.get(id(sub._loop))
        if reader is not None:
            reader.remove(sub)

    async def release(self) -> None:
        await self.store.aclose()

    async def aclose(self) -> None:
        """Close this event loop's subscriptions, reader and connections."""
        reader = self._readers.pop(id(asyncio.get_running_loop()), None)
        if reader is not None:
            await reader.stop()
        await self.store.aclose()


class _Reader:
    """One event loop's XREAD task and the subscribers it feeds."""

    def __init__(self, backend: RedisBackend, loop: asyncio.AbstractEventLoop) -> None:
        self.backend = backend
        self.loop = loop
        self.subs: dict[str, set[Subscription]] = {}
        # channel -> id of the last message handed to its subscribers
        self.positions: dict[str, str] = {}
        self.wake_key = f"{backend.prefix}wake:{uuid.uuid4().hex}"
        self.wake_position = "0-0"
        self.task: asyncio.Task[None] | None = None
        self.client: Any = None
        self.stopping = False
        self._warned = 0.0

    async def add(self, sub: Subscription, last_id: str | None, history: int) -> None:
        backend, channel = self.backend, sub.channel
        if channel not in self.positions:
            newest = await backend.range(channel, "XREVRANGE", "+", "-", "COUNT", 1)
            if channel not in self.positions:  # another subscriber may have come first
                self.positions[channel] = newest[-1].id if newest else "0-0"
                await self._wake()
        # No await from here to the end of the registration: the reader hands out every
        # message after `position`, and the backlog below is everything up to it.
        position = self.positions[channel]
        self.subs.setdefault(channel, set()).add(sub)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        backlog: list[Message] = []
        if last_id is not None and _ID.fullmatch(last_id):
            if _key(last_id) < _key(position):
                backlog = await backend.range(
                    channel, "XRANGE", f"({last_id}", position, "COUNT", backend.retain
                )
        elif history and position != "0-0":
            backlog = await backend.range(channel, "XREVRANGE", position, "-", "COUNT", history)
        sub.prepend(backlog)

    def remove(self, sub: Subscription) -> None:
        subs = self.subs.get(sub.channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self.subs[sub.channel]
            del self.positions[sub.channel]

    async def _wake(self) -> None:
        """Make a blocked XREAD return, so it is sent again with the new channel."""
        if self.task is not None and not self.task.done():
            store = self.backend.store
            await store.call("XADD", self.wake_key, "MAXLEN", "1", "*", "w", "1")
            await store.call("PEXPIRE", self.wake_key, 60_000)

    async def _run(self) -> None:
        import redis.asyncio

        backend = self.backend
        # Its own connection: a blocked XREAD must not hold one the publishers need, and
        # its socket timeout must outlast the block.
        self.client = redis.asyncio.Redis.from_url(
            backend.url,
            socket_timeout=backend.block + backend.timeout + 1,
            socket_connect_timeout=backend.timeout,
        )
        delay = 0.1
        try:
            while self.subs and not self.stopping:
                streams = {self.wake_key: self.wake_position}
                for channel, position in self.positions.items():
                    streams[backend.prefix + channel] = position
                try:
                    reply = await self.client.xread(
                        streams, count=500, block=int(backend.block * 1000)
                    )
                except (redis.RedisError, OSError, TimeoutError) as exc:
                    self._warn(exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                delay = 0.1
                self._hand_out(reply)
        finally:
            client, self.client = self.client, None
            await client.aclose()

    def _hand_out(self, reply: Any) -> None:
        prefix_length = len(self.backend.prefix)
        for stream, entries in _entries(reply):
            if stream == self.wake_key:
                self.wake_position = entries[-1][0]
                continue
            channel = stream[prefix_length:]
            subs = self.subs.get(channel)
            position = self.positions.get(channel)
            if not subs or position is None:
                continue  # nobody listens any more
            last = _key(position)
            for id, text in entries:
                key = _key(id)
                if key <= last:  # read by an XREAD sent before this channel was re-added
                    continue
                last = key
                self.positions[channel] = id
                message = Message(channel, id, text)
                for sub in tuple(subs):
                    sub.deliver(message)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned > 10:  # one line per 10 s while Redis is away
            self._warned = now
            logger.warning("Channels: Redis unavailable (%s); retrying", type(exc).__name__)

    async def stop(self) -> None:
        self.stopping = True
        for subs in tuple(self.subs.values()):
            for sub in tuple(subs):
                sub.close()
        self.subs.clear()
        self.positions.clear()
        task = self.task
        if task is not None and not task.done():
            try:
                await self._wake()
                await asyncio.wait_for(asyncio.shield(task), self.backend.block + 2)
            except (StoreUnavailable, TimeoutError):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
