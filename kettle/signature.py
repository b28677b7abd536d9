"""Read a handler's signature once and say where each parameter's value comes from.

The result is a ``CallSpec`` tree (the handler and its dependencies): plain data, built at
startup, with no request in sight. ``kettle.plan`` turns it into the extractors and
validators a request runs.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import inspect
import ipaddress
import pathlib
import sys
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from kettle import params as p
from kettle.exceptions import ConfigurationError
from kettle.introspection import describe, generator_kind, is_async_callable

#: Where a parameter of a special type gets its value: the object itself.
SpecialKind = Literal["request", "websocket", "connection", "response", "background", "scopes"]


@dataclasses.dataclass(slots=True)
class ParamSpec:
    """One handler parameter fed from the request."""

    name: str
    location: str  # path, query, header, cookie, body, form, file
    alias: str  # the name on the wire
    annotation: Any  # the type to validate against (markers removed, other metadata kept)
    marker: p.Param
    required: bool
    default: Any
    sequence: bool  # collects every value of a repeated key (query, header, form)
    group: bool  # a model whose fields are read one by one from the location


@dataclasses.dataclass(slots=True)
class DependencySpec:
    name: str | None  # None for dependencies declared on the route/router/app
    depends: p.Depends
    call: CallSpec


@dataclasses.dataclass(slots=True)
class CallSpec:
    """A callable (a handler or a dependency) and what each of its parameters receives."""

    func: Callable[..., Any]
    is_async: bool
    generator: str | None  # "sync", "async" or None
    params: list[ParamSpec]
    specials: list[tuple[str, SpecialKind]]
    dependencies: list[DependencySpec]
    return_annotation: Any
    scope: str = "request"

    @property
    def label(self) -> str:
        return describe(self.func)


_SCALARS: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    bytes,
    decimal.Decimal,
    uuid.UUID,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    enum.Enum,
    pathlib.PurePath,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
)
#: Modules whose classes are read from one string too: pydantic's URL types
#: (``HttpUrl``...), checked by module so that kettle need not import pydantic to know them.
_PYDANTIC_SCALARS = frozenset({"pydantic.networks", "pydantic_core._pydantic_core"})
_SEQUENCES = (list, set, frozenset, tuple, Sequence, typing.List, typing.Set, typing.Tuple)  # noqa: UP006


def strip_annotated(tp: Any) -> Any:
    """``Annotated[int, ...]`` → ``int`` (nested ``Annotated`` too)."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def union_arms(tp: Any) -> tuple[Any, ...] | None:
    """The members of a ``Union`` other than ``None``; ``None`` when ``tp`` is no union."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return tuple(a for a in get_args(tp) if a is not type(None))
    return None


def is_scalar(tp: Any) -> bool:
    """A type read from one string: numbers, text, dates, UUIDs, enums, literals..."""
    tp = strip_annotated(tp)
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return True
    members = union_arms(tp)
    if members is not None:
        return all(is_scalar(m) for m in members)
    if get_origin(tp) is Literal:
        return True
    if isinstance(tp, type):
        if _is_upload(tp):
            return False
        return issubclass(tp, _SCALARS) or any(
            klass.__module__ in _PYDANTIC_SCALARS for klass in tp.__mro__[:-1]
        )
    return type(tp).__name__ == "NewType" and is_scalar(getattr(tp, "__supertype__", None))


def is_sequence(tp: Any) -> bool:
    """A list/set/tuple of scalars: all values of a repeated key."""
    tp = strip_annotated(tp)
    members = union_arms(tp)
    if members is not None:
        return len(members) == 1 and is_sequence(members[0])
    origin = get_origin(tp)
    if origin in _SEQUENCES or tp in (list, set, tuple, frozenset):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        return all(is_scalar(a) for a in args)
    return False


def _is_upload(tp: Any) -> bool:
    from kettle.forms import UploadFile

    tp = strip_annotated(tp)
    members = union_arms(tp)
    if members is not None:
        return any(_is_upload(m) for m in members)
    if get_origin(tp) in _SEQUENCES:
        return any(_is_upload(a) for a in get_args(tp))
    return isinstance(tp, type) and issubclass(tp, UploadFile)


def is_model(tp: Any) -> bool:
    """A structured type with named fields: a pydantic model, dataclass or TypedDict."""
    tp = strip_annotated(tp)
    if not isinstance(tp, type):
        return False
    # A class can only be a pydantic model if pydantic has been imported by someone.
    pydantic = sys.modules.get("pydantic")
    return (
        (pydantic is not None and issubclass(tp, pydantic.BaseModel))
        or dataclasses.is_dataclass(tp)
        or typing.is_typeddict(tp)
    )


def _special_kind(tp: Any) -> SpecialKind | None:
    from kettle.background import BackgroundTasks
    from kettle.params import SecurityScopes
    from kettle.requests import HTTPConnection, Request
    from kettle.responses import Response
    from kettle.websockets import WebSocket

    tp = strip_annotated(tp)
    if not isinstance(tp, type):
        return None
    if issubclass(tp, Request):
        return "request"
    if issubclass(tp, WebSocket):
        return "websocket"
    if issubclass(tp, HTTPConnection):
        return "connection"
    if issubclass(tp, Response):
        return "response"
    if issubclass(tp, BackgroundTasks):
        return "background"
    if issubclass(tp, SecurityScopes):
        return "scopes"
    return None


def _split_annotated(annotation: Any) -> tuple[Any, p.Param | p.Depends | None]:
    """Separate our marker from the rest of an ``Annotated[...]``'s metadata."""
    if get_origin(annotation) is not Annotated:
        return annotation, None
    base, *metadata = get_args(annotation)
    marker: p.Param | p.Depends | None = None
    rest = []
    for item in metadata:
        if isinstance(item, p.Param | p.Depends):
            marker = item  # the last marker wins, as in FastAPI
        else:
            rest.append(item)
    if rest:
        return Annotated[(base, *rest)], marker
    return base, marker


class Analyzer:
    """Builds ``CallSpec`` trees, detecting dependency cycles and applying overrides."""

    def __init__(
        self,
        path_params: Sequence[str],
        overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
        unbound_ok: bool = False,
    ) -> None:
        self.path_params = set(path_params)
        self.overrides = overrides or {}
        #: a URL value preprocessor may pop path values the handler then does not take
        self.unbound_ok = unbound_ok
        self._stack: list[Callable[..., Any]] = []

    def handler(self, func: Callable[..., Any], dependencies: Sequence[p.Depends] = ()) -> CallSpec:
        """The spec of a route handler plus its route-level ``dependencies``."""
        spec = self.call(func, is_handler=True)
        spec.dependencies[:0] = [
            DependencySpec(None, dep, self._dependency(dep, None, func)) for dep in dependencies
        ]
        return spec

    def _dependency(
        self, depends: p.Depends, annotation: Any, owner: Callable[..., Any]
    ) -> CallSpec:
        target = depends.dependency
        if target is None:
            target = strip_annotated(annotation)
            if not callable(target) or target is inspect.Parameter.empty:
                raise ConfigurationError(
                    f"{describe(owner)}: Depends() without a callable needs a class annotation"
                )
        target = self.overrides.get(target, target)
        if target in self._stack:
            chain = " -> ".join(describe(f) for f in [*self._stack, target])
            raise ConfigurationError(f"dependency cycle: {chain}")
        spec = self.call(target)
        spec.scope = depends.scope
        return spec

    def call(self, func: Callable[..., Any], *, is_handler: bool = False) -> CallSpec:
        self._stack.append(func)
        try:
            return self._call(func, is_handler)
        finally:
            self._stack.pop()

    def _call(self, func: Callable[..., Any], is_handler: bool) -> CallSpec:
        target: Any = func
        while isinstance(target, functools.partial):
            target = target.func
        if isinstance(target, type):
            target = target.__init__  # type: ignore[misc]
        elif not (inspect.isfunction(target) or inspect.ismethod(target)):
            target = type(target).__call__  # a callable instance: its __call__ has the hints
        try:
            signature = inspect.signature(func)
            hints = typing.get_type_hints(target, include_extras=True)
        except (TypeError, ValueError, NameError) as exc:
            # A builtin dependency (``Depends()`` on ``int``) says nothing of where it was
            # asked for: name the chain that led to it, handler first.
            needed_by = self._stack[:-1]
            chain = f" (needed by {' -> '.join(map(describe, needed_by))})" if needed_by else ""
            raise ConfigurationError(
                f"cannot read the signature of {describe(func)}{chain}: {exc}"
            ) from exc
        parameters = list(signature.parameters.values())
        accepts_kwargs = any(prm.kind is prm.VAR_KEYWORD for prm in parameters)
        if is_handler and not accepts_kwargs and not self.unbound_ok:
            unbound = self.path_params - _wire_names(parameters, hints)
            if unbound:
                raise ConfigurationError(
                    f"{describe(func)}: the path declares {', '.join(map(repr, sorted(unbound)))} "
                    "but the handler has no parameter of that name"
                )
        spec = CallSpec(
            func=func,
            is_async=is_async_callable(func) or is_async_callable(_unwrapped(func)),
            generator=generator_kind(func) or generator_kind(_unwrapped(func)),
            params=[],
            specials=[],
            dependencies=[],
            return_annotation=hints.get("return", signature.return_annotation),
        )
        for prm in parameters:
            if prm.kind is prm.VAR_POSITIONAL:
                continue
            if prm.kind is prm.VAR_KEYWORD:
                if is_handler:  # Flask-style def view(**values) receives every path value
                    for name in sorted(self.path_params - set(signature.parameters)):
                        spec.params.append(self._param(func, name, Any, None, prm.empty))
                continue
            if prm.kind is prm.POSITIONAL_ONLY:
                raise ConfigurationError(
                    f"{describe(func)}: positional-only parameter {prm.name!r} cannot be bound"
                )
            self._classify(func, spec, prm, hints.get(prm.name, prm.annotation))
        return spec

    def _classify(
        self, func: Callable[..., Any], spec: CallSpec, prm: inspect.Parameter, annotation: Any
    ) -> None:
        annotation, marker = _split_annotated(annotation)
        default = prm.default
        if isinstance(default, p.Param | p.Depends):
            marker, default = default, prm.empty
        if isinstance(marker, p.Depends):
            spec.dependencies.append(
                DependencySpec(prm.name, marker, self._dependency(marker, annotation, func))
            )
            return
        special = _special_kind(annotation) if marker is None else None
        if special is not None:
            spec.specials.append((prm.name, special))
            return
        spec.params.append(self._param(func, prm.name, annotation, marker, default))

    def _param(
        self,
        func: Callable[..., Any],
        name: str,
        annotation: Any,
        marker: p.Param | None,
        default: Any,
    ) -> ParamSpec:
        if annotation is inspect.Parameter.empty:
            annotation = Any
        if marker is None:
            if name in self.path_params:
                marker = p.Path()
            elif _is_upload(annotation):
                marker = p.File()
            elif is_scalar(annotation) or is_sequence(annotation):
                marker = p.Query()
            else:
                marker = p.Body()
        location = marker.location
        wire = marker.validation_alias if isinstance(marker.validation_alias, str) else None
        alias = wire or marker.alias or name
        if location == "path" and alias not in self.path_params:
            raise ConfigurationError(
                f"{describe(func)}: {name!r} is declared Path() but the route path has no "
                f"{{{alias}}} (path parameters: {', '.join(sorted(self.path_params)) or 'none'})"
            )
        if default is not inspect.Parameter.empty and marker.default is not p.Required:
            raise ConfigurationError(
                f"{describe(func)}: {name!r} has a default both in the signature and in its marker"
            )
        if default is inspect.Parameter.empty:
            default = marker.default
        required = default is p.Required and marker.default_factory is None
        if location == "path":
            required, default = True, p.Required
        group = location in ("query", "header", "cookie", "form") and is_model(annotation)
        if location == "header" and wire is None and marker.alias is None:
            convert = getattr(marker, "convert_underscores", True)
            alias = name.replace("_", "-") if convert else name
        if location == "header":
            alias = alias.lower()
        sequence = location in ("query", "header", "form", "file") and (
            is_sequence(annotation)
            or (location in ("form", "file") and _is_upload_list(annotation))
        )
        if location in ("query", "header", "cookie", "path") and not (
            group or is_scalar(annotation) or is_sequence(annotation)
        ):
            raise ConfigurationError(
                f"{describe(func)}: {name!r} is a {location} parameter of type "
                f"{annotation!r}, which cannot be read from a {location} string"
            )
        return ParamSpec(
            name=name,
            location=location,
            alias=alias,
            annotation=annotation,
            marker=marker,
            required=required,
            default=None if default is p.Required else default,
            sequence=sequence,
            group=group,
        )


def wire_name(name: str, field: Any) -> str:
    """A model field's key: its validation alias if a plain name, else alias, else name."""
    wire = field.validation_alias
    return wire if isinstance(wire, str) else field.alias or name


def aliased_keys(model: Any) -> frozenset[str]:
    """A model's field keys that are aliases: a header model reads them as written."""
    fields = getattr(model, "model_fields", None) or {}
    return frozenset(w for n, f in fields.items() if (w := wire_name(n, f)) != n)


def _unwrapped(func: Any) -> Any:
    """The function under ``functools.partial`` and ``functools.wraps`` layers: a plain
    ``def`` wrapper of an ``async def`` returns its coroutine, so it is awaited (FastAPI
    reads wrapped callables the same way)."""
    while isinstance(func, functools.partial):
        func = func.func
    if not (inspect.isroutine(func) or isinstance(func, type)):
        func = getattr(func, "__call__", func)  # noqa: B004 - an instance: its method
    try:
        return inspect.unwrap(func)
    except ValueError:  # a __wrapped__ cycle: the callable as given
        return func


def _wire_names(parameters: Sequence[inspect.Parameter], hints: dict[str, Any]) -> set[str]:
    """The names a handler's parameters may bind a path value by: their own, and the
    aliases their markers give (``Path(alias="item-id")`` binds ``{item-id}``, as in FastAPI)."""
    names = set()
    for prm in parameters:
        names.add(prm.name)
        _, marker = _split_annotated(hints.get(prm.name, prm.annotation))
        if isinstance(prm.default, p.Param):
            marker = prm.default
        if isinstance(marker, p.Param):
            if isinstance(marker.validation_alias, str):
                names.add(marker.validation_alias)
            if marker.alias:
                names.add(marker.alias)
    return names


def _is_upload_list(tp: Any) -> bool:
    tp = strip_annotated(tp)
    members = union_arms(tp)
    if members is not None:
        return len(members) == 1 and _is_upload_list(members[0])
    return get_origin(tp) in _SEQUENCES and _is_upload(tp)


def analyze(
    func: Callable[..., Any],
    path_params: Sequence[str],
    dependencies: Sequence[p.Depends] = (),
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
    *,
    unbound_ok: bool = False,
) -> CallSpec:
    """The ``CallSpec`` tree of a route handler (``unbound_ok``: path parameters the
    handler does not take are allowed, as when URL value preprocessors run first).

    Raises:
        ConfigurationError: a parameter cannot be bound, a dependency cycle, a path
            parameter without a handler parameter.

    Example:
        >>> spec = analyze(lambda item_id, q=None: None, ["item_id"])
        >>> [(prm.name, prm.location, prm.required) for prm in spec.params]
        [('item_id', 'path', True), ('q', 'query', False)]
    """
    return Analyzer(path_params, overrides, unbound_ok).handler(func, dependencies)
