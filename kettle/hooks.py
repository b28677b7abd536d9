"""Assemble, per route, the Flask-style hooks and error handlers that apply to it.

Done once at compile time from the route's owner chain (app → blueprint → nested
blueprint). The order follows Flask: ``before_request`` app first, then outer to inner
blueprints, each in registration order; ``after_request`` and ``teardown_request`` the
other way round (innermost blueprint first, each list newest first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from kettle.concurrency import ThreadPool
from kettle.introspection import is_async_callable

AsyncHook = Callable[..., Awaitable[Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class Hooks:
    """The hooks one route runs; empty tuples when there are none."""

    before: tuple[AsyncHook, ...] = ()
    after: tuple[AsyncHook, ...] = ()
    teardown: tuple[AsyncHook, ...] = ()
    #: some hook is a plain ``def``: the request keeps one worker thread throughout
    sync: bool = False

    def __bool__(self) -> bool:
        return bool(self.before or self.after or self.teardown)


def as_async(func: Callable[..., Any], pool: ThreadPool) -> AsyncHook:
    """An async callable for a hook; a plain ``def`` runs in the thread pool (it may block)."""
    if is_async_callable(func):
        return func

    async def run(*args: Any) -> Any:
        return await pool.run(func, *args)

    return run


def route_hooks(
    app_funcs: tuple[Sequence[Callable[..., Any]], ...],
    owners: Sequence[Any],
    pool: ThreadPool,
    first: Sequence[Callable[..., Any]] = (),
) -> Hooks:
    """The hooks for a route declared under ``owners`` (the app is ``owners[0]``).

    ``app_funcs`` are the app-wide lists ``(before, after, teardown)``, including what
    blueprints added with ``before_app_request`` and friends; ``first`` run before them
    (the route's URL value preprocessors).
    """
    before = [*first, *app_funcs[0]]
    after: list[Callable[..., Any]] = []
    teardown: list[Callable[..., Any]] = []
    blueprints = [o for o in owners[1:] if hasattr(o, "before_request_funcs")]
    for bp in blueprints:
        before.extend(bp.before_request_funcs)
    for bp in reversed(blueprints):
        after.extend(reversed(bp.after_request_funcs))
        teardown.extend(reversed(bp.teardown_request_funcs))
    after.extend(reversed(app_funcs[1]))
    teardown.extend(reversed(app_funcs[2]))
    return Hooks(
        tuple(as_async(f, pool) for f in before),
        tuple(as_async(f, pool) for f in after),
        tuple(as_async(f, pool) for f in teardown),
        sync=any(not is_async_callable(f) for f in (*before, *after, *teardown)),
    )


def route_error_layers(owners: Sequence[Any]) -> list[dict[Any, Callable[..., Any]]]:
    """The error handlers of the blueprints around a route, innermost first (searched
    before the app's, as in Flask)."""
    return [
        dict(owner.error_handlers)
        for owner in reversed(owners[1:])
        if getattr(owner, "error_handlers", None)
    ]
