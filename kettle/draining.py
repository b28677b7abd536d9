"""Draining: this process is about to stop, and what is still open should wind down.

A worker told to stop (SIGTERM under ``kettle run``) goes through two moments, which
:data:`DRAIN` records for the whole process:

1. **draining** (:meth:`Drain.start`): readiness fails (:class:`kettle.health.Health`),
   so a load balancer stops sending new requests; everything else still serves;
2. **closing** (:meth:`Drain.close_streams`): the connections that would otherwise never
   end are ended cleanly -- WebSockets are closed with code 1001 (*going away*) and
   Server-Sent Events streams finish their body, so clients reconnect elsewhere -- while
   the server stops accepting and lets the requests in progress finish.

The server layer (:mod:`kettle.server`) moves the process through both; under another
server, call them yourself (a shutdown hook is too late for the first). Streams register
a callback for the second moment: it runs on their own event loop, once.

Example:
    >>> import asyncio
    >>> from kettle.draining import Drain
    >>> drain = Drain()
    >>> async def stream() -> str:
    ...     stop = asyncio.get_running_loop().create_future()
    ...     drain.register(stop, lambda: stop.set_result("closed"))
    ...     drain.close_streams()
    ...     return await stop
    >>> asyncio.run(stream()), drain.draining
    ('closed', True)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable

__all__ = ["DRAIN", "Drain"]

logger = logging.getLogger("kettle.error")


class Drain:
    """Where one process stands in stopping: serving, draining, or closing its streams."""

    __slots__ = ("_streams", "closing", "draining")

    def __init__(self) -> None:
        #: Told to stop: readiness fails from now on.
        self.draining = False
        #: Streams were asked to end (and any opened from now on ends at once).
        self.closing = False
        self._streams: dict[Hashable, tuple[asyncio.AbstractEventLoop, Callable[[], object]]] = {}

    def start(self) -> None:
        """Fail readiness from now on (idempotent)."""
        if not self.draining:
            self.draining = True
            logger.info("Draining: readiness fails from now on")

    def close_streams(self) -> None:
        """Ask every open stream to end: each registered callback runs once, on its loop.

        Callable from any thread, and from a signal handler. A stream stays counted in
        :attr:`open_streams` until it has ended (unregistered itself).
        """
        self.start()
        if self.closing:
            return
        self.closing = True
        for loop, callback in list(self._streams.values()):
            with contextlib.suppress(RuntimeError):  # that loop is closed: nothing to end
                loop.call_soon_threadsafe(callback)

    def register(self, key: Hashable, callback: Callable[[], object]) -> None:
        """Run ``callback`` (on the running loop) when streams are asked to end; at once
        (soon) if they already were. Call from a coroutine."""
        loop = asyncio.get_running_loop()
        if self.closing:
            loop.call_soon(callback)
        else:
            self._streams[key] = (loop, callback)

    def unregister(self, key: Hashable) -> None:
        """Forget ``key``'s callback (its stream ended by itself)."""
        self._streams.pop(key, None)

    def reset(self) -> None:
        """Back to serving (a test, or a process that serves again after a drain)."""
        self.draining = self.closing = False
        self._streams.clear()

    @property
    def open_streams(self) -> int:
        """How many registered streams have not ended yet."""
        return len(self._streams)


#: The process's drain: what the server layer sets and streams and readiness read.
DRAIN = Drain()
