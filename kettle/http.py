"""Reading and writing HTTP header values: dates, lists, sets, ``Cache-Control``, options.

No I/O and no request: each function takes a header's text and returns Python values, or
the reverse. Malformed input never raises: a date that does not parse is ``None``, a
list item that does not parse is skipped, so a hostile header cannot turn into a 500.

Example:
    >>> from kettle.http import http_date, parse_cache_control_header, parse_options_header
    >>> http_date(0)
    'Thu, 01 Jan 1970 00:00:00 GMT'
    >>> parse_cache_control_header("public, max-age=600").max_age
    600
    >>> parse_options_header('text/html; charset="utf-8"')
    ('text/html', {'charset': 'utf-8'})
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

__all__ = [
    "CacheControl",
    "HeaderSet",
    "dump_header",
    "http_date",
    "parse_cache_control_header",
    "parse_date",
    "parse_dict_header",
    "parse_list_header",
    "parse_options_header",
    "parse_set_header",
    "quote_header_value",
    "unquote_header_value",
]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def http_date(value: datetime | date | int | float | None = None) -> str:
    """The HTTP date (RFC 9110 IMF-fixdate) for a datetime, a date or a timestamp.

    ``None`` means now; a naive datetime is taken as UTC.

    Example:
        >>> from datetime import datetime
        >>> http_date(datetime(2024, 2, 29, 12, 30))
        'Thu, 29 Feb 2024 12:30:00 GMT'
    """
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


def parse_date(value: str | None) -> datetime | None:
    """The aware datetime an HTTP date names, or ``None`` if it does not parse.

    Example:
        >>> parse_date("Thu, 29 Feb 2024 12:30:00 GMT").isoformat()
        '2024-02-29T12:30:00+00:00'
        >>> parse_date("yesterday") is None
        True
    """
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def quote_header_value(value: Any, allow_token: bool = True) -> str:
    """``value`` as a header token, or as a quoted string when it is not a token."""
    text = str(value)
    if allow_token and text and _TOKEN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_header_value(value: str) -> str:
    """The text of a quoted string (a token is returned as it is)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _split(value: str, separator: str) -> Iterator[str]:
    """The pieces between ``separator``s that are not inside a quoted string."""
    piece: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            yield "".join(piece).strip()
            piece = []
            continue
        piece.append(char)
    yield "".join(piece).strip()


def parse_list_header(value: str) -> list[str]:
    """The items of a comma-separated header (quoted items unquoted, empty ones dropped).

    Example:
        >>> parse_list_header('gzip, "a, b", br')
        ['gzip', 'a, b', 'br']
    """
    return [unquote_header_value(item) for item in _split(value, ",") if item]


def parse_dict_header(value: str) -> dict[str, str | None]:
    """``key=value`` items of a comma-separated header (a bare key maps to ``None``).

    Example:
        >>> parse_dict_header('no-cache, max-age=0, realm="kettle"')
        {'no-cache': None, 'max-age': '0', 'realm': 'kettle'}
    """
    result: dict[str, str | None] = {}
    for item in _split(value, ","):
        if not item:
            continue
        key, eq, val = item.partition("=")
        key = key.strip()
        if key:
            result[key] = unquote_header_value(val.strip()) if eq else None
    return result


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """A ``Content-Type``-like header: the value and its ``;``-separated options.

    Option names are lowercased; a malformed option is skipped.
    """
    if not value:
        return "", {}
    main, *rest = _split(value, ";")
    options: dict[str, str] = {}
    for item in rest:
        key, eq, val = item.partition("=")
        if eq and key.strip():
            options[key.strip().lower()] = unquote_header_value(val.strip())
    return main.strip(), options


def dump_header(value: Mapping[str, Any] | Iterable[Any]) -> str:
    """A header value from a dict (``key=value``, ``None``: the bare key) or a list.

    Example:
        >>> dump_header({"max-age": 60, "public": None})
        'max-age=60, public'
        >>> dump_header(["a", "b c"])
        'a, "b c"'
    """
    if isinstance(value, Mapping):
        items = [
            key if val is None else f"{key}={quote_header_value(val)}" for key, val in value.items()
        ]
    else:
        items = [quote_header_value(item) for item in value]
    return ", ".join(items)


class HeaderSet:
    """A case-insensitive set of header items that keeps their order (``Vary``, ``Allow``).

    Example:
        >>> items = parse_set_header("Accept, Cookie")
        >>> "cookie" in items, items.to_header()
        (True, 'Accept, Cookie')
    """

    def __init__(self, items: Iterable[str] = ()) -> None:
        self._items: list[str] = []
        for item in items:
            self.add(item)

    def add(self, item: str) -> None:
        if item.lower() not in self:
            self._items.append(item)

    def discard(self, item: str) -> None:
        self._items = [i for i in self._items if i.lower() != item.lower()]

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item.lower() in {i.lower() for i in self._items}

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def to_header(self) -> str:
        return dump_header(self._items)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"HeaderSet({self._items!r})"


def parse_set_header(value: str | None) -> HeaderSet:
    """The items of a comma-separated header as a :class:`HeaderSet`."""
    return HeaderSet(parse_list_header(value or ""))


class CacheControl(dict[str, str | None]):
    """A ``Cache-Control`` header's directives, with the common ones as attributes.

    Numbers are ``int`` (``None`` when absent or malformed); flags are ``bool``.

    Example:
        >>> cc = parse_cache_control_header("no-store, max-age=abc")
        >>> cc.no_store, cc.max_age, cc.to_header()
        (True, None, 'no-store, max-age=abc')
    """

    def _number(self, name: str) -> int | None:
        text = self.get(name)
        return int(text) if text is not None and text.isdigit() else None

    @property
    def max_age(self) -> int | None:
        return self._number("max-age")

    @property
    def s_maxage(self) -> int | None:
        return self._number("s-maxage")

    @property
    def no_cache(self) -> bool:
        return "no-cache" in self

    @property
    def no_store(self) -> bool:
        return "no-store" in self

    @property
    def public(self) -> bool:
        return "public" in self

    @property
    def private(self) -> bool:
        return "private" in self

    @property
    def must_revalidate(self) -> bool:
        return "must-revalidate" in self

    @property
    def immutable(self) -> bool:
        return "immutable" in self

    def to_header(self) -> str:
        return dump_header(self)


def parse_cache_control_header(value: str | None) -> CacheControl:
    """A ``Cache-Control`` header's directives (names lowercased)."""
    return CacheControl({k.lower(): v for k, v in parse_dict_header(value or "").items()})
