"""Compile a handler's signature into a plan: what each parameter receives.

This runs once per route at startup. The request path never calls ``inspect`` or
evaluates annotations; it runs the plan's extractors.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

from kettle.exceptions import ConfigurationError
from kettle.requests import HTTPConnection, Request

# An extractor receives the connection (Request or WebSocket) and the converted path
# parameters, and returns the value for one handler parameter.
Extractor = Callable[[Any, dict[str, Any]], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """How to call one handler."""

    func: Callable[..., Any]
    is_async: bool
    #: (parameter name, extractor) pairs, in signature order
    extractors: tuple[tuple[str, Extractor], ...]
    #: True when the handler takes exactly the path parameters, by name: fn(**params)
    path_only: bool
    #: True when some extractor needs the Request/WebSocket object
    needs_connection: bool
    #: the handler is declared to return nothing (``-> None``)
    returns_none: bool


def describe(func: Callable[..., Any]) -> str:
    """``name (file:line)`` for error messages that point at a handler."""
    target = inspect.unwrap(func)
    name = getattr(target, "__qualname__", None) or repr(target)
    try:
        file = inspect.getsourcefile(target) or "?"
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return name
    return f"{name} ({file}:{line})"


def is_async_callable(func: Any) -> bool:
    """True for ``async def`` functions, partials of them and objects with an async ``__call__``."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or (
        callable(func) and inspect.iscoroutinefunction(getattr(func, "__call__", None))  # noqa: B004
    )


def _connection(conn: Any, params: dict[str, Any]) -> Any:
    return conn


def _path_value(name: str) -> Extractor:
    def extract(conn: Any, params: dict[str, Any]) -> Any:
        return params[name]

    return extract


def _constant(value: Any) -> Extractor:
    def extract(conn: Any, params: dict[str, Any]) -> Any:
        return value

    return extract


def compile_plan(
    func: Callable[..., Any],
    path_params: Sequence[str],
    connection_types: tuple[type, ...] = (Request, HTTPConnection),
) -> Plan:
    """Build the plan for ``func``, a handler of a route with ``path_params``.

    Raises:
        ConfigurationError: a parameter can be bound to nothing, or a path parameter
            has no matching handler parameter.
    """
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=False)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(f"cannot read the signature of {describe(func)}: {exc}") from exc
    parameters = signature.parameters.values()
    accepts_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters)
    unbound = [p for p in path_params if p not in signature.parameters and not accepts_kwargs]
    if unbound:
        raise ConfigurationError(
            f"{describe(func)}: the path declares {', '.join(map(repr, unbound))} "
            "but the handler has no parameter of that name"
        )
    extractors: list[tuple[str, Extractor]] = []
    needs_connection = False
    names: list[str] = []
    for param in parameters:
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        names.append(param.name)
        annotation = hints.get(param.name, param.annotation)
        if isinstance(annotation, type) and issubclass(annotation, connection_types):
            extractors.append((param.name, _connection))
            needs_connection = True
        elif param.name in path_params:
            extractors.append((param.name, _path_value(param.name)))
        elif param.default is not param.empty:
            extractors.append((param.name, _constant(param.default)))
        else:
            raise ConfigurationError(
                f"{describe(func)}: parameter {param.name!r} is not a path parameter "
                f"(path parameters: {', '.join(path_params) or 'none'}) and has no default"
            )
    if accepts_kwargs:
        # Flask-style views declared as def view(**kwargs) receive every path value.
        extractors.extend((p, _path_value(p)) for p in path_params if p not in names)
    path_only = (
        not needs_connection
        and len(extractors) == len(path_params)
        and all(name in path_params for name, _ in extractors)
    )
    return Plan(
        func=func,
        is_async=is_async_callable(func),
        extractors=tuple(extractors),
        path_only=path_only,
        needs_connection=needs_connection,
        returns_none=hints.get("return", inspect.Signature.empty) is type(None),
    )
