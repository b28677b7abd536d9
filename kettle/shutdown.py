"""Graceful shutdown of a ``kettle run`` server process: the drain chained in front of
uvicorn's signal handling.

uvicorn's ``Server`` answers SIGTERM and SIGINT by stopping to accept, waiting for the
connections in progress (within ``--timeout-graceful-shutdown``) and running the lifespan
shutdown. Behind a load balancer that is too abrupt: the balancer still sends requests
until its next readiness probe, and WebSockets and Server-Sent Events streams, which never
end by themselves, are cut (WebSockets with 1012) or hold the shutdown for the whole grace
period. :class:`DrainingSignalHandler` goes first (:mod:`kettle.draining`), then hands the
signal to uvicorn's own handler unchanged.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from kettle.draining import DRAIN

__all__ = ["STREAMS_CLOSE_WAIT", "DrainingSignalHandler", "chain_signal_handlers", "exit_quietly"]

#: Seconds the drain waits, at most, for the streams it asked to end before uvicorn's
#: shutdown begins (which would close what is left with 1012 or cut it).
STREAMS_CLOSE_WAIT = 1.0


class DrainingSignalHandler:
    """uvicorn's SIGTERM/SIGINT handler with the drain in front of it.

    On the first signal readiness fails (:data:`kettle.draining.DRAIN`); ``delay``
    seconds later (at once for SIGINT, or on a second signal) the streams are asked to
    end, and once they have (or after :data:`STREAMS_CLOSE_WAIT`) the signal goes on to
    uvicorn's own handler, which stops accepting, waits for the requests in progress
    within ``--timeout-graceful-shutdown`` and runs the lifespan shutdown. Later signals
    go straight to uvicorn (a second Ctrl+C still forces the exit).
    """

    def __init__(self, handler: Callable[[int, FrameType | None], Any], delay: float) -> None:
        self.handler = handler
        self.delay = delay
        self._timer: asyncio.TimerHandle | None = None
        self._handed_on = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self._handed_on:
            self.handler(signum, frame)
            return
        try:
            loop = asyncio.get_running_loop()  # the server's: signals run in its thread
        except RuntimeError:  # pragma: no cover - the server is not serving yet
            self._hand_on(signum, frame)
            return
        first = not DRAIN.draining
        DRAIN.start()
        if first and signum == signal.SIGTERM and self.delay > 0:
            self._timer = loop.call_later(self.delay, self._close_streams, loop, signum, frame)
            return
        if self._timer is not None:
            self._timer.cancel()  # a second signal: no more waiting for the balancer
        self._close_streams(loop, signum, frame)

    def _close_streams(
        self, loop: asyncio.AbstractEventLoop, signum: int, frame: FrameType | None
    ) -> None:
        self._timer = None
        DRAIN.close_streams()
        deadline = loop.time() + STREAMS_CLOSE_WAIT

        def when_closed() -> None:
            if DRAIN.open_streams and loop.time() < deadline and not self._handed_on:
                loop.call_later(0.02, when_closed)
            else:
                self._hand_on(signum, frame)

        when_closed()

    def _hand_on(self, signum: int, frame: FrameType | None) -> None:
        if not self._handed_on:
            self._handed_on = True
            self.handler(signum, frame)


def chain_signal_handlers(drain_delay: float) -> bool:
    """Put a :class:`DrainingSignalHandler` in front of uvicorn's handlers in this process.

    Only where uvicorn's ``Server`` has its handlers installed (in the main thread of a
    server process, from inside ``Server.serve``); returns whether it did.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    from uvicorn.server import Server

    chained = False
    for signum in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(signum)
        if isinstance(getattr(handler, "__self__", None), Server) and callable(handler):
            signal.signal(signum, DrainingSignalHandler(handler, drain_delay))
            chained = True
    return chained


def exit_quietly(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler ``kettle run`` installs before uvicorn's, which uvicorn puts
    back and calls again once it has shut down gracefully: the exit status is then 0,
    not "killed by SIGTERM". (A SIGTERM before uvicorn serves exits at once, with 0.)"""
    raise SystemExit(0)
