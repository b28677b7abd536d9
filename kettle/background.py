"""Work that runs after the response has been sent."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kettle.introspection import is_async_callable


class BackgroundTask:
    """One call to make after the response: ``func(*args, **kwargs)``."""

    __slots__ = ("args", "func", "is_async", "kwargs")

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            import anyio.to_thread

            await anyio.to_thread.run_sync(functools.partial(self.func, *self.args, **self.kwargs))


class BackgroundTasks(BackgroundTask):
    """Tasks a handler queues to run, in order, after its response has been sent.

    A handler receives the request's instance by declaring a parameter of this type.
    They run before the teardown of ``yield`` dependencies, so they can still use what
    those dependencies provide. A task that raises is logged; later tasks still run.

    Example:
        >>> from kettle import BackgroundTasks, Kettle
        >>> app = Kettle(__name__)
        >>> sent = []
        >>> @app.post("/signup")
        ... async def signup(tasks: BackgroundTasks) -> dict[str, bool]:
        ...     tasks.add_task(sent.append, "welcome email")
        ...     return {"ok": True}
    """

    __slots__ = ("tasks",)

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks or [])

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue ``func(*args, **kwargs)``; sync functions run in a worker thread."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    def __bool__(self) -> bool:
        return bool(self.tasks)

    async def __call__(self) -> None:
        import logging

        for task in self.tasks:
            try:
                await task()
            except Exception:
                logging.getLogger("kettle.error").exception(
                    "Background task %s failed", getattr(task.func, "__name__", task.func)
                )
