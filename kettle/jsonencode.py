"""JSON bytes of what handlers return: orjson, with what it does not know written the way
a response model would write it (models by alias, decimals, sets, paths, enums,
dataclasses, then whatever pydantic can), and FastAPI's variant of the rules.

Example:
    >>> from decimal import Decimal
    >>> dumps({"price": Decimal("2.50"), "tags": {"tea"}})
    b'{"price":2.5,"tags":["tea"]}'
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import PurePath
from typing import Any

import orjson

__all__ = ["dumps", "dumps_as_fastapi", "fastapi_json_default", "json_default"]


def json_default(value: Any) -> Any:
    """Encode what orjson does not know natively: models, decimals, sets, paths, other
    mappings (a ``MultiDict``: each key's first value), and objects that say what they
    stand for with a ``__json__()`` method (Flask's ``request.json``, ``request.form``)."""
    to_json = getattr(value, "__json__", None)
    if to_json is not None:
        return to_json()
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None:  # pydantic models, by alias as a response model would
        return dump(mode="json", by_alias=True)
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    try:  # timedelta, IP addresses... whatever pydantic knows how to write as JSON
        from pydantic_core import to_jsonable_python

        return to_jsonable_python(value)
    except Exception:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable") from None


def dumps(value: Any, default: Callable[[Any], Any] = json_default) -> bytes:
    """Serialize to JSON bytes with orjson (non-string dict keys allowed)."""
    try:
        return orjson.dumps(value, default=default)
    except orjson.JSONEncodeError as exc:
        if "64-bit" in str(exc):
            # orjson stops at 64-bit integers; the standard library writes any size.
            import json

            return json.dumps(value, default=default, separators=(",", ":")).encode()
        # PERF: OPT_NON_STR_KEYS slows every call; only dicts with int/enum keys need it.
        if "str" not in str(exc):
            raise
        return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS)


def fastapi_json_default(value: Any) -> Any:
    """:func:`json_default` as FastAPI's encoder writes what a handler returns: a
    ``timedelta`` as its seconds (kettle: ISO 8601 ``P2DT55M``), a whole ``Decimal`` as an
    integer."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral():
        return int(value)
    return json_default(value)


def dumps_as_fastapi(value: Any) -> bytes:
    """JSON bytes of plain data as a FastAPI handler's return value becomes
    (:func:`fastapi_json_default`); kettle's own types are written by :func:`dumps`."""
    return dumps(value, fastapi_json_default)
