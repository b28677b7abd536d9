"""Assemble, per route, the Flask-style hooks and error handlers that apply to it.

Done once at compile time from the route's owner chain (app → blueprint → nested
blueprint). The order follows Flask: ``before_request`` app first, then outer to inner
blueprints, each in registration order; ``after_request`` and ``teardown_request`` the
other way round (innermost blueprint first, each list newest first).

Running them is here too, for dispatch (``kettle/dispatch.py``): :func:`run_before_request`,
:func:`run_after_request`, and :func:`tear_down` (the teardown of every request, after a
cancellation too).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from kettle import requestsignals
from kettle.concurrency import ThreadPool
from kettle.di import teardown, teardown_scope
from kettle.introspection import is_async_callable
from kettle.responses import Response, to_response

if TYPE_CHECKING:
    from kettle.context import RequestContext
    from kettle.errorhandlers import ExceptionHandlers
    from kettle.requests import Request

logger = logging.getLogger("kettle.error")

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


async def run_before_request(hooks: tuple[Any, ...]) -> Response | None:
    """Run ``before_request`` hooks: the first value one returns is the answer, sent as it
    is (as in Flask: the response model is the handler's), and the rest do not run."""
    for hook in hooks:
        value = await hook()
        if value is not None:
            return to_response(value)
    return None


async def run_after_request(
    hooks: tuple[Any, ...], response: Response, errors: ExceptionHandlers, request: Request
) -> Response:
    """Run ``after_request`` hooks; each must return the response (Flask's contract)."""
    try:
        for hook in hooks:
            result = await hook(response)
            if not isinstance(result, Response):
                raise TypeError(
                    f"after_request hook {getattr(hook, '__name__', hook)!r} must return the "
                    f"response, not {type(result).__name__}"
                )
            response = result
    except Exception as exc:
        return await errors.response_for(request, exc)
    return response


async def _teardown_hook(hook: Any, failure: BaseException | None) -> None:
    try:
        await hook(failure)
    except Exception:
        logger.exception("Error in a teardown_request hook")


async def tear_down(
    ctx: RequestContext,
    failure: BaseException | None,
    hooks: tuple[Any, ...],
    errors: ExceptionHandlers,
    signalling: bool,
    app: Any,
) -> None:
    """Teardown, whatever happened: ``teardown_request`` hooks, uploaded files closed,
    ``yield`` dependencies closed (newest first, shown the failure), the request signal;
    after a cancellation shielded from it (``kettle.di.teardown_scope``)."""
    handled = failure is None or errors.handles(failure)
    # Flask's teardown_request sees only errors nothing handled.
    unhandled = None if handled else failure
    with teardown_scope(failure):
        for hook in hooks:
            await _teardown_hook(hook, unhandled)
        request = ctx.created_request
        if request is not None and request.parsed_form is not None:
            await request.parsed_form.close()
        call = ctx.call
        if call is not None and call.stack is not None:
            await teardown(call, failure)
        if signalling:
            requestsignals.torn_down(app, unhandled)
