"""Running blocking code without stalling the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from anyio import CapacityLimiter

P = ParamSpec("P")
T = TypeVar("T")


class ThreadPool:
    """A bounded pool for plain ``def`` handlers and other blocking calls.

    The bound keeps a burst of slow sync handlers from spawning unbounded threads; its
    size is ``Kettle(thread_pool_size=...)``. Context variables (the context-local
    ``request``, ``g``...) are copied into the worker thread.
    """

    def __init__(self, size: int = 40) -> None:
        self.size = size
        self._limiter: CapacityLimiter | None = None
        self._run_sync: Any = None

    @property
    def limiter(self) -> CapacityLimiter:
        # Created lazily: a CapacityLimiter must be made inside a running event loop, and
        # importing anyio's thread machinery costs ~9 ms of startup an async app never needs.
        if self._limiter is None:
            import anyio.to_thread

            self._limiter = anyio.CapacityLimiter(self.size)
            self._run_sync = anyio.to_thread.run_sync
        return self._limiter

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``func(*args, **kwargs)`` in a worker thread and await its result.

        Inside :meth:`lease`, the call goes to the request's own thread.
        """
        lease = _lease.get()
        if lease is not None:
            return await lease.run(func, *args, **kwargs)  # type: ignore[no-any-return]
        limiter = self.limiter
        if kwargs:
            return await self._run_sync(functools.partial(func, *args, **kwargs), limiter=limiter)  # type: ignore[no-any-return]
        return await self._run_sync(func, *args, limiter=limiter)  # type: ignore[no-any-return]

    async def acquire_lease(self) -> Any:
        """Reserve one worker thread for the current request; pass the result to
        :meth:`release_lease` when it is done.

        Flask runs a request on one thread, and code written for it relies on that (a
        ``sqlite3`` connection kept on ``g`` may only be used by the thread that opened
        it). While leased, every :meth:`run` of this request -- hooks, view, error
        handlers, teardown -- goes to that thread. The lease counts against the pool size.
        """
        limiter = self.limiter
        jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        # The lease is an anyio worker thread running a job loop, so code in it can still
        # use anyio.from_thread; the pool's limiter bounds leases like any other call.
        task = asyncio.get_running_loop().create_task(self._run_sync(_serve, jobs, limiter=limiter))
        _serving.add(task)
        task.add_done_callback(_serving.discard)
        lease = _Lease(jobs, asyncio.get_running_loop())
        return jobs, _lease.set(lease)

    def release_lease(self, token: Any) -> None:
        jobs, reset = token
        _lease.reset(reset)
        jobs.put(None)  # ends the job loop; the thread returns to the pool

    async def iterate(self, iterable: Iterable[T]) -> AsyncIterator[T]:
        """Iterate a blocking iterator, each ``next()`` in a worker thread."""
        iterator = iter(iterable)
        while True:
            done, value = await self.run(_next, iterator)
            if done:
                return
            yield value  # type: ignore[misc]


def _next(iterator: Iterator[T]) -> tuple[bool, T | None]:
    try:
        return False, next(iterator)
    except StopIteration:
        return True, None


# -- leased threads ---------------------------------------------------------------------------

#: The worker thread leased by the current request, if any.
_lease: contextvars.ContextVar[_Lease | None] = contextvars.ContextVar(
    "kettle.thread_lease", default=None
)
#: In a leased worker thread: the event loop of the request it serves.
thread_state = threading.local()


#: lease job loops in flight (a task nobody references could be garbage-collected)
_serving: set[asyncio.Task[Any]] = set()


def _serve(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        job()


class _Lease:
    __slots__ = ("jobs", "loop")

    def __init__(
        self, jobs: queue.SimpleQueue[Callable[[], None] | None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.jobs = jobs
        self.loop = loop

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = self.loop
        future: asyncio.Future[Any] = loop.create_future()
        context = contextvars.copy_context()

        def job() -> None:
            thread_state.loop = loop
            try:
                result = context.run(func, *args, **kwargs)
            except BaseException as exc:  # delivered to the awaiting request
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

        self.jobs.put(job)
        return await future


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
