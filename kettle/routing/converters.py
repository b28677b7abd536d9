"""Path converters: how a path segment becomes a typed value, and back."""

from __future__ import annotations

import decimal
import math
import re
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
    #: the constructor's first argument is the URL map (Werkzeug's ``BaseConverter``)
    takes_url_map: ClassVar[bool] = False

    def convert(self, value: str) -> Any:
        if not value:
            raise ValueError("empty segment")
        return value

    def to_url(self, value: Any) -> str:
        return str(value)


class StringConverter(Converter):
    """Any non-empty segment without a slash (the default); ``string(minlength=2,
    maxlength=8)`` or ``string(length=2)`` bound its length, as in Werkzeug.

    Example:
        >>> StringConverter(length=2).convert("fr")
        'fr'
    """

    priority = 90

    def __init__(
        self, minlength: int = 1, maxlength: int | None = None, length: int | None = None
    ) -> None:
        if length is not None:
            minlength = maxlength = length
        self.minlength = minlength
        self.maxlength = maxlength

    def convert(self, value: str) -> str:
        if len(value) < max(1, self.minlength) or (
            self.maxlength is not None and len(value) > self.maxlength
        ):
            raise ValueError(value)
        return value


class AnyConverter(Converter):
    """One of a fixed set of segments: ``<any(xhr, fetch):kind>``, as in Werkzeug.

    Example:
        >>> AnyConverter("xhr", "fetch").convert("xhr")
        'xhr'
    """

    priority = 30

    def __init__(self, *items: str) -> None:
        if not items or not all(isinstance(item, str) and item for item in items):
            raise ValueError("any(...) takes one or more non-empty names")
        self.items = frozenset(items)
        # Mixed segments match with this (longest first: "ab" before "a").
        self.regex = "|".join(re.escape(i) for i in sorted(items, key=len, reverse=True))

    def convert(self, value: str) -> str:
        if value not in self.items:
            raise ValueError(value)
        return value

    def to_url(self, value: Any) -> str:
        if str(value) not in self.items:
            raise ValueError(f"{value!r} is not one of {sorted(self.items)}")
        return str(value)


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
        """The value as :meth:`convert` reads it back: digits and one point, no exponent.

        Raises:
            ValueError: a negative, infinite or NaN value, or one whose digits would be
                more than ``convert`` accepts (64 characters): no URL of the route has it.
        """
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            raise ValueError(f"a float path value must be finite: {value!r}") from None
        if not math.isfinite(number) or math.copysign(1.0, number) < 0:  # -0.0 too
            raise ValueError(f"a float path value must be finite and not negative: {value!r}")
        text = repr(number)
        if "e" in text:  # 1e+16, 1e-05: written out in full, as exact as repr
            text = format(decimal.Decimal(text), "f")
        if len(text) > 64:
            raise ValueError(f"a float path value must be at most 64 characters: {text!r}")
        return text


_CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
).fullmatch


class UUIDConverter(Converter):
    """A UUID in its canonical hyphenated form."""

    priority = 5
    python_type = uuid.UUID

    def convert(self, value: str) -> uuid.UUID:
        # uuid.UUID() alone also takes "urn:uuid:", braces, hyphens anywhere and
        # underscores between digits: only the canonical form names the resource.
        if _CANONICAL_UUID(value) is None:
            raise ValueError(value)
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        """The canonical form :meth:`convert` reads (``urn:uuid:``, braces or bare hex
        given as text are rewritten; text that is no UUID is a ``ValueError``)."""
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


DEFAULT_CONVERTERS: dict[str, type[Converter]] = {
    "str": StringConverter,
    "string": StringConverter,
    "default": StringConverter,
    "path": PathConverter,
    "any": AnyConverter,
    "int": IntConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
