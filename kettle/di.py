"""Dependency injection at request time: the state of one resolution, calling a
dependency, app-scoped values and teardown.

What to call and in which order is decided at startup (:mod:`kettle.plan` turns the
:class:`~kettle.signature.CallSpec` tree into steps); this module holds what runs per
request. ``yield`` dependencies enter an exit stack that closes after the response has been
sent, newest first, and sees the handler's exception if there was one. App-scoped
dependencies (``Depends(..., scope="app")``) are created once, at startup, and closed at
shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import anyio

from kettle.concurrency import ThreadPool
from kettle.exceptions import ConfigurationError, FastAPIError
from kettle.signature import CallSpec

logger = logging.getLogger("kettle.error")


def follows_fastapi(app: Any) -> bool:
    """Whether ``app`` asks for FastAPI's conventions (``kettle.fastapi.FastAPI``); read
    on error paths only, never for a request that succeeds."""
    return getattr(app, "conventions", "kettle") == "fastapi"


#: Marks a value not resolved (yet) in :attr:`CallState.values` and missing raw inputs.
MISSING: Any = object()


class CallState:
    """The state of resolving one plan for one request (or WebSocket connection).

    ``values`` holds each step's result by slot; ``errors`` collects validation errors of
    every step so a 422 reports them together; ``response`` and ``background`` are the
    ``Response`` and ``BackgroundTasks`` objects handed to parameters that ask for them;
    ``stack`` closes ``yield`` dependencies.
    """

    # PERF: what most requests never use defaults at class level; __init__ sets six
    # attributes instead of ten (every typed request makes one).
    body_errors = False
    #: the body that failed validation, for ``RequestValidationError.body``
    failed_body: Any = None
    response: Any = None
    background: Any = None
    stack: contextlib.AsyncExitStack | None = None
    #: the ``yield`` dependencies of ``scope="function"``, closed when the handler returns
    function_stack: contextlib.AsyncExitStack | None = None

    def __init__(self, conn: Any, params: dict[str, Any], slots: int) -> None:
        self.conn = conn
        self.params = params
        self.values: list[Any] = [MISSING] * slots
        self.errors: list[dict[str, Any]] = []
        self.body_values: dict[str, Any] = {}
        self.form_values: dict[str, Any] = {}

    def exit_stack(self) -> contextlib.AsyncExitStack:
        """The stack ``yield`` dependencies enter (created on first use)."""
        if self.stack is None:
            self.stack = contextlib.AsyncExitStack()
        return self.stack

    def function_exit_stack(self) -> contextlib.AsyncExitStack:
        """The stack ``scope="function"`` dependencies enter (created on first use)."""
        if self.function_stack is None:
            self.function_stack = contextlib.AsyncExitStack()
        return self.function_stack

    async def close_function_scope(self) -> None:
        """Close the ``scope="function"`` dependencies once the handler has returned."""
        stack, self.function_stack = self.function_stack, None
        if stack is not None:
            await stack.aclose()

    @property
    def shapes_response(self) -> bool:
        """Whether a parameter received the ``Response`` or ``BackgroundTasks`` object,
        so what the handler returns must be merged with it."""
        return self.response is not None or self.background is not None

    def apply_to(self, response: Any) -> None:
        """Merge headers, cookies and status set on the injected ``Response`` into
        ``response``, and attach the injected background tasks.

        They are taken: afterwards :attr:`shapes_response` is False, so a response is
        shaped once even when a route class's wrapper has done it already.
        """
        injected, background = self.response, self.background
        self.response = self.background = None
        if injected is not None:
            response.merge_from(injected)
        if background is not None and response.background is None:
            response.background = background


async def call_dependency(
    spec: CallSpec,
    kwargs: dict[str, Any],
    pool: ThreadPool,
    stack: Callable[[], contextlib.AsyncExitStack],
) -> Any:
    """Call one dependency; a generator's exit is pushed onto ``stack()``.

    Plain ``def`` dependencies (and sync generators) run in the thread pool.
    """
    func = spec.func
    if spec.generator == "async":
        return await stack().enter_async_context(contextlib.asynccontextmanager(func)(**kwargs))
    if spec.generator == "sync":
        manager = contextlib.contextmanager(func)(**kwargs)
        return await stack().enter_async_context(_ThreadedContext(manager, pool))
    if spec.is_async:
        return await func(**kwargs)
    return await pool.run(func, **kwargs)


async def unwind(state: CallState, failure: Exception) -> BaseException:
    """Show the handler's exception to its ``yield`` dependencies, newest first, before
    the error becomes a response, and close them: the exception the response is made
    from (a dependency may raise another, an ``HTTPException`` say, as in FastAPI's
    "dependencies with yield and except"). One that swallows it leaves the original; in a
    FastAPI app it is a :class:`FastAPIError` instead (FastAPI then has no response to
    send), whose cause is the original.
    """
    for attribute in ("function_stack", "stack"):  # the function scope ends first
        stack = getattr(state, attribute)
        setattr(state, attribute, None)
        if stack is None:
            continue
        try:
            swallowed = await stack.__aexit__(type(failure), failure, failure.__traceback__)
        except BaseException as raised:
            if not isinstance(raised, Exception):
                return raised
            failure = raised
        else:
            if swallowed and follows_fastapi(getattr(state.conn, "app", None)):
                error = FastAPIError(
                    "The handler was raising an exception and a dependency with yield caught "
                    "it without raising it again: end its `except` block with `raise` (or "
                    f"raise an HTTPException there). The handler raised {failure!r}"
                )
                error.__cause__ = failure
                failure = error
    return failure


#: how long teardown may take after a cancellation (it is shielded from it, so that a
#: `yield` dependency sees the failure and the hooks run; a hung one is cut off)
TEARDOWN_AFTER_CANCEL = 10.0


def teardown_scope(failure: BaseException | None) -> contextlib.AbstractContextManager[Any]:
    """Where teardown runs: after a cancellation (a ``BaseException`` that is no
    ``Exception``), a cancel scope shielded from it, since under a cancelled scope every
    ``await`` would be cancelled again and a ``yield`` dependency would never see the
    failure (cut off after :data:`TEARDOWN_AFTER_CANCEL` seconds); otherwise nothing."""
    if failure is None or isinstance(failure, Exception):
        return contextlib.nullcontext()
    scope = anyio.CancelScope(shield=True)
    scope.deadline = anyio.current_time() + TEARDOWN_AFTER_CANCEL
    return scope


async def teardown(state: CallState, failure: BaseException | None) -> None:
    """Close ``yield`` dependencies, newest first, showing them the handler's exception."""
    if state.stack is None:
        return
    try:
        if failure is None:
            await state.stack.aclose()
        else:
            await state.stack.__aexit__(type(failure), failure, failure.__traceback__)
    except Exception as exc:
        if exc is not failure:
            logger.exception("Error in the teardown of a dependency")


class _ThreadedContext:
    """A sync context manager entered and exited in the thread pool."""

    def __init__(self, manager: contextlib.AbstractContextManager[Any], pool: ThreadPool) -> None:
        self.manager = manager
        self.pool = pool

    async def __aenter__(self) -> Any:
        return await self.pool.run(self.manager.__enter__)

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self.pool.run(self.manager.__exit__, *exc_info)


def check_app_scoped(spec: CallSpec) -> None:
    """Refuse an app-scoped dependency that needs anything a request provides."""
    if spec.params or spec.specials:
        raise ConfigurationError(
            f"{spec.label}: an app-scoped dependency is created once at startup, so it "
            "cannot take request parameters or objects"
        )
    for dep in spec.dependencies:
        if dep.call.scope != "app":
            raise ConfigurationError(
                f"{spec.label}: an app-scoped dependency can only depend on other "
                f"app-scoped dependencies, not on {dep.call.label}"
            )


class AppScope:
    """Values of ``Depends(..., scope="app")``: created once, torn down at shutdown."""

    def __init__(self, pool: ThreadPool) -> None:
        self.pool = pool
        self.values: dict[Any, Any] = {}
        self.stack = contextlib.AsyncExitStack()
        self._lock: Any = None

    def _stack(self) -> contextlib.AsyncExitStack:
        return self.stack

    async def get(self, spec: CallSpec, state: CallState, deps: list[tuple[str, int]]) -> Any:
        """The value for ``spec``, created now if startup did not (no lifespan ran)."""
        key = spec.func
        try:
            return self.values[key]
        except KeyError:
            pass
        import anyio

        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if key not in self.values:
                kwargs = {name: state.values[slot] for name, slot in deps}
                self.values[key] = await call_dependency(spec, kwargs, self.pool, self._stack)
        return self.values[key]

    async def start(self, specs: Mapping[Any, CallSpec]) -> None:
        """Create every app-scoped dependency (dependencies first), at startup."""
        for func, spec in specs.items():
            await self._resolve(func, spec)

    async def _resolve(self, func: Any, spec: CallSpec) -> Any:
        if func in self.values:
            return self.values[func]
        kwargs = {}
        for dep in spec.dependencies:
            value = await self._resolve(dep.call.func, dep.call)
            if dep.name is not None:
                kwargs[dep.name] = value
        self.values[func] = await call_dependency(spec, kwargs, self.pool, self._stack)
        return self.values[func]

    async def close(self) -> None:
        """Tear down every app-scoped value (at shutdown), newest first."""
        self.values.clear()
        await self.stack.aclose()
        self.stack = contextlib.AsyncExitStack()


class DependencyOverrides(dict[Callable[..., Any], Callable[..., Any]]):
    """``app.dependency_overrides``: a dict that calls ``changed`` whenever it changes (the
    app then recompiles before its next request)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Callable[..., Any]) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def pop(self, key: Any, *default: Any) -> Any:
        value = super().pop(key, *default)
        self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = super().setdefault(key, default)
        self._changed()
        return value

    def popitem(self) -> tuple[Any, Any]:
        item = super().popitem()
        self._changed()
        return item

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        super().update(other)
        self._changed()
        return self
