"""What channels hand to their subscribers: :class:`Message`, and :class:`Subscription`,
one subscriber's bounded queue with its slow-subscriber policy; and the :class:`Backend`
interface the memory and Redis backends of :mod:`kettle.channels` implement.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from kettle.sse import ServerSentEvent

__all__ = ["Backend", "Message", "Subscription"]

_UNSET: Any = object()


class Message:
    """One published message: its ``channel``, its ``id`` (increasing within the channel;
    what a subscriber resumes after) and ``text``, the data as JSON.

    Example:
        >>> from kettle.subscriptions import Message
        >>> m = Message("news", "7", '{"n":1}')
        >>> m.data, m.event.encode()
        ({'n': 1}, b'data: {"n":1}\\nid: 7\\n\\n')
    """

    __slots__ = ("_data", "_event", "channel", "id", "text")

    def __init__(self, channel: str, id: str, text: str) -> None:
        self.channel = channel
        self.id = id
        self.text = text
        self._data: Any = _UNSET
        self._event: ServerSentEvent | None = None

    @property
    def data(self) -> Any:
        """The published value, decoded from :attr:`text` (once)."""
        if self._data is _UNSET:
            self._data = orjson.loads(self.text)
        return self._data

    @property
    def event(self) -> ServerSentEvent:
        """The message as a Server-Sent Event (its id is the event id), built once and
        shared by every subscriber."""
        if self._event is None:
            self._event = ServerSentEvent(raw_data=self.text, id=self.id)
        return self._event

    def __repr__(self) -> str:
        return f"Message({self.channel!r}, {self.id!r}, {self.text!r})"


class Subscription:
    """The messages of one channel for one subscriber: iterate it (``async for``).

    Made by :meth:`Channels.subscribe`. Iteration ends when the subscription is closed:
    by leaving the ``async with`` block, by :meth:`Channels.aclose`, or for falling
    ``queue_size`` messages behind with ``slow="close"`` (:attr:`overflowed` is then
    true).
    """

    __slots__ = (
        "_event",
        "_loop",
        "_queue",
        "channel",
        "closed",
        "missed",
        "overflowed",
        "position",
        "queue_size",
        "slow",
    )

    def __init__(self, channel: str, queue_size: int, slow: str) -> None:
        self.channel = channel
        self.queue_size = queue_size
        self.slow = slow
        self._queue: collections.deque[Message] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self.closed = False
        #: Messages dropped from the front of the queue (``slow="drop"``).
        self.missed = 0
        #: Closed for falling behind (``slow="close"``).
        self.overflowed = False
        #: The id of the last message handed to this subscription (None: none yet).
        self.position: str | None = None

    def deliver(self, message: Message) -> None:
        """Queue ``message`` (from any thread: it is passed to the subscriber's loop)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens
                self._loop.call_soon_threadsafe(self.deliver, message)
            return
        if self.closed:
            return
        queue = self._queue
        if len(queue) >= self.queue_size:
            if self.slow == "drop":
                queue.popleft()
                self.missed += 1
            else:
                # Stop queueing: what is queued is still handed out, then iteration ends
                # and the client resumes from the history after the last one it saw.
                self.overflowed = True
                self.closed = True
                self._event.set()
                return
        queue.append(message)
        self.position = message.id
        self._event.set()

    def prepend(self, messages: list[Message]) -> None:
        """Put the backlog (history, or what a resuming client missed) first."""
        self._queue.extendleft(reversed(messages))
        if messages:
            self._event.set()

    def close(self) -> None:
        """End iteration (after the messages already queued)."""
        self.closed = True
        self._event.set()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        queue, event = self._queue, self._event
        while True:
            while queue:
                yield queue.popleft()
            if self.closed:
                return
            event.clear()
            await event.wait()


class Backend(Protocol):
    """What :class:`Channels` needs of a backend (memory, Redis)."""

    async def publish(self, channel: str, text: str) -> str: ...

    async def attach(self, sub: Subscription, last_id: str | None, history: int) -> None: ...

    def detach(self, sub: Subscription) -> None: ...

    async def release(self) -> None:
        """Close this event loop's connections (publishing from a loop about to end)."""
        ...

    async def aclose(self) -> None: ...
