"""The ASGI lifespan protocol: startup and shutdown hooks, and a lifespan context."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from kettle.types import AppLike, Receive, Scope, Send

logger = logging.getLogger("kettle.error")

Hook = Callable[[], Any]
# Called with the app; typed Any so that a lifespan naming its own app class (`app: Kettle`,
# `app: FastAPI`) is accepted.
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None]]


def as_lifespan(func: Any) -> Lifespan:
    """Accept an ``@asynccontextmanager`` factory or a bare async generator function."""
    if inspect.isasyncgenfunction(func):
        return contextlib.asynccontextmanager(func)
    return func  # type: ignore[no-any-return]


async def _call(hook: Hook) -> None:
    result = hook()
    if isinstance(result, Awaitable):
        await result


@contextlib.asynccontextmanager
async def run_lifespan(
    app: AppLike,
    lifespan: Lifespan | None,
    on_startup: Sequence[Hook],
    on_shutdown: Sequence[Hook],
    router: Any = None,
) -> AsyncIterator[Mapping[str, Any] | None]:
    """Startup hooks, then the lifespan context; on exit the reverse. With ``router``, the
    hooks and lifespans of the routers under it too (see :func:`with_routers`)."""
    if router is not None:
        lifespan, on_startup, on_shutdown = with_routers(router, lifespan, on_startup, on_shutdown)
    for hook in on_startup:
        await _call(hook)
    try:
        if lifespan is None:
            yield None
        else:
            async with lifespan(app) as state:
                yield state
    finally:
        for hook in on_shutdown:
            await _call(hook)


def with_routers(
    router: Any, lifespan: Lifespan | None, on_startup: Sequence[Hook], on_shutdown: Sequence[Hook]
) -> tuple[Lifespan | None, list[Hook], list[Hook]]:
    """Add the hooks and lifespans of the routers under ``router`` to the app's own.

    ``Router(on_startup=..., on_shutdown=..., lifespan=...)`` of an included router run
    with the app's: hooks after the app's, lifespans entered inside the app's (their
    state merged), as FastAPI merges them when a router is included.
    """
    lifespans = [lifespan] if lifespan is not None else []
    startup, shutdown = list(on_startup), list(on_shutdown)
    for each in router.iter_routers():
        startup += each.on_startup
        shutdown += each.on_shutdown
        if each.lifespan is not None:
            lifespans.append(as_lifespan(each.lifespan))
    if len(lifespans) <= 1:
        return (lifespans[0] if lifespans else None), startup, shutdown
    return _nested(lifespans), startup, shutdown


def _nested(lifespans: Sequence[Lifespan]) -> Lifespan:
    @contextlib.asynccontextmanager
    async def run(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        state: dict[str, Any] = {}
        async with contextlib.AsyncExitStack() as stack:
            for lifespan in lifespans:
                got = await stack.enter_async_context(lifespan(app))
                state.update(got or {})
            yield state or None

    return run


_frozen = False


def _freeze_startup_objects() -> None:
    """Move everything built at startup out of the garbage collector's sight.

    PERF: routes, plans, pydantic validators and imported modules live as long as the
    worker, yet every full collection walks them all; with pydantic and the OpenAPI
    routes loaded that cost kettle ~15% of its requests/s over HTTP (0.78 -> 0.89 of
    raw ASGI's). Done once per process (one app per worker; test suites start many).
    """
    global _frozen
    if _frozen:
        return
    import gc

    gc.collect()
    gc.freeze()
    _frozen = True


async def serve_lifespan(app: AppLike, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the server's lifespan messages around ``app.lifespan_context``."""
    started = False
    await receive()  # lifespan.startup
    try:
        # The app compiled on its way here (Kettle.__call__), so mistakes already surfaced.
        async with app.lifespan_context() as state:
            if state:
                if "state" not in scope:
                    raise RuntimeError("The server does not support lifespan state")
                scope["state"].update(state)
            _freeze_startup_objects()
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()  # lifespan.shutdown
    except BaseException as exc:
        logger.exception("Application %s failed", "shutdown" if started else "startup")
        kind = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
        await send({"type": kind, "message": f"{type(exc).__name__}: {exc}"})
        raise
    await send({"type": "lifespan.shutdown.complete"})
