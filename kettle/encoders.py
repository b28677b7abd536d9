"""Turning any Python value into plain JSON data (dicts, lists, strings, numbers, None).

kettle's responses never need this: they serialize straight to bytes (pydantic-core for
models, orjson for the rest). :func:`jsonable_encoder` is for the places an app wants the
plain data itself: storing a model in a JSON column or a fake database, comparing it in a
test, merging a partial update (``PATCH``) into stored data.

The walk is bounded: a value nested deeper than ``max_depth`` levels, or one that contains
itself, raises ``ValueError`` instead of exhausting the stack on hostile input.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePath
from types import GeneratorType
from typing import Any

from pydantic import BaseModel

__all__ = ["DEFAULT_MAX_DEPTH", "ENCODERS_BY_TYPE", "jsonable_encoder"]

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]

#: How deeply nested a value may be before :func:`jsonable_encoder` refuses it.
DEFAULT_MAX_DEPTH = 256


def _decimal(value: decimal.Decimal) -> int | float:
    # A whole Decimal stays an int (no "1.0" for a quantity); others become floats.
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


#: The encoder of each non-JSON type, looked up along the value's MRO.
ENCODERS_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    bytes: lambda b: b.decode(),
    datetime.datetime: _isoformat,
    datetime.date: _isoformat,
    datetime.time: _isoformat,
    datetime.timedelta: lambda td: td.total_seconds(),
    decimal.Decimal: _decimal,
    enum.Enum: lambda e: e.value,
    uuid.UUID: str,
    PurePath: str,
    ipaddress.IPv4Address: str,
    ipaddress.IPv6Address: str,
    ipaddress.IPv4Interface: str,
    ipaddress.IPv6Interface: str,
    ipaddress.IPv4Network: str,
    ipaddress.IPv6Network: str,
    re.Pattern: lambda p: p.pattern,
}


def _pydantic_encoders() -> None:
    # pydantic's own value types (secrets, URLs, e-mail names) print as their text form.
    import pydantic
    import pydantic_core

    for name in ("SecretStr", "SecretBytes", "NameEmail", "AnyUrl"):
        cls = getattr(pydantic, name, None)
        if isinstance(cls, type):
            ENCODERS_BY_TYPE[cls] = str
    ENCODERS_BY_TYPE[pydantic_core.Url] = str
    ENCODERS_BY_TYPE[pydantic_core.MultiHostUrl] = str


_pydantic_encoders()


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: Mapping[type[Any], Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """``obj`` as plain JSON data: dicts with string keys, lists, str, int, float, bool, None.

    Pydantic models are dumped in JSON mode (``include``, ``exclude``, ``by_alias``,
    ``exclude_unset``, ``exclude_defaults``, ``exclude_none`` as in ``model_dump``),
    dataclasses and mappings become dicts, sets, tuples and generators lists; dates and
    times become ISO 8601 text, ``timedelta`` seconds, ``Decimal`` an int or a float,
    enums their value, UUIDs, paths and IP addresses text. An object of another class
    becomes the dict of its attributes.

    Args:
        obj: the value to encode.
        include: keys (or field names) to keep at the top level.
        exclude: keys (or field names) to drop at the top level.
        by_alias: models use their fields' aliases as keys.
        exclude_unset: models leave out fields that were not set explicitly.
        exclude_defaults: models leave out fields equal to their default.
        exclude_none: leave out ``None`` values of models and mappings, at every level.
        custom_encoder: encoders by type, tried before the built-in ones.
        sqlalchemy_safe: leave out mapping keys starting with ``_sa`` (SQLAlchemy's state).
        max_depth: the deepest nesting accepted.

    Raises:
        ValueError: ``obj`` contains itself, is nested deeper than ``max_depth``, or holds
            a value that cannot be encoded.

    Example:
        >>> import datetime, decimal, uuid
        >>> from pydantic import BaseModel
        >>> class Item(BaseModel):
        ...     title: str
        ...     due: datetime.date
        ...     price: decimal.Decimal | None = None
        >>> jsonable_encoder(Item(title="Pen", due=datetime.date(2026, 1, 2)))
        {'title': 'Pen', 'due': '2026-01-02', 'price': None}
        >>> jsonable_encoder({"id": uuid.UUID(int=1), "tags": {"a"}}, exclude_none=True)
        {'id': '00000000-0000-0000-0000-000000000001', 'tags': ['a']}
    """
    encoder = _Encoder(
        custom_encoder or {},
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
        sqlalchemy_safe=sqlalchemy_safe,
        max_depth=max_depth,
    )
    return encoder.encode(obj, 0, include, exclude)


@dataclasses.dataclass(frozen=True)
class _Encoder:
    custom: Mapping[type[Any], Callable[[Any], Any]]
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    sqlalchemy_safe: bool
    max_depth: int
    # ids of the containers on the path from the root to the value being encoded
    path: set[int] = dataclasses.field(default_factory=set)

    def encode(
        self, obj: Any, depth: int, include: IncEx | None = None, exclude: IncEx | None = None
    ) -> Any:
        if self.custom:
            found = self._lookup(self.custom, obj)
            if found is not None:
                return found(obj)
        # bool is an int; an Enum mixing in str or int is encoded below, as its value.
        if (obj is None or isinstance(obj, str | int | float)) and not isinstance(obj, enum.Enum):
            return obj
        if depth >= self.max_depth:
            raise ValueError(f"the value is nested deeper than {self.max_depth} levels")
        if isinstance(obj, BaseModel):
            dumped = obj.model_dump(
                mode="json",
                include=include,
                exclude=exclude,
                by_alias=self.by_alias,
                exclude_unset=self.exclude_unset,
                exclude_defaults=self.exclude_defaults,
                exclude_none=self.exclude_none,
            )
            # fresh data (a RootModel may dump to a list or a plain value): no cycle possible
            return self.encode(dumped, depth + 1)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
            return self._nested(obj, fields, depth, include, exclude)
        builtin = self._lookup(ENCODERS_BY_TYPE, obj)
        if builtin is not None:
            return builtin(obj)
        if isinstance(obj, Mapping):
            return self._nested(obj, obj, depth, include, exclude)
        if isinstance(obj, list | tuple | set | frozenset | deque | GeneratorType):
            return self._nested(obj, obj, depth)
        if hasattr(obj, "__dict__") or hasattr(obj, "keys"):
            data: Any
            try:
                data = dict(obj)
            except (TypeError, ValueError):
                data = vars(obj) if hasattr(obj, "__dict__") else None
            if data is not None:
                return self._nested(obj, data, depth, include, exclude)
        raise ValueError(f"cannot encode a {type(obj).__name__} as JSON")

    @staticmethod
    def _lookup(
        table: Mapping[type[Any], Callable[[Any], Any]], obj: Any
    ) -> Callable[[Any], Any] | None:
        for cls in type(obj).__mro__:
            if cls in table:
                return table[cls]
        return None

    def _nested(
        self,
        owner: Any,
        data: Mapping[Any, Any] | Iterable[Any],
        depth: int,
        include: IncEx | None = None,
        exclude: IncEx | None = None,
    ) -> Any:
        key = id(owner)
        if key in self.path:
            raise ValueError(f"the value contains itself (a {type(owner).__name__})")
        self.path.add(key)
        try:
            if isinstance(data, Mapping):
                return self._mapping(data, depth, include, exclude)
            return [self.encode(item, depth + 1) for item in data]
        finally:
            self.path.discard(key)

    def _mapping(
        self,
        data: Mapping[Any, Any],
        depth: int,
        include: IncEx | None,
        exclude: IncEx | None,
    ) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for name, value in data.items():
            if include is not None and name not in include:
                continue
            if exclude is not None and name in exclude:
                continue
            if self.sqlalchemy_safe and isinstance(name, str) and name.startswith("_sa"):
                continue
            if value is None and self.exclude_none:
                continue
            result[self.encode(name, depth + 1)] = self.encode(value, depth + 1)
        return result
