"""Calling blocking code from ``async def`` code, on kettle's bounded thread pool.

Starlette's and FastAPI's helpers under their names: :func:`run_in_threadpool`,
:func:`iterate_in_threadpool` and :func:`contextmanager_in_threadpool`. Inside a request
they use the app's pool (``Kettle(thread_pool_size=...)``, the one plain ``def`` handlers
run in), so blocking work started by a handler is bounded with the rest; outside one, a
shared pool of the default size. Context variables are copied into the worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractContextManager, asynccontextmanager
from typing import ParamSpec, TypeVar

from kettle.concurrency import ThreadPool
from kettle.context import current

__all__ = ["contextmanager_in_threadpool", "iterate_in_threadpool", "run_in_threadpool"]

P = ParamSpec("P")
T = TypeVar("T")

_SHARED = ThreadPool()


def _pool() -> ThreadPool:
    ctx = current.get()
    pool = getattr(getattr(ctx, "app", None), "thread_pool", None)
    return pool if isinstance(pool, ThreadPool) else _SHARED


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` called in a worker thread; its result, awaited.

    Example:
        >>> import asyncio, time
        >>> from kettle.blocking import run_in_threadpool
        >>> asyncio.run(run_in_threadpool(sum, [1, 2, 3]))
        6
    """
    return await _pool().run(func, *args, **kwargs)


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """A blocking iterable's items, each ``next()`` run in a worker thread.

    Example:
        >>> import asyncio
        >>> from kettle.blocking import iterate_in_threadpool
        >>> async def collect():
        ...     return [line async for line in iterate_in_threadpool(iter(["a", "b"]))]
        >>> asyncio.run(collect())
        ['a', 'b']
    """
    async for item in _pool().iterate(iterable):
        yield item


@asynccontextmanager
async def contextmanager_in_threadpool(cm: AbstractContextManager[T]) -> AsyncIterator[T]:
    """Enter and exit a blocking context manager in worker threads, from ``async with``.

    An exception in the body is passed to the manager's ``__exit__``, which may suppress it.

    Example:
        >>> import asyncio, threading
        >>> from contextlib import contextmanager
        >>> from kettle.blocking import contextmanager_in_threadpool
        >>> @contextmanager
        ... def opened():
        ...     yield threading.current_thread() is threading.main_thread()
        >>> async def main():
        ...     async with contextmanager_in_threadpool(opened()) as on_main:
        ...         return on_main
        >>> asyncio.run(main())
        False
    """
    pool = _pool()
    value = await pool.run(cm.__enter__)
    try:
        yield value
    except BaseException as exc:
        if not await pool.run(cm.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await pool.run(cm.__exit__, None, None, None)
