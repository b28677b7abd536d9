"""Turn a handler's ``CallSpec`` tree into a plan a request runs.

The plan is a list of *steps* in dependency order (each dependency once per request
unless ``use_cache=False``; the handler last). Each step has extractors that read raw
values from the request and, when any value needs checking, one pydantic validator
(built here, at startup) that validates all of them in a single call. The JSON body is
validated straight from its bytes, once per request.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, NotRequired, Required

from kettle import params as p
from kettle.concurrency import ThreadPool
from kettle.datastructures import first_header
from kettle.exceptions import ConfigurationError, HTTPException, RequestValidationError
from kettle.mediatypes import is_json
from kettle.signature import CallSpec, ParamSpec, is_sequence

_MISSING: Any = object()
_JSON_TYPE = b"application/json"
_CONFIG: Any = {"arbitrary_types_allowed": True}


class _NotYet(Exception):
    """Stands in for pydantic's ValidationError until pydantic is first needed."""


# PERF: pydantic (with pydantic-core) costs ~45 ms to import. An app imports it when it
# compiles a handler that needs validating, not when it imports kettle.
ValidationError: type[Exception] = _NotYet


def _schema_error() -> type[Exception]:
    if "pydantic" not in sys.modules:
        return _NotYet
    # PydanticUserError covers schema generation failures and misuses such as a
    # typing.TypedDict on Python < 3.12.
    return sys.modules["pydantic"].PydanticUserError  # type: ignore[no-any-return]


def _pydantic() -> Any:
    global ValidationError
    import pydantic

    ValidationError = pydantic.ValidationError
    return pydantic


Getter = Callable[["Context"], Any]


_NO_FAILURES: frozenset[int] = frozenset()


class Context:
    """Per-request state of a plan's execution."""

    # PERF: what most requests never use defaults at class level; __init__ sets four
    # attributes instead of ten (every typed request makes a Context).
    body_errors = False
    response: Any = None
    background: Any = None
    stack: contextlib.AsyncExitStack | None = None

    def __init__(self, conn: Any, params: dict[str, Any], slots: int) -> None:
        self.conn = conn
        self.params = params
        self.values: list[Any] = [_MISSING] * slots
        self.errors: list[dict[str, Any]] = []
        self.body_values: dict[str, Any] = {}
        self.form_values: dict[str, Any] = {}

    def exit_stack(self) -> contextlib.AsyncExitStack:
        if self.stack is None:
            self.stack = contextlib.AsyncExitStack()
        return self.stack


# -- errors ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)  # JSON numbers past 64 bits are not portable (orjson refuses them)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _convert_errors(
    exc: Any, prefix: Callable[[Any], list[Any]], drop_input: bool = False
) -> list[dict[str, Any]]:
    """pydantic's errors, with ``loc`` rewritten to say where each value came from."""
    out = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": prefix(error["loc"]),
            "msg": error["msg"],
            "input": None
            if drop_input or error["type"] == "missing"
            else _jsonable(error["input"]),
        }
        if "ctx" in error:
            item["ctx"] = _jsonable(error["ctx"])
        out.append(item)
    return out


# -- extractors ----------------------------------------------------------------------------


def _model_fields(model: Any) -> list[tuple[str, bool]]:
    """(wire name, is a sequence) for each field of a model used as a parameter group."""
    pydantic = _pydantic()
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return [
            (f.alias or name, is_sequence(f.annotation))
            for name, f in model.model_fields.items()  # type: ignore[attr-defined]
        ]
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model)
        return [(f.name, is_sequence(hints.get(f.name))) for f in dataclasses.fields(model)]
    hints = typing.get_type_hints(model)
    return [(name, is_sequence(tp)) for name, tp in hints.items()]


def _source(spec: ParamSpec) -> Callable[[Context], Any]:
    """A function giving the multi-dict (or dict) the parameter is read from."""
    location = spec.location
    if location == "query":
        return lambda ctx: ctx.conn.query_params
    if location == "header":
        return lambda ctx: ctx.conn.headers
    if location == "cookie":
        return lambda ctx: ctx.conn.cookies
    return lambda ctx: ctx.form_values


def make_getter(spec: ParamSpec) -> Getter:
    """The extractor for one parameter: its raw value, or ``_MISSING``."""
    name, alias = spec.name, spec.alias
    if spec.location == "path":
        return lambda ctx: ctx.params.get(name, _MISSING)
    if spec.location in ("form", "file"):
        return lambda ctx: ctx.form_values.get(alias, _MISSING)
    source = _source(spec)
    if spec.group:
        # (name on the wire, key in the model, many): a header group reads "x-request-id"
        # for the field x_request_id unless the marker says convert_underscores=False.
        convert = spec.location == "header" and getattr(spec.marker, "convert_underscores", True)
        fields = [
            (key.replace("_", "-").lower() if convert else key, key, many)
            for key, many in _model_fields(spec.annotation)
        ]

        def group(ctx: Context) -> Any:
            data = source(ctx)
            found: dict[str, Any] = {}
            for wire, key, many in fields:
                if many and hasattr(data, "getlist"):
                    values = data.getlist(wire)
                    if values:
                        found[key] = values
                elif wire in data:
                    found[key] = data[wire]
            return found

        return group
    if spec.sequence:

        def many(ctx: Context) -> Any:
            values = source(ctx).getlist(alias)
            return values if values else _MISSING

        return many
    if spec.location == "query":
        # PERF: the most common typed input; one attribute lookup and a dict get.
        return lambda ctx: ctx.conn.query_params.get(alias, _MISSING)
    if spec.location == "header":
        # PERF: scan the raw header list for one name instead of decoding every header.
        raw_name = alias.encode("latin-1")

        def header(ctx: Context) -> Any:
            for key, value in ctx.conn.scope["headers"]:
                if key == raw_name:
                    return value.decode("latin-1")
            return _MISSING

        return header
    return lambda ctx: source(ctx).get(alias, _MISSING)


def _annotated(spec: ParamSpec) -> Any:
    marker = spec.marker
    if spec.group or not (
        marker.constraints() or marker.title or marker.description or marker.examples
    ):
        return spec.annotation
    return Annotated[spec.annotation, marker.field_info()]


_AS_SENT = (Any, str, str | None)


def _needs_validation(spec: ParamSpec) -> bool:
    # PERF: a path, query, header or cookie value arrives as a str: a plain ``str`` (or an
    # untyped) parameter without constraints is already valid, so no validator call.
    if spec.marker.constraints() or spec.group or spec.sequence:
        return True
    if spec.location in ("path", "query", "header", "cookie"):
        return spec.annotation not in _AS_SENT
    return spec.annotation is not Any


def _default_of(spec: ParamSpec) -> tuple[Any, bool]:
    """The default value, and whether it must be copied per request (mutable)."""
    if spec.marker.default_factory is not None:
        return spec.marker.default_factory, True
    default = spec.default
    return default, isinstance(default, list | dict | set)


def _typed_dict(name: str, specs: Sequence[ParamSpec], key: Callable[[ParamSpec], str]) -> Any:
    fields = {
        key(s): (Required[_annotated(s)] if s.required else NotRequired[_annotated(s)])
        for s in specs
    }
    # pydantic needs typing_extensions' TypedDict before Python 3.12.
    from typing_extensions import TypedDict

    td = TypedDict(name, fields)  # type: ignore[misc]
    td.__pydantic_config__ = _CONFIG  # type: ignore[attr-defined]
    return td


# -- steps ---------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Step:
    """One callable of the plan: how to gather its arguments and call it."""

    spec: CallSpec
    slot: int
    deps: list[tuple[str | None, int]]
    scopes: list[str]
    getters: list[tuple[str, Getter]] = dataclasses.field(default_factory=list)
    validator: Any = None  # a TypeAdapter over a TypedDict of this step's inputs
    locations: dict[str, tuple[str, str, bool]] = dataclasses.field(default_factory=dict)
    defaults: list[tuple[str, Any, bool]] = dataclasses.field(default_factory=list)
    body_names: list[str] = dataclasses.field(default_factory=list)
    specials: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    dep_args: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    plain_async: bool = False

    def compile(self) -> None:
        inputs = [s for s in self.spec.params if s.location != "body"]
        self.body_names = [s.name for s in self.spec.params if s.location == "body"]
        self.specials = list(self.spec.specials)
        self.getters = [(s.name, make_getter(s)) for s in inputs]
        # Form and file values travel in the body: that is where clients look for them.
        self.locations = {
            s.name: ("body" if s.location in ("form", "file") else s.location, s.alias, s.group)
            for s in inputs
        }
        self.defaults = [(s.name, *_default_of(s)) for s in inputs if not s.required]
        if any(_needs_validation(s) for s in inputs):
            label = getattr(self.spec.func, "__name__", "handler")
            adapter = _pydantic().TypeAdapter(
                _typed_dict(f"{label}_inputs", inputs, lambda s: s.name)
            )
            # PERF: pydantic-core's validator directly, skipping TypeAdapter's Python wrapper.
            self.validator = adapter.validator
        self.dep_args = [(name, slot) for name, slot in self.deps if name is not None]
        self.plain_async = self.spec.is_async and self.spec.generator is None

    def _loc(self, loc: tuple[Any, ...]) -> list[Any]:
        location, alias, group = self.locations.get(loc[0], ("query", loc[0], False))
        return [location, *loc[1:]] if group else [location, alias, *loc[1:]]

    def bind(self, ctx: Context) -> dict[str, Any] | None:
        """This step's keyword arguments, or None after recording its errors in ctx."""
        raw: dict[str, Any] = {}
        for name, getter in self.getters:
            value = getter(ctx)
            if value is not _MISSING:
                raw[name] = value
        if self.validator is not None:
            try:
                raw = self.validator.validate_python(raw)
            except ValidationError as exc:
                ctx.errors.extend(_convert_errors(exc, self._loc))
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

    def _missing(self, raw: dict[str, Any], ctx: Context) -> bool:
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


def _special(ctx: Context, kind: str, scopes: list[str]) -> Any:
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


# -- the body -------------------------------------------------------------------------------


class BodyReader:
    """Reads and validates the JSON body for every body parameter of the plan, once."""

    def __init__(self, specs: list[ParamSpec]) -> None:
        self.specs = specs
        self.single = len(specs) == 1 and not getattr(specs[0].marker, "embed", False)
        if self.single:
            spec = specs[0]
            # No arbitrary types here: a JSON body can only produce what pydantic validates.
            self.adapter = _pydantic().TypeAdapter(_annotated(spec)).validator
        else:
            unique: dict[str, ParamSpec] = {}
            for spec in specs:
                unique.setdefault(spec.alias, spec)
            self.adapter = (
                _pydantic()
                .TypeAdapter(_typed_dict("Body", list(unique.values()), lambda s: s.alias))
                .validator
            )
        self.required = any(s.required for s in specs)
        self.name = specs[0].name

    async def arguments(self, request: Any) -> dict[str, Any]:
        """The handler's keyword arguments when the body is its only input.

        PERF: the common case (one model, a JSON body) needs no ``Context``: four fewer
        allocations per request. Anything else goes through :meth:`read`.

        Raises:
            RequestValidationError: the body is missing or does not validate.
        """
        if self.single:
            raw = await request.body()
            plain_json = (
                raw
                and first_header(request.scope["headers"], b"content-type") == _JSON_TYPE
                and not ((b"N" in raw or b"I" in raw) and _has_non_finite(raw))
            )
            if plain_json:
                try:
                    return {self.name: self.adapter.validate_json(raw)}
                except ValidationError as exc:
                    errors = _convert_errors(exc, _body_loc, drop_input=_is_json_error(exc))
                    raise RequestValidationError(errors) from None
        ctx = Context(request, {}, 1)
        await self.read(ctx)
        if ctx.errors:
            raise RequestValidationError(ctx.errors)
        return ctx.body_values

    async def read(self, ctx: Context) -> None:
        request = ctx.conn
        raw = await request.body()
        if raw:
            media = request.content_type[0]
            # A body without a Content-Type is refused too: a cross-site fetch() can send
            # one without a CORS preflight.
            if not is_json(media):
                raise HTTPException(
                    415, f"Unsupported Media Type {media or '(none)'!r}: expected JSON"
                )
            # PERF: NaN and Infinity need an "N" or an "I"; a one-byte search rules most
            # bodies out, and only those that have one pay for the exact check.
            if (b"N" in raw or b"I" in raw) and _has_non_finite(raw):
                ctx.errors.append(
                    {
                        "type": "json_invalid",
                        "loc": ["body"],
                        "msg": "Invalid JSON: NaN and Infinity are not JSON",
                        "input": None,
                    }
                )
                ctx.body_errors = True
                return
        try:
            if self.single:
                spec = self.specs[0]
                if not raw:
                    if spec.required:
                        ctx.errors.append(
                            {
                                "type": "missing",
                                "loc": ["body"],
                                "msg": "Field required",
                                "input": None,
                            }
                        )
                        ctx.body_errors = True
                        return
                    ctx.body_values[spec.name] = _default_of(spec)[0]
                    return
                ctx.body_values[spec.name] = self.adapter.validate_json(raw)
                return
            data = self.adapter.validate_json(raw) if raw else self.adapter.validate_python({})
        except ValidationError as exc:
            ctx.errors.extend(_convert_errors(exc, _body_loc, drop_input=_is_json_error(exc)))
            ctx.body_errors = True
            return
        for spec in self.specs:
            if spec.alias in data:
                ctx.body_values[spec.name] = data[spec.alias]
            else:
                default, make = _default_of(spec)
                ctx.body_values[spec.name] = (
                    (default() if callable(default) else copy.deepcopy(default))
                    if make
                    else default
                )


def _has_non_finite(raw: bytes) -> bool:
    """Whether ``raw`` uses the NaN/Infinity tokens pydantic's parser accepts but JSON does
    not. (A number too large for a float becomes infinity; a float field refuses it when it
    declares ``allow_inf_nan=False``, with the field's own location.)"""
    from pydantic_core import from_json

    try:
        from_json(raw, allow_inf_nan=False)
    except ValueError:
        try:
            from_json(raw)
        except ValueError:
            return False  # malformed anyway: validation reports it as such
        return True
    return False


def _body_loc(loc: tuple[Any, ...]) -> list[Any]:
    return ["body", *loc]


def _is_json_error(exc: Any) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors(include_url=False))


# -- forms ------------------------------------------------------------------------------------


class FormReader:
    """Parses the form once and gathers the raw values of every form/file parameter."""

    def __init__(self, specs: list[ParamSpec]) -> None:
        self.specs = [(s.alias, s.sequence, _wants_bytes(s.annotation), s.group, s) for s in specs]

    async def read(self, ctx: Context) -> None:
        request = ctx.conn
        if not request.headers.get("content-type") and not await request.body():
            return  # nothing sent: every form parameter is missing (or defaulted)
        form = await request.parse_form()
        values = ctx.form_values
        for alias, many, as_bytes, group, spec in self.specs:
            if group:
                for key, is_many in _model_fields(spec.annotation):
                    found = form.getlist(key)
                    if found:
                        values.setdefault(alias, {})[key] = found if is_many else found[0]
                continue
            found = form.getlist(alias)
            if not found:
                continue
            if as_bytes:
                found = [await v.read() if hasattr(v, "read") else v for v in found]
            values[alias] = found if many else found[0]


def _wants_bytes(tp: Any) -> bool:
    from kettle.signature import _strip_annotated, _union_members

    tp = _strip_annotated(tp)
    members = _union_members(tp)
    if members is not None:
        return any(_wants_bytes(m) for m in members)
    if typing.get_origin(tp) in (list, tuple, set, Sequence):
        return any(_wants_bytes(a) for a in typing.get_args(tp))
    return tp is bytes


def _group_form_getter(spec: ParamSpec) -> Getter:
    alias = spec.alias
    return lambda ctx: ctx.form_values.get(alias, {})


# -- the plan ---------------------------------------------------------------------------------


class RoutePlan:
    """Everything a request needs to call one handler with validated arguments."""

    def __init__(self, spec: CallSpec, pool: ThreadPool, app_scope: AppScope | None = None):
        self.spec = spec
        self.pool = pool
        self.app_scope = app_scope
        self.steps: list[Step] = []
        self._slots: dict[Any, int] = {}
        self._visit(spec, use_cache=False, scopes=[])
        try:
            for step in self.steps:
                step.compile()
        except _schema_error() as exc:
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
                    step.getters[index] = (prm.name, _group_form_getter(prm))
        all_params = [prm for step in self.steps for prm in step.spec.params]
        bodies = [prm for prm in all_params if prm.location == "body"]
        forms = [prm for prm in all_params if prm.location in ("form", "file")]
        try:
            self.body = BodyReader(bodies) if bodies else None
        except _schema_error() as exc:
            raise ConfigurationError(f"{spec.label}: cannot validate the body: {exc}") from None
        self.form = FormReader(forms) if forms else None
        self.handler = self.steps[-1]
        self.dependencies = self.steps[:-1]
        specials = {kind for step in self.steps for _, kind in step.specials}
        #: a plan with only the handler, no body/form: binding needs no awaits
        self.simple = len(self.steps) == 1 and self.body is None and self.form is None
        self.takes_response = "response" in specials
        self.needs_connection = bool(all_params) or bool(specials) or len(self.steps) > 1
        self.has_generators = any(s.spec.generator for s in self.steps)
        self.inputs = all_params

    def _visit(self, spec: CallSpec, use_cache: bool, scopes: list[str]) -> int:
        key = (spec.func, tuple(scopes))
        if use_cache and key in self._slots:
            return self._slots[key]
        deps = []
        for dep in spec.dependencies:
            extra = dep.depends.scopes if isinstance(dep.depends, p.Security) else []
            deps.append((dep.name, self._visit(dep.call, dep.depends.use_cache, scopes + extra)))
        slot = len(self.steps)
        self.steps.append(Step(spec, slot, deps, scopes))
        if spec.scope == "app":
            _check_app_scoped(spec)
        if use_cache:
            self._slots[key] = slot
        return slot

    def bind_simple(self, conn: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Arguments for a single-step plan without body or form (no awaits needed)."""
        ctx = Context(conn, params, 1)
        kwargs = self.handler.bind(ctx)
        if kwargs is None:
            raise RequestValidationError(ctx.errors)
        if ctx.response is not None or ctx.background is not None:
            kwargs["__ctx__"] = ctx
        return kwargs

    async def solve(self, ctx: Context) -> dict[str, Any]:
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
                values[step.slot] = await self.app_scope.get(step, ctx, self)
                continue
            kwargs = step.bind(ctx)
            if kwargs is None:
                failed = failed | {step.slot}
                continue
            if step.plain_async:  # PERF: the common dependency, awaited directly
                values[step.slot] = await step.spec.func(**kwargs)
            else:
                values[step.slot] = await self.call(step, kwargs, ctx)
        if ctx.errors or failed:
            self.handler.bind(ctx)  # its own errors are reported together with the others
            raise RequestValidationError(ctx.errors)
        kwargs = self.handler.bind(ctx)
        if kwargs is None:
            raise RequestValidationError(ctx.errors)
        return kwargs

    async def call(self, step: Step, kwargs: dict[str, Any], ctx: Context) -> Any:
        """Call a dependency; a generator's exit runs when the request's stack closes."""
        spec = step.spec
        func = spec.func
        if spec.generator == "async":
            manager = contextlib.asynccontextmanager(func)(**kwargs)
            return await ctx.exit_stack().enter_async_context(manager)
        if spec.generator == "sync":
            sync_manager = contextlib.contextmanager(func)(**kwargs)
            return await ctx.exit_stack().enter_async_context(
                _ThreadedContext(sync_manager, self.pool)
            )
        if spec.is_async:
            return await func(**kwargs)
        return await self.pool.run(func, **kwargs)


class _ThreadedContext:
    """A sync context manager entered and exited in the thread pool."""

    def __init__(self, manager: contextlib.AbstractContextManager[Any], pool: ThreadPool) -> None:
        self.manager = manager
        self.pool = pool

    async def __aenter__(self) -> Any:
        return await self.pool.run(self.manager.__enter__)

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self.pool.run(self.manager.__exit__, *exc_info)


def _check_app_scoped(spec: CallSpec) -> None:
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

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self.stack = contextlib.AsyncExitStack()
        self._lock: Any = None

    async def get(self, step: Step, ctx: Context, plan: RoutePlan) -> Any:
        key = step.spec.func
        try:
            return self.values[key]
        except KeyError:
            pass
        import anyio

        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            if key not in self.values:
                kwargs = {name: ctx.values[slot] for name, slot in step.deps if name is not None}
                self.values[key] = await _call_app_scoped(step.spec, kwargs, self.stack, plan.pool)
        return self.values[key]

    async def start(self, specs: Mapping[Any, CallSpec], pool: ThreadPool) -> None:
        """Create every app-scoped dependency (dependencies first), at startup."""
        for func, spec in specs.items():
            await self._resolve(func, spec, pool)

    async def _resolve(self, func: Any, spec: CallSpec, pool: ThreadPool) -> Any:
        if func in self.values:
            return self.values[func]
        kwargs = {}
        for dep in spec.dependencies:
            value = await self._resolve(dep.call.func, dep.call, pool)
            if dep.name is not None:
                kwargs[dep.name] = value
        self.values[func] = await _call_app_scoped(spec, kwargs, self.stack, pool)
        return self.values[func]

    async def close(self) -> None:
        self.values.clear()
        await self.stack.aclose()
        self.stack = contextlib.AsyncExitStack()


async def _call_app_scoped(
    spec: CallSpec, kwargs: dict[str, Any], stack: contextlib.AsyncExitStack, pool: ThreadPool
) -> Any:
    func = spec.func
    if spec.generator == "async":
        return await stack.enter_async_context(contextlib.asynccontextmanager(func)(**kwargs))
    if spec.generator == "sync":
        manager = contextlib.contextmanager(func)(**kwargs)
        return await stack.enter_async_context(_ThreadedContext(manager, pool))
    if spec.is_async:
        return await func(**kwargs)
    return await pool.run(func, **kwargs)
