"""Extractors: reading a handler's raw inputs from the request, and the body and form
readers that validate them.

Built at startup from each :class:`~kettle.signature.ParamSpec` (one getter per parameter,
one validator per step in :mod:`kettle.plan`); a request only runs them. The JSON body is
validated straight from its bytes, once per request. pydantic's errors are rewritten by
:mod:`kettle.validationerrors` to say where each value came from.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NotRequired, Required

import orjson

from kettle.datastructures import first_header
from kettle.di import MISSING, CallState
from kettle.exceptions import HTTPException, RequestValidationError
from kettle.mediatypes import is_json
from kettle.signature import ParamSpec, aliased_keys, is_sequence, wire_name
from kettle.validationerrors import convert_errors

_MISSING = MISSING
_JSON_TYPE = b"application/json"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_CONFIG: Any = {"arbitrary_types_allowed": True}


class _NotYet(Exception):
    """Stands in for pydantic's ValidationError until pydantic is first needed."""


# PERF: pydantic (with pydantic-core) costs ~45 ms to import. An app imports it when it
# compiles a handler that needs validating, not when it imports kettle. Other modules read
# it as ``extract.ValidationError`` (an attribute, rebound on first use), never by name.
ValidationError: type[Exception] = _NotYet


def schema_error() -> type[Exception]:
    """The exception pydantic raises when it cannot build a validator (or a stand-in)."""
    if "pydantic" not in sys.modules:
        return _NotYet
    # PydanticUserError covers schema generation failures and misuses such as a
    # typing.TypedDict on Python < 3.12.
    return sys.modules["pydantic"].PydanticUserError  # type: ignore[no-any-return]


def pydantic_module() -> Any:
    """Import pydantic (on first need) and bind :data:`ValidationError`."""
    global ValidationError
    import pydantic

    ValidationError = pydantic.ValidationError
    return pydantic


Getter = Callable[[CallState], Any]

# -- extractors ----------------------------------------------------------------------------


def _field_defaults(model: Any) -> dict[str, Any]:
    """The defaults (other than ``None``) of a pydantic model's optional fields, by key:
    FastAPI hands them to the model with what was sent, so an error echoes them."""
    pydantic = pydantic_module()
    if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        return {}
    found = {}
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        if field.is_required() or field.default_factory is not None or field.default is None:
            continue
        found[wire_name(name, field)] = field.default
    return found


def _model_fields(model: Any) -> list[tuple[str, bool]]:
    """(wire name, is a sequence) for each field of a model used as a parameter group."""
    pydantic = pydantic_module()
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return [
            (wire_name(name, f), is_sequence(f.annotation))
            for name, f in model.model_fields.items()  # type: ignore[attr-defined]
        ]
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model)
        return [(f.name, is_sequence(hints.get(f.name))) for f in dataclasses.fields(model)]
    hints = typing.get_type_hints(model)
    return [(name, is_sequence(tp)) for name, tp in hints.items()]


def _forbids_extra(model: Any) -> bool:
    config = getattr(model, "model_config", None)
    return isinstance(config, dict) and config.get("extra") == "forbid"


def _source(spec: ParamSpec) -> Callable[[CallState], Any]:
    """A function giving the multi-dict (or dict) the parameter is read from."""
    location = spec.location
    if location == "query":
        return lambda ctx: ctx.conn.query_params
    if location == "header":
        return lambda ctx: ctx.conn.headers
    if location == "cookie":
        return lambda ctx: ctx.conn.cookies
    return lambda ctx: ctx.form_values


def make_getter(spec: ParamSpec, *, fastapi: bool = False) -> Getter:
    """The extractor for one parameter: its raw value, or ``_MISSING``.

    ``fastapi``: a parameter model (``Query()``, ``Header()``, ``Cookie()`` on a model) is
    read as FastAPI reads it, every value of its location handed to the model (and echoed
    by a 422) beside its fields and their defaults.
    """
    alias = spec.alias
    if spec.location == "path":
        return lambda ctx: ctx.params.get(alias, _MISSING)
    if spec.location in ("form", "file"):
        return lambda ctx: ctx.form_values.get(alias, _MISSING)
    source = _source(spec)
    if spec.group:
        # (name on the wire, key in the model, many): a header group reads "x-request-id"
        # for the field x_request_id unless the marker says convert_underscores=False.
        convert = spec.location == "header" and getattr(spec.marker, "convert_underscores", True)
        aliased = aliased_keys(spec.annotation)
        fields = [
            (key.replace("_", "-").lower() if convert and key not in aliased else key, key, many)
            for key, many in _model_fields(spec.annotation)
        ]

        # A model that forbids extra fields sees every value of its location, as in
        # FastAPI, so an unexpected query parameter or header is a 422 naming it.
        forbid = _forbids_extra(spec.annotation)
        wires = {wire for wire, _, _ in fields}
        if fastapi:
            return _fastapi_group(source, fields, _field_defaults(spec.annotation))

        def group(ctx: CallState) -> Any:
            data = source(ctx)
            found: dict[str, Any] = {}
            for wire, key, many in fields:
                if many and hasattr(data, "getlist"):
                    values = data.getlist(wire)
                    if values:
                        found[key] = values
                elif wire in data:
                    found[key] = data[wire]
            if forbid:
                for wire in data:
                    if wire not in wires:
                        found[wire.replace("-", "_") if convert else wire] = data[wire]
            return found

        return group
    if spec.sequence:

        def many(ctx: CallState) -> Any:
            values = source(ctx).getlist(alias)
            return values if values else _MISSING

        return many
    if spec.location == "query":
        # PERF: the most common typed input; one attribute lookup and a dict get.
        return lambda ctx: ctx.conn.query_params.get(alias, _MISSING)
    if spec.location == "header":
        # PERF: scan the raw header list for one name instead of decoding every header.
        raw_name = alias.encode("latin-1")

        def header(ctx: CallState) -> Any:
            for key, value in ctx.conn.scope["headers"]:
                if key == raw_name:
                    return value.decode("latin-1")
            return _MISSING

        return header
    return lambda ctx: source(ctx).get(alias, _MISSING)


def _fastapi_group(
    source: Callable[[CallState], Any],
    fields: list[tuple[str, str, bool]],
    defaults: dict[str, Any],
) -> Getter:
    """A parameter model's input as FastAPI builds it: its fields by key (a missing one
    with its default), then every other value of the location by its name on the wire
    (a repeated one as a list). A model that forbids extras refuses those; one that
    ignores them still echoes them in a 422 (for headers, ``Cookie`` and ``Authorization``
    included: kettle's own apps echo only the model's fields)."""
    known = {wire for wire, _, _ in fields} | {key for _, key, _ in fields}

    def group(ctx: CallState) -> Any:
        data = source(ctx)
        found: dict[str, Any] = {}
        for wire, key, many in fields:
            if many and hasattr(data, "getlist"):
                values = data.getlist(wire)
                if values:
                    found[key] = values
            elif wire in data:
                found[key] = data[wire]
            if key not in found and key in defaults:
                found[key] = copy.deepcopy(defaults[key])
        for wire in data:
            if wire not in known and wire not in found:
                values = data.getlist(wire) if hasattr(data, "getlist") else [data[wire]]
                found[wire] = values[0] if len(values) == 1 else values
        return found

    return group


def _annotated(spec: ParamSpec) -> Any:
    marker = spec.marker
    if spec.group or not (
        marker.constraints()
        or marker.title
        or marker.description
        or marker.examples
        or marker.discriminator
    ):
        return spec.annotation
    return Annotated[spec.annotation, marker.field_info()]


_AS_SENT = (Any, str, str | None)


def needs_validation(spec: ParamSpec) -> bool:
    # PERF: a path, query, header or cookie value arrives as a str: a plain ``str`` (or an
    # untyped) parameter without constraints is already valid, so no validator call.
    if spec.marker.constraints() or spec.group or spec.sequence:
        return True
    if spec.location in ("path", "query", "header", "cookie"):
        return spec.annotation not in _AS_SENT
    return spec.annotation is not Any


def default_of(spec: ParamSpec) -> tuple[Any, bool]:
    """The default value, and whether it must be copied per request (mutable)."""
    if spec.marker.default_factory is not None:
        return spec.marker.default_factory, True
    default = spec.default
    return default, isinstance(default, list | dict | set)


def typed_dict(name: str, specs: Sequence[ParamSpec], key: Callable[[ParamSpec], str]) -> Any:
    fields = {
        key(s): (Required[_annotated(s)] if s.required else NotRequired[_annotated(s)])
        for s in specs
    }
    # pydantic needs typing_extensions' TypedDict before Python 3.12.
    from typing_extensions import TypedDict

    td = TypedDict(name, fields)  # type: ignore[misc]
    td.__pydantic_config__ = _CONFIG  # type: ignore[attr-defined]
    return td


# -- the body -------------------------------------------------------------------------------


class BodyReader:
    """Reads and validates the JSON body for every body parameter of the plan, once."""

    def __init__(self, specs: list[ParamSpec], *, strict_content_type: bool = True) -> None:
        self.specs = specs
        #: False: a body with no Content-Type at all is read as JSON (FastAPI's
        #: ``strict_content_type=False``); any other non-JSON type is still refused
        self.strict = strict_content_type
        #: True (``kettle.fastapi.FastAPI``): a refused body or one that does not
        #: validate is reported as FastAPI reports it (see :meth:`use_fastapi_errors`)
        self.fastapi = False
        self.single = len(specs) == 1 and not getattr(specs[0].marker, "embed", False)
        if self.single:
            spec = specs[0]
            # No arbitrary types here: a JSON body can only produce what pydantic validates.
            self.adapter = pydantic_module().TypeAdapter(_annotated(spec)).validator
        else:
            unique: dict[str, ParamSpec] = {}
            for spec in specs:
                unique.setdefault(spec.alias, spec)
            self.adapter = (
                pydantic_module()
                .TypeAdapter(typed_dict("Body", list(unique.values()), lambda s: s.alias))
                .validator
            )
        self.required = any(s.required for s in specs)
        self.name = specs[0].name

    def use_fastapi_errors(self) -> None:
        """Report errors as FastAPI does (set once, when a ``FastAPI`` app compiles).

        FastAPI decodes the body with the standard library, then validates the result:
        its errors are pydantic's Python-mode ones (``Input should be a valid list``), a
        malformed body is ``JSON decode error`` at the character offset, and several body
        parameters sent as something other than an object are each ``missing``. kettle
        still validates the bytes in one pass: this redoes it FastAPI's way only for a
        body that failed. A body of another content type is a 422 with the error its
        text gets from the model, as in FastAPI, where kettle answers 415; one FastAPI
        would accept as text (a ``str`` body sent as ``text/plain``) stays a 415.
        """
        self.fastapi = True

    async def arguments(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The handler's keyword arguments when the body is its only input: a plan's
        binder (``plan.arguments(ctx, path_values)``), reading ``ctx.request``.

        PERF: the common case (one model, a JSON body) needs no ``CallState``: four fewer
        allocations per request. Anything else goes through :meth:`read`.

        Raises:
            RequestValidationError: the body is missing or does not validate.
        """
        request = ctx.created_request  # PERF: set by dispatch (the plan reads_request)
        if request is None:
            request = ctx.request
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
                    return {self.name: self._failed(raw, exc)}
        state = CallState(request, {}, 1)
        await self.read(state)
        if state.errors:
            raise RequestValidationError(state.errors, body=state.failed_body)
        return state.body_values

    def _failed(self, raw: bytes, exc: Any) -> Any:
        """What a body that failed validation becomes: FastAPI's second look at it, or a
        ``RequestValidationError`` carrying the body (as JSON, if it is JSON)."""
        if self.fastapi and raw:
            return self._fastapi_validate(raw)
        errors = convert_errors(
            exc,
            _body_loc,
            drop_input=_is_json_error(exc),
            echo_missing=True,
            depth=0 if self.single else 1,
        )
        raise RequestValidationError(errors, body=_parsed(raw)) from None

    def _fastapi_validate(self, raw: bytes) -> Any:
        import json

        try:
            data = json.loads(raw)
        except ValueError as exc:
            position = getattr(exc, "pos", 0)
            reason = getattr(exc, "msg", "Invalid JSON")
            error = {
                "type": "json_invalid",
                "loc": ("body", position),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": reason},
            }
            raise RequestValidationError([error], body=raw.decode("utf-8", "replace")) from None
        except Exception as exc:  # a decoder that fails otherwise: FastAPI's 400
            raise HTTPException(400, "There was an error parsing the body") from exc
        if not self.single and not isinstance(data, dict):
            # FastAPI looks each parameter up in the body: in anything else, none is found.
            missing = [
                {
                    "type": "missing",
                    "loc": ("body", s.alias),
                    "msg": "Field required",
                    "input": None,
                }
                for s in self.specs
            ]
            raise RequestValidationError(missing, body=data)
        try:
            # FastAPI validates with from_attributes (its "object to extract fields from").
            return self.adapter.validate_python(data, from_attributes=True)
        except ValidationError as exc:
            errors = convert_errors(
                exc, _body_loc, echo_missing=True, depth=0 if self.single else 1, fastapi=True
            )
            raise RequestValidationError(errors, body=data) from None

    def _refuse(self, media: str, raw: bytes) -> None:
        """A body that is not JSON: a 415, or in a FastAPI app the 422 FastAPI gives."""
        if self.fastapi:
            text = raw.decode("utf-8", "replace")
            try:
                self.adapter.validate_python(text, from_attributes=True)
            except ValidationError as exc:
                errors = convert_errors(exc, _body_loc, echo_missing=True, fastapi=True)
                raise RequestValidationError(errors, body=text) from None
        raise HTTPException(415, f"Unsupported Media Type {media or '(none)'!r}: expected JSON")

    async def read(self, ctx: CallState) -> None:
        try:
            await self._read(ctx)
        except RequestValidationError as exc:
            ctx.errors.extend(exc.errors())
            ctx.body_errors = True
            ctx.failed_body = exc.body

    async def _read(self, ctx: CallState) -> None:
        request = ctx.conn
        raw = await request.body()
        if raw:
            media = request.content_type[0]
            # A body without a Content-Type is refused too (unless the app opted out): a
            # cross-site fetch() can send one without a CORS preflight.
            if not is_json(media) and (self.strict or media):
                self._refuse(media, raw)
            # PERF: NaN and Infinity need an "N" or an "I"; a one-byte search rules most
            # bodies out, and only those that have one pay for the exact check.
            if (b"N" in raw or b"I" in raw) and _has_non_finite(raw):
                error = {
                    "type": "json_invalid",
                    "loc": ["body"],
                    "msg": "Invalid JSON: NaN and Infinity are not JSON",
                    "input": None,
                }
                raise RequestValidationError([error])
        if self.single:
            spec = self.specs[0]
            if not raw:
                if spec.required:
                    error = {"type": "missing", "loc": ["body"], "msg": "Field required"}
                    raise RequestValidationError([{**error, "input": None}])
                ctx.body_values[spec.name] = default_of(spec)[0]
                return
            try:
                ctx.body_values[spec.name] = self.adapter.validate_json(raw)
            except ValidationError as exc:
                ctx.body_values[spec.name] = self._failed(raw, exc)
            return
        try:
            data = self.adapter.validate_json(raw) if raw else self.adapter.validate_python({})
        except ValidationError as exc:
            data = self._failed(raw, exc)
        for spec in self.specs:
            if spec.alias in data:
                ctx.body_values[spec.name] = data[spec.alias]
            else:
                default, make = default_of(spec)
                ctx.body_values[spec.name] = (
                    (default() if callable(default) else copy.deepcopy(default))
                    if make
                    else default
                )


def _parsed(raw: bytes) -> Any:
    """The body as JSON for ``RequestValidationError.body`` (None if it is not JSON)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


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
        #: FastAPI: an empty text field (a blank HTML input) counts as not sent
        self.empty_is_missing = False

    async def read(self, ctx: CallState) -> None:
        request = ctx.conn
        if request.content_type[0] not in _FORM_TYPES:
            # No form sent (no body, or JSON, say): every form parameter is missing or
            # defaulted, a 422 naming each, as in FastAPI. The body is not read.
            return
        form = await request.parse_form()
        values = ctx.form_values
        for alias, many, as_bytes, group, spec in self.specs:
            if group:
                fields = _model_fields(spec.annotation)
                for key, is_many in fields:
                    found = form.getlist(key)
                    if found and not (self.empty_is_missing and not is_many and found[0] == ""):
                        values.setdefault(alias, {})[key] = found if is_many else found[0]
                # A form model sees every field sent (extra="forbid" names them), as in FastAPI.
                group_values = values.setdefault(alias, {})
                known = {key for key, _ in fields}
                for key in form:
                    if key not in known:
                        sent = form.getlist(key)
                        group_values[key] = sent if len(sent) > 1 else sent[0]
                continue
            found = form.getlist(alias)
            if not found or (self.empty_is_missing and not many and found[0] == ""):
                continue
            if as_bytes:
                found = [await v.read() if hasattr(v, "read") else v for v in found]
            values[alias] = found if many else found[0]


def _wants_bytes(tp: Any) -> bool:
    from kettle.signature import strip_annotated, union_arms

    tp = strip_annotated(tp)
    members = union_arms(tp)
    if members is not None:
        return any(_wants_bytes(m) for m in members)
    if typing.get_origin(tp) in (list, tuple, set, Sequence):
        return any(_wants_bytes(a) for a in typing.get_args(tp))
    return tp is bytes


def group_form_getter(spec: ParamSpec) -> Getter:
    alias = spec.alias
    return lambda ctx: ctx.form_values.get(alias, {})
