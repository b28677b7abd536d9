"""Path converters: how a path segment becomes a typed value, and back."""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar


class Converter:
    """Turn a path segment into a value (``convert``) and a value into a segment (``to_url``).

    ``convert`` raises ``ValueError`` when the segment does not fit; the router then tries
    other routes, and answers 404 if none fits. Register your own with
    ``app.register_converter(name, converter)``.

    Example:
        >>> class Hex(Converter):
        ...     def convert(self, value: str) -> int:
        ...         return int(value, 16)
        ...     def to_url(self, value: int) -> str:
        ...         return format(value, "x")
        >>> Hex().convert("ff")
        255
    """

    #: matches the rest of the path, slashes included (only as the last segment)
    greedy: ClassVar[bool] = False
    #: Lower is tried first when several parametrized routes could match a segment.
    priority: ClassVar[int] = 50
    #: The Python type of converted values, for the OpenAPI schema.
    python_type: ClassVar[type] = str

    def convert(self, value: str) -> Any:
        if not value:
            raise ValueError("empty segment")
        return value

    def to_url(self, value: Any) -> str:
        return str(value)


class StringConverter(Converter):
    """Any non-empty segment without a slash (the default)."""

    priority = 90


class PathConverter(Converter):
    """The rest of the path, slashes included; may be empty only if declared last."""

    greedy = True
    priority = 100


class IntConverter(Converter):
    """A non-negative integer written with ASCII digits."""

    priority = 10
    python_type = int

    def convert(self, value: str) -> int:
        # str.isdigit accepts other scripts' digits ("٣") and superscripts; only 0-9 match.
        if not value or not value.isascii() or not value.isdigit() or len(value) > 19:
            raise ValueError(value)
        return int(value)

    def to_url(self, value: Any) -> str:
        if int(value) < 0:
            raise ValueError("negative value for an int path converter")
        return str(int(value))


class FloatConverter(Converter):
    """A finite, non-negative decimal number such as ``3`` or ``2.5``."""

    priority = 20
    python_type = float

    def convert(self, value: str) -> float:
        if not value or not value.isascii() or len(value) > 64:
            raise ValueError(value)
        if not all(c.isdigit() or c == "." for c in value) or value.count(".") > 1:
            raise ValueError(value)
        result = float(value)
        if not math.isfinite(result):
            raise ValueError(value)
        return result

    def to_url(self, value: Any) -> str:
        return repr(float(value))


class UUIDConverter(Converter):
    """A UUID in its canonical hyphenated form."""

    priority = 5
    python_type = uuid.UUID

    def convert(self, value: str) -> uuid.UUID:
        if len(value) != 36:
            raise ValueError(value)
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value)


DEFAULT_CONVERTERS: dict[str, type[Converter]] = {
    "str": StringConverter,
    "string": StringConverter,
    "default": StringConverter,
    "path": PathConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
