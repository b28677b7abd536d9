"""pydantic's validation errors as kettle answers them: each ``loc`` says where the value
came from (``["query", "q"]``, ``["body", "name"]``), and the ``input`` echoed is bounded.

Example:
    >>> class Fake:
    ...     def errors(self, include_url=False):
    ...         return [{"type": "missing", "loc": ("q",), "msg": "Field required", "input": {}}]
    >>> convert_errors(Fake(), lambda loc: ["query", *loc])
    [{'type': 'missing', 'loc': ['query', 'q'], 'msg': 'Field required', 'input': None}]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

# The largest object (as JSON) a "missing" error echoes as its input.
_MAX_ECHO = 1024


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


def _echoed(value: Any, echo: bool) -> bool:
    return echo and value is not None and len(orjson.dumps(value)) <= _MAX_ECHO


def convert_errors(
    exc: Any,
    prefix: Callable[[Any], list[Any]],
    drop_input: bool = False,
    echo_missing: bool = False,
    depth: int = 0,
    fastapi: bool = False,
) -> list[dict[str, Any]]:
    """pydantic's errors, with ``loc`` rewritten to say where each value came from.

    A missing field's input is ``None``, except in a body (``echo_missing``), where it is
    the object the field is missing from, as in FastAPI, unless that object is large or
    the field is one of several body parameters (``loc`` no longer than ``depth``), which
    FastAPI reads one by one. ``fastapi``: the errors as ``RequestValidationError.errors()``
    gives them in FastAPI, ``loc`` a tuple and an exception in ``ctx`` an empty object
    (what FastAPI's encoder makes of it); the JSON answer is the same either way.
    """
    out = []
    for error in exc.errors(include_url=False):
        value = None if drop_input else _jsonable(error["input"])
        # A missing field's input is the object it is missing from, as in FastAPI, but a
        # large one is not echoed once per missing field (a 1 MiB body missing twenty
        # fields would answer 20 MiB).
        echo = echo_missing and len(error["loc"]) > depth
        if error["type"] == "missing" and not _echoed(value, echo):
            value = None
        loc = prefix(error["loc"])
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": tuple(loc) if fastapi else loc,
            "msg": error["msg"],
            "input": value,
        }
        if "ctx" in error:
            ctx = error["ctx"]
            if fastapi:
                ctx = {k: {} if isinstance(v, BaseException) else v for k, v in ctx.items()}
            item["ctx"] = _jsonable(ctx)
        out.append(item)
    return out
