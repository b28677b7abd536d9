"""Channels: publish a message once, deliver it to every subscriber of its channel.

Publish from anywhere -- a handler, a background task, a CLI command -- and subscribe from
WebSocket and Server-Sent Events handlers. Two backends, chosen by URL:

* **memory** (the default, ``Channels()``): subscribers of this process only;
* **Redis** (``Channels("redis://...")``, :mod:`kettle.channels_redis`): every worker and
  host that names the same Redis, on Redis *streams* (the docs say why not pub/sub).

Each channel keeps its last ``history`` messages, so a late joiner can ask for them
(``subscribe(..., history=10)``) and a client that reconnects can resume after the last
message it saw (``subscribe(..., last_id=...)``; an SSE client sends it as
``Last-Event-ID``). Each subscriber has a queue of ``queue_size`` messages; one that falls
that far behind is closed (``slow="close"``, the default: its iteration ends, so its
client reconnects and resumes from the history) or loses its oldest messages
(``slow="drop"``, counted in :attr:`Subscription.missed`). Memory never grows with a
slow client.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kettle.exceptions import ConfigurationError, WebSocketDisconnect
from kettle.responses import dumps
from kettle.sse import ServerSentEvent
from kettle.subscriptions import Backend, Message, Subscription

if TYPE_CHECKING:
    from kettle.websockets import WebSocket

__all__ = ["Channels", "Message", "Subscription"]

_SLOW = ("close", "drop")


class MemoryBackend:
    """Channels of one process: a history deque per channel and the subscriber sets."""

    def __init__(self, history: int, max_channels: int = 10_000) -> None:
        self.history = history
        self.max_channels = max_channels
        self._ids = itertools.count(1)
        # channel -> recent messages, least recently published channel first.
        self._recent: dict[str, collections.deque[Message]] = {}
        self._subscribers: dict[str, set[Subscription]] = {}

    async def publish(self, channel: str, text: str) -> str:
        message = Message(channel, str(next(self._ids)), text)
        recent = self._recent.pop(channel, None)
        if recent is None:
            recent = collections.deque(maxlen=self.history or 1)
            if len(self._recent) >= self.max_channels:  # bounded: forget the stalest
                del self._recent[next(iter(self._recent))]
        self._recent[channel] = recent
        if self.history:
            recent.append(message)
        for sub in tuple(self._subscribers.get(channel, ())):
            sub.deliver(message)
        return message.id

    async def attach(self, sub: Subscription, last_id: str | None, history: int) -> None:
        recent = self._recent.get(sub.channel, ())
        after = _memory_position(last_id)
        if after is not None:
            backlog = [m for m in recent if int(m.id) > after]
        else:
            backlog = list(recent)[-history:] if history else []
        self._subscribers.setdefault(sub.channel, set()).add(sub)
        sub.prepend(backlog)

    async def release(self) -> None:
        return None

    def detach(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.channel]

    async def aclose(self) -> None:
        for subs in tuple(self._subscribers.values()):
            for sub in tuple(subs):
                sub.close()


def _memory_position(last_id: str | None) -> int | None:
    # A client sends any Last-Event-ID it likes: what is not one of our ids means "none".
    if last_id is None or not last_id.isdigit() or len(last_id) > 20:
        return None
    return int(last_id)


class Channels:
    """Publish and subscribe, in this process or through Redis.

    Args:
        url: ``None``, ``""`` or ``memory://`` for this process; ``redis://``,
            ``rediss://`` or ``unix://`` for Redis (an app's ``REDIS_URL``).
        history: messages each channel keeps for late joiners and resuming clients.
        queue_size: messages a subscriber may fall behind before ``slow`` applies.
        slow: ``"close"`` (default) ends a subscriber that falls behind, ``"drop"``
            drops its oldest messages.
        prefix: the Redis key prefix of the channels' streams.
        app: an app whose shutdown closes the channels (its subscribers end, the
            connections close): ``Channels(..., app=app)``.

    Example:
        >>> import asyncio
        >>> from kettle.channels import Channels
        >>> channels = Channels(history=10)
        >>> async def demo():
        ...     await channels.publish("news", {"n": 1})
        ...     async with channels.subscribe("news", history=10) as news:
        ...         await channels.publish("news", {"n": 2})
        ...         return [m.data async for m in _first(news, 2)]
        >>> async def _first(sub, n):
        ...     async for message in sub:
        ...         yield message
        ...         n -= 1
        ...         if not n:
        ...             return
        >>> asyncio.run(demo())
        [{'n': 1}, {'n': 2}]
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        history: int = 100,
        queue_size: int = 1000,
        slow: str = "close",
        prefix: str = "kettle:channel:",
        app: Any = None,
    ) -> None:
        if history < 0 or queue_size < 1:
            raise ConfigurationError("history is 0 or more messages, queue_size 1 or more")
        if slow not in _SLOW:
            raise ConfigurationError(f"slow={slow!r}: use 'close' or 'drop'")
        self.history = history
        self.queue_size = queue_size
        self.slow = slow
        self.backend: Backend
        if not url or url == "memory://":
            self.backend = MemoryBackend(history)
        elif url.startswith(("redis://", "rediss://", "unix://")):
            from kettle.channels_redis import RedisBackend  # imports redis-py

            self.backend = RedisBackend(url, history=history, prefix=prefix)
        else:
            raise ConfigurationError(
                f"channels URL {url.split('://')[0]!r}://...: use memory:// or redis://"
            )
        self._loop: asyncio.AbstractEventLoop | None = None
        if app is not None:
            self.init_app(app)

    @classmethod
    def from_app(cls, app: Any, **options: Any) -> Channels:
        """Channels for ``app``, on Redis when its config has a ``REDIS_URL`` (e.g. from
        the environment through ``app.config.from_prefixed_env()``), else in memory.

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__)
            >>> type(Channels.from_app(app).backend).__name__
            'MemoryBackend'
        """
        return cls(app.config.get("REDIS_URL"), app=app, **options)

    def init_app(self, app: Any) -> None:
        """Serve with ``app``: its shutdown ends the subscriptions and closes the
        connections, and :meth:`publish_sync` in its worker threads runs on its loop."""
        app.on_startup(self._remember_loop)
        app.on_shutdown(self.aclose)

    async def _remember_loop(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def publish(self, channel: str, data: Any) -> str:
        """Send ``data`` (anything JSON can hold) to ``channel``'s subscribers; its id.

        Raises:
            kettle.stores.StoreUnavailable: Redis could not be reached.
        """
        text = data.decode() if isinstance(data, bytes) else dumps(data).decode()
        return await self.backend.publish(_checked(channel), text)

    def publish_sync(self, channel: str, data: Any, timeout: float = 5.0) -> str:
        """:meth:`publish` from synchronous code: a thread-pool task, a CLI command.

        In a worker thread of a serving app (``Channels(app=app)``) it runs on the app's
        event loop; elsewhere in an event loop of its own.
        """
        loop = self._loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.publish(channel, data), loop)
            return future.result(timeout)
        return asyncio.run(self._publish_and_close(channel, data))

    async def _publish_and_close(self, channel: str, data: Any) -> str:
        try:
            return await self.publish(channel, data)
        finally:
            await self.backend.release()

    @contextlib.asynccontextmanager
    async def subscribe(
        self, channel: str, *, last_id: str | None = None, history: int = 0
    ) -> AsyncIterator[Subscription]:
        """Receive ``channel``'s messages while the block runs.

        Args:
            last_id: resume after this message id (a client's ``Last-Event-ID``): the
                messages after it still in the history come first. An id that is not
                one of ours is ignored.
            history: without ``last_id``, start with up to this many recent messages.
        """
        sub = Subscription(_checked(channel), self.queue_size, self.slow)
        await self.backend.attach(sub, last_id, max(0, min(history, self.history)))
        try:
            yield sub
        finally:
            sub.close()
            self.backend.detach(sub)

    async def events(
        self, channel: str, last_event_id: str | None = None, *, history: int = 0
    ) -> AsyncIterator[ServerSentEvent]:
        """The channel's messages as Server-Sent Events, resuming after
        ``last_event_id``: ``return EventSourceResponse(channels.events(...))``."""
        async with self.subscribe(channel, last_id=last_event_id, history=history) as sub:
            async for message in sub:
                yield message.event

    async def forward(
        self,
        socket: WebSocket,
        channel: str,
        *,
        last_id: str | None = None,
        history: int = 0,
        on_receive: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """Send ``channel``'s messages to an accepted WebSocket as text (their JSON) until
        the client leaves, the channels close, or the client falls behind (then the
        socket is closed with 1013, *try again later*).

        What the client sends meanwhile goes to ``on_receive`` (``async def``), if given:
        reading it is also how a client that left is noticed while the channel is quiet.

        Example:
            >>> from kettle import Kettle, WebSocket
            >>> app = Kettle(__name__)
            >>> channels = Channels(app=app)
            >>> @app.websocket("/news")
            ... async def news(socket: WebSocket) -> None:
            ...     await socket.accept()
            ...     await channels.forward(socket, "news", history=10)
        """
        async with self.subscribe(channel, last_id=last_id, history=history) as sub:
            sending = asyncio.ensure_future(_send_all(sub, socket))
            receiving = asyncio.ensure_future(_receive_all(socket, on_receive))
            try:
                await asyncio.wait({sending, receiving}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sending, receiving):
                    task.cancel()
                results = await asyncio.gather(sending, receiving, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(result, _GONE):
                    raise result
            if receiving.cancelled() or not isinstance(receiving.exception(), _GONE):
                # The client is still there: say why the messages stop.
                code = 1013 if sub.overflowed else 1001
                with contextlib.suppress(*_GONE):
                    await socket.close(code)

    async def aclose(self) -> None:
        """End every subscription and close the backend's connections."""
        await self.backend.aclose()


# What a send or receive on a WebSocket whose client left raises.
_GONE = (WebSocketDisconnect, RuntimeError, OSError)


async def _send_all(sub: Subscription, socket: WebSocket) -> None:
    async for message in sub:
        await socket.send_text(message.text)


async def _receive_all(
    socket: WebSocket, on_receive: Callable[[str], Awaitable[None]] | None
) -> None:
    while True:
        text = await socket.receive_text()  # WebSocketDisconnect once the client left
        if on_receive is not None:
            await on_receive(text)


def _checked(channel: str) -> str:
    if not isinstance(channel, str) or not channel or len(channel) > 200:
        raise ValueError("a channel name is a string of 1 to 200 characters")
    return channel
