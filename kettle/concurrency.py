"""Running blocking code without stalling the event loop."""

from __future__ import annotations

import functools
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
        """Call ``func(*args, **kwargs)`` in a worker thread and await its result."""
        limiter = self.limiter
        if kwargs:
            return await self._run_sync(functools.partial(func, *args, **kwargs), limiter=limiter)  # type: ignore[no-any-return]
        return await self._run_sync(func, *args, limiter=limiter)  # type: ignore[no-any-return]

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
