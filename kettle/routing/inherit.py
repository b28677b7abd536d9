"""Route defaults a router hands down to the routes under it.

``Router(default_response_class=..., callbacks=..., generate_unique_id_function=...,
strict_content_type=...)`` and the same arguments of ``include_router`` apply to every
route below, the innermost declaration winning (a route's own first, then its router's,
then the include's, then the outer routers'); callbacks add up, outermost first. The
merge runs while the app flattens its routers, at startup.

Example:
    >>> from kettle import Kettle, Router
    >>> from kettle.responses import PlainTextResponse
    >>> router = Router(default_response_class=PlainTextResponse)
    >>> @router.get("/hello")
    ... async def hello() -> str:
    ...     return "hi"
    >>> app = Kettle(__name__)
    >>> app.include_router(router)
    >>> [r.response_class for r in app.router.iter_routes()] == [PlainTextResponse]
    True
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: the route options a router may set for all its routes (``response_class`` is a field)
INHERITED = ("response_class", "callbacks", "generate_unique_id_function", "strict_content_type")


def route_defaults(
    response_class: type | None = None,
    callbacks: Sequence[Any] | None = None,
    generate_unique_id_function: Callable[[Any], str] | None = None,
    strict_content_type: bool | None = None,
) -> dict[str, Any]:
    """The defaults that were given (``None``: not given)."""
    given = {
        "response_class": response_class,
        "callbacks": list(callbacks) if callbacks else None,
        "generate_unique_id_function": generate_unique_id_function,
        "strict_content_type": strict_content_type,
    }
    return {name: value for name, value in given.items() if value is not None}


def merge(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> dict[str, Any]:
    """``inner`` over ``outer``; callbacks are concatenated, outer ones first."""
    merged = dict(outer)
    for name, value in inner.items():
        if name == "callbacks":
            merged[name] = [*merged.get(name, ()), *value]
        else:
            merged[name] = value
    return merged


def apply(route: Any, defaults: Mapping[str, Any]) -> Any:
    """``route`` (a :class:`~kettle.routing.Route`, whichever its class) with the defaults
    it does not set itself."""
    if not defaults:
        return route
    options = dict(route.options)
    for name, value in defaults.items():
        if name == "callbacks":
            options[name] = [*value, *(options.get(name) or ())]
        elif name != "response_class" and options.get(name) is None:
            options[name] = value
    response_class = route.response_class or defaults.get("response_class")
    return dataclasses.replace(route, options=options, response_class=response_class)


_PARAM = re.compile(r"\{([^}:]+):[^}]*\}|<(?:[^>:]+:)?([^>]+)>")


def path_format(path: str) -> str:
    """``/items/{item_id:int}`` and ``/items/<int:item_id>`` → ``/items/{item_id}``."""
    return _PARAM.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", path)
