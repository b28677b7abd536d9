"""Plans: a handler's ``CallSpec`` tree, turned at startup into what a request runs.

A plan is a list of *steps* in dependency order (each dependency once per request unless
``use_cache=False``; the handler last). Each step has extractors that read raw values from
the request and, when any value needs checking, one pydantic validator (built here) that
validates all of them in a single call. A plan exposes the two things dispatch calls:

- ``plan.arguments(ctx, path_values)``: the handler's keyword arguments, awaited first when
  ``plan.binder_awaits``. Which binder this is (no inputs, path values only, one
  validation call, a JSON body only, or the full solver with dependencies) is chosen
  here, once;
- ``plan.encode(value)``: what the handler returned, as a ``Response``, or as the JSON bytes
  to send with ``plan.status`` when it is plain data.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kettle import extract
from kettle import params as p
from kettle.concurrency import ThreadPool
from kettle.di import MISSING, AppScope, CallState, call_dependency, check_app_scoped
from kettle.exceptions import ConfigurationError, RequestValidationError
from kettle.responses import Response, dumps, dumps_as_fastapi, to_response
from kettle.signature import CallSpec
from kettle.validationerrors import convert_errors

_NO_FAILURES: frozenset[int] = frozenset()


class Connection(Protocol):
    """What a binder needs of the per-request context (``kettle.context.RequestContext``)."""

    @property
    def request(self) -> Any: ...

    #: the request when it exists already: for a plan that ``reads_request``, dispatch
    #: makes the context with it
    created_request: Any

    call: CallState | None


#: A binder returns the keyword arguments, or an awaitable of them when it must await
#: (a body, dependencies): the plan's ``binder_awaits`` says which, and dispatch awaits
#: by that flag, decided once.
Binder = Callable[[Connection, dict[str, Any]], "dict[str, Any] | Awaitable[dict[str, Any]]"]
Encoder = Callable[[Any], Any]


@dataclasses.dataclass(slots=True)
class Step:
    """One callable of the plan: how to gather its arguments and call it."""

    spec: CallSpec
    slot: int
    deps: list[tuple[str | None, int]]
    scopes: list[str]
    getters: list[tuple[str, extract.Getter]] = dataclasses.field(default_factory=list)
    validator: Any = None  # a TypeAdapter over a TypedDict of this step's inputs
    locations: dict[str, tuple[str, str, bool]] = dataclasses.field(default_factory=dict)
    defaults: list[tuple[str, Any, bool]] = dataclasses.field(default_factory=list)
    body_names: list[str] = dataclasses.field(default_factory=list)
    specials: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    dep_args: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    plain_async: bool = False
    #: errors as FastAPI's ``RequestValidationError.errors()`` gives them (tuple locs)
    fastapi: bool = False

    def compile(self) -> None:
        inputs = [s for s in self.spec.params if s.location != "body"]
        self.body_names = [s.name for s in self.spec.params if s.location == "body"]
        self.specials = list(self.spec.specials)
        self.getters = [(s.name, extract.make_getter(s)) for s in inputs]
        # Form and file values travel in the body: that is where clients look for them.
        self.locations = {
            s.name: ("body" if s.location in ("form", "file") else s.location, s.alias, s.group)
            for s in inputs
        }
        self.defaults = [(s.name, *extract.default_of(s)) for s in inputs if not s.required]
        if any(extract.needs_validation(s) for s in inputs):
            label = getattr(self.spec.func, "__name__", "handler")
            adapter = extract.pydantic_module().TypeAdapter(
                extract.typed_dict(f"{label}_inputs", inputs, lambda s: s.name)
            )
            # PERF: pydantic-core's validator directly, skipping TypeAdapter's Python wrapper.
            self.validator = adapter.validator
        self.dep_args = [(name, slot) for name, slot in self.deps if name is not None]
        self.plain_async = self.spec.is_async and self.spec.generator is None

    def _loc(self, loc: tuple[Any, ...]) -> list[Any]:
        location, alias, group = self.locations.get(loc[0], ("query", loc[0], False))
        return [location, *loc[1:]] if group else [location, alias, *loc[1:]]

    def bind(self, ctx: CallState) -> dict[str, Any] | None:
        """This step's keyword arguments, or None after recording its errors in ctx."""
        raw: dict[str, Any] = {}
        for name, getter in self.getters:
            value = getter(ctx)
            if value is not MISSING:
                raw[name] = value
        if self.validator is not None:
            try:
                raw = self.validator.validate_python(raw)
            except extract.ValidationError as exc:
                # A field missing from a parameter model (a Query/Header/Cookie/Form
                # group) echoes the group's values, as in FastAPI; a plain parameter's
                # absence has no input.
                ctx.errors.extend(
                    convert_errors(exc, self._loc, echo_missing=True, depth=1, fastapi=self.fastapi)
                )
                return None
        elif len(raw) < len(self.getters) and self._missing(raw, ctx):
            return None
        if self.defaults and len(raw) < len(self.getters):
            for name, default, make in self.defaults:
                if name not in raw:
                    raw[name] = (
                        (default() if callable(default) else copy.deepcopy(default))
                        if make
                        else default
                    )
        if self.body_names:
            if ctx.body_errors:
                return None
            for name in self.body_names:
                raw[name] = ctx.body_values[name]
        if self.specials:
            for name, kind in self.specials:
                raw[name] = _special(ctx, kind, self.scopes)
        if self.dep_args:
            values = ctx.values
            for dep_name, slot in self.dep_args:
                raw[dep_name] = values[slot]
        return raw

    def _missing(self, raw: dict[str, Any], ctx: CallState) -> bool:
        required = {name for name, _ in self.getters} - {n for n, _, _ in self.defaults}
        missing = [name for name in required if name not in raw]
        for name in missing:
            location, alias, _ = self.locations[name]
            ctx.errors.append(
                {
                    "type": "missing",
                    "loc": [location, alias],
                    "msg": "Field required",
                    "input": None,
                }
            )
        return bool(missing)


def _special(ctx: CallState, kind: str, scopes: list[str]) -> Any:
    if kind in ("request", "websocket", "connection"):
        return ctx.conn
    if kind == "response":
        if ctx.response is None:
            from kettle.responses import Response

            ctx.response = Response.blank()
        return ctx.response
    if kind == "background":
        if ctx.background is None:
            from kettle.background import BackgroundTasks

            ctx.background = BackgroundTasks()
        return ctx.background
    return p.SecurityScopes(scopes)


class RoutePlan:
    """Everything a request needs to call one handler with validated arguments."""

    def __init__(
        self,
        spec: CallSpec,
        pool: ThreadPool,
        app_scope: AppScope | None = None,
        *,
        strict_content_type: bool = True,
    ):
        self.spec = spec
        self.pool = pool
        self.app_scope = app_scope
        self.steps: list[Step] = []
        self._slots: dict[Any, int] = {}
        self._visit(spec, use_cache=False, scopes=[])
        try:
            for step in self.steps:
                step.compile()
        except extract.schema_error() as exc:
            raise ConfigurationError(f"{spec.label}: cannot validate a parameter: {exc}") from None
        bodies = [prm for step in self.steps for prm in step.spec.params if prm.location == "body"]
        forms = [
            prm
            for step in self.steps
            for prm in step.spec.params
            if prm.location in ("form", "file")
        ]
        if bodies and forms:
            raise ConfigurationError(
                f"{spec.label}: a request has one body: it cannot be both JSON "
                f"({bodies[0].name!r}) and a form ({forms[0].name!r})"
            )
        for step in self.steps:
            for prm in step.spec.params:
                if prm.group and prm.location == "form":
                    index = [n for n, _ in step.getters].index(prm.name)
                    step.getters[index] = (prm.name, extract.group_form_getter(prm))
        all_params = [prm for step in self.steps for prm in step.spec.params]
        bodies = [prm for prm in all_params if prm.location == "body"]
        forms = [prm for prm in all_params if prm.location in ("form", "file")]
        try:
            self.body = (
                extract.BodyReader(bodies, strict_content_type=strict_content_type)
                if bodies
                else None
            )
        except extract.schema_error() as exc:
            raise ConfigurationError(f"{spec.label}: cannot validate the body: {exc}") from None
        self.form = extract.FormReader(forms) if forms else None
        self.handler = self.steps[-1]
        self.dependencies = self.steps[:-1]
        specials = {kind for step in self.steps for _, kind in step.specials}
        #: a plan with only the handler, no body/form: binding needs no awaits
        self.simple = len(self.steps) == 1 and self.body is None and self.form is None
        self.takes_response = "response" in specials
        self.needs_connection = bool(all_params) or bool(specials) or len(self.steps) > 1
        self.has_generators = any(s.spec.generator for s in self.steps)
        self.inputs = all_params
        #: ``plan.arguments(ctx, path_values)``: the handler's keyword arguments (or an
        #: awaitable of them, when ``binder_awaits``)
        self.binder_awaits = False
        #: the binder leaves the dependency-injection state on ``ctx.call`` (dispatch
        #: closes its scopes), decided with the binder
        self.keeps_call_state = False
        #: the binder reads the request: dispatch makes the context with it
        #: (``ctx.created_request`` set), decided with the binder
        self.reads_request = False
        self.arguments: Binder = self._binder()
        #: the status a plain return value is sent with (``respond_with`` sets it)
        self.status = 200
        #: ``plan.encode(value)`` for what is not already a Response: a Response, or the
        #: JSON bytes of plain data
        self.encode: Callable[[Any], Any] = self._encoder(200, None, None)
        #: ``encode`` turns a returned dict or list into ``dumps(value)`` and nothing else
        #: (dispatch may then call ``dumps`` itself)
        self.encodes_plain_data = True

    def use_fastapi_conventions(self) -> None:
        """Read requests as FastAPI does: called once per plan when a
        ``kettle.fastapi.FastAPI`` app compiles, never per request.

        A parameter model (``Header()`` on a model, ...) is handed every value of its
        location, as FastAPI hands it (so a 422 echoes every request header); errors come
        as FastAPI's ``RequestValidationError.errors()`` has them (``loc`` a tuple); the
        body's errors are FastAPI's (see :meth:`kettle.extract.BodyReader.use_fastapi_errors`);
        an empty form field is not sent.
        """
        for step in self.steps:
            step.fastapi = True
            specs = {s.name: s for s in step.spec.params}
            for index, (name, _) in enumerate(step.getters):
                spec = specs[name]
                if spec.group and spec.location in ("query", "header", "cookie"):
                    step.getters[index] = (name, extract.make_getter(spec, fastapi=True))
        if self.body is not None:
            self.body.use_fastapi_errors()
        if self.form is not None:
            self.form.empty_is_missing = True

    def _visit(self, spec: CallSpec, use_cache: bool, scopes: list[str]) -> int:
        # A dependency is one per request whatever the scopes above it, unless it (or one
        # below it) reads SecurityScopes: a database session under Security(..., scopes=)
        # and the same session in the handler are one session, one pooled connection.
        key = (spec.func, tuple(scopes) if _reads_scopes(spec) else ())
        if use_cache and key in self._slots:
            return self._slots[key]
        deps = []
        for dep in spec.dependencies:
            extra = dep.depends.scopes if isinstance(dep.depends, p.Security) else []
            deps.append((dep.name, self._visit(dep.call, dep.depends.use_cache, scopes + extra)))
        slot = len(self.steps)
        self.steps.append(Step(spec, slot, deps, scopes))
        if spec.scope == "app":
            check_app_scoped(spec)
        if use_cache:
            self._slots[key] = slot
        return slot

    async def solve(self, ctx: CallState) -> dict[str, Any]:
        """Run every dependency and return the handler's arguments (errors → 422)."""
        if self.body is not None:
            await self.body.read(ctx)
        if self.form is not None:
            await self.form.read(ctx)
        failed: frozenset[int] = _NO_FAILURES
        values = ctx.values
        for step in self.dependencies:
            if failed and any(slot in failed for _, slot in step.deps):
                failed = failed | {step.slot}
                continue
            if step.spec.scope == "app" and self.app_scope is not None:
                values[step.slot] = await self.app_scope.get(step.spec, ctx, step.dep_args)
                continue
            kwargs = step.bind(ctx)
            if kwargs is None:
                failed = failed | {step.slot}
                continue
            if step.plain_async:  # PERF: the common dependency, awaited directly
                values[step.slot] = await step.spec.func(**kwargs)
            else:
                values[step.slot] = await call_dependency(
                    step.spec,
                    kwargs,
                    self.pool,
                    ctx.function_exit_stack if step.spec.scope == "function" else ctx.exit_stack,
                )
        if ctx.errors or failed:
            self.handler.bind(ctx)  # its own errors are reported together with the others
            raise RequestValidationError(ctx.errors, body=ctx.failed_body)
        kwargs = self.handler.bind(ctx)
        if kwargs is None:
            raise RequestValidationError(ctx.errors, body=ctx.failed_body)
        return kwargs

    def read_first(self, read: Callable[[Any], Awaitable[None]]) -> None:
        """Await ``read(request)`` before binding, on every request (the compile step's
        choice: Flask's synchronous body accessors in an ``async def`` view need the body
        read before the view runs, ``kettle.flaskrequest.read_ahead``)."""
        bind, awaits = self.arguments, self.binder_awaits

        async def read_then_bind(ctx: Connection, params: dict[str, Any]) -> dict[str, Any]:
            request = ctx.created_request  # PERF: as in one_call
            await read(ctx.request if request is None else request)
            kwargs = bind(ctx, params)
            if awaits:
                return await kwargs  # type: ignore[misc,no-any-return]
            return kwargs  # type: ignore[return-value]

        self.arguments = read_then_bind
        self.binder_awaits = self.reads_request = True

    @property
    def reads_body(self) -> bool:
        """A parameter of the handler or a dependency is the request, its body or a form
        field: the handler reads the body itself, or asks for the object that can."""
        kinds = {kind for step in self.steps for _, kind in step.specials}
        return (
            self.body is not None
            or self.form is not None
            or bool(kinds & {"request", "connection"})
        )

    @property
    def takes_no_inputs(self) -> bool:
        """The handler is called without arguments (dispatch may call it directly)."""
        return self.arguments is _no_arguments

    def caller(
        self, invoke: Callable[..., Awaitable[Any]]
    ) -> Callable[[Connection, dict[str, Any]], Awaitable[Any]]:
        """``await caller(ctx, path_values)``: ``invoke`` (the handler, awaitable) called
        with the arguments :attr:`arguments` produces, as one step (for a route class
        that wraps the handler; dispatch itself calls the binder and the handler in its
        own frame).
        """
        arguments, awaits = self.arguments, self.binder_awaits

        async def call(ctx: Connection, params: dict[str, Any]) -> Any:
            kwargs = arguments(ctx, params)
            return await invoke(**(await kwargs if awaits else kwargs))  # type: ignore[misc,arg-type]

        return call

    def respond_with(self, status: int | None, model_encoder: Any, *, pages: bool = True) -> None:
        """Set how return values are encoded: the route's status and its response model.

        ``pages=False`` (FastAPI's convention, ``app.returns_pages``): every return value
        is JSON, a ``str`` or a tuple too, and ``-> None`` answers ``null`` with a 200.
        """
        returns = self.spec.return_annotation
        returns_none = pages and (returns is None or returns is type(None))
        self.status = status or (204 if returns_none and model_encoder is None else 200)
        self.encode = self._encoder(self.status, returns_none, model_encoder)
        self.encodes_plain_data = pages and model_encoder is None and self.status not in (204, 304)
        if not pages and model_encoder is None and self.status not in (204, 304):
            # FastAPI's encoder for what its handlers return (timedelta as seconds).
            self.encode = dumps_as_fastapi

    def _encoder(self, status: int, returns_none: bool | None, model_encoder: Any) -> Encoder:
        # None means "no content" only where the handler says so (-> None or status 204).
        none_is_empty = (bool(returns_none) and model_encoder is None) or status == 204
        empty_status = 204 if status == 200 else status
        if status in (204, 304):
            # 204 and 304 never carry a body, whatever the handler returned.
            def no_body(value: Any) -> Any:
                return Response(None, status)

            return no_body
        if model_encoder is not None:
            encode_model = model_encoder.encode

            return encode_model  # type: ignore[no-any-return]

        def plain(value: Any) -> Any:
            kind = value.__class__
            if kind is dict or kind is list:
                return dumps(value)
            if value is None and none_is_empty:
                return Response(None, empty_status)
            return to_response(value, status)

        return plain

    def _binder(self) -> Binder:
        """The cheapest way to produce this handler's arguments, decided once."""
        handler = self.handler
        specials = handler.specials
        if not self.inputs and not specials and len(self.steps) == 1:
            return _no_arguments
        if (
            self.simple
            and not specials
            and handler.validator is None
            and all(
                prm.location == "path" and prm.required and prm.alias == prm.name
                for prm in self.inputs
            )
        ):
            return _path_values
        if self.simple and not any(kind in ("response", "background") for _, kind in specials):
            bind = handler.bind
            self.reads_request = True

            def one_call(ctx: Connection, params: dict[str, Any]) -> dict[str, Any]:
                # PERF: the attribute, not the property (~30 ns): see reads_request
                request = ctx.created_request
                state = CallState(ctx.request if request is None else request, params, 1)
                kwargs = bind(state)
                if kwargs is None:
                    raise RequestValidationError(state.errors)
                return kwargs

            return one_call
        body = self.body
        if (
            len(self.steps) == 1
            and body is not None
            and self.form is None
            and not handler.getters
            and not specials
        ):
            # PERF: the reader is the binder itself (no function around it, ~40 ns).
            self.binder_awaits = self.reads_request = True
            return body.arguments
        slots = len(self.steps)
        solve = self.solve
        self.keeps_call_state = self.reads_request = True

        def solved(ctx: Connection, params: dict[str, Any]) -> Awaitable[dict[str, Any]]:
            # Attached before solving: yield dependencies entered before a failure still
            # need their teardown.
            request = ctx.created_request  # PERF: as in one_call
            state = ctx.call = CallState(ctx.request if request is None else request, params, slots)
            return solve(state)

        self.binder_awaits = True
        return solved


def _reads_scopes(spec: CallSpec) -> bool:
    """Whether ``spec`` or a dependency below it takes ``SecurityScopes``."""
    return any(kind == "scopes" for _, kind in spec.specials) or any(
        _reads_scopes(dep.call) for dep in spec.dependencies
    )


def _no_arguments(ctx: Connection, params: dict[str, Any]) -> dict[str, Any]:
    return {}


def _path_values(ctx: Connection, params: dict[str, Any]) -> dict[str, Any]:
    # The matcher's converters already produced each value as its annotated type.
    return params
