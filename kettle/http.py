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

import base64
import binascii
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Self

__all__ = [
    "Accept",
    "Authorization",
    "CacheControl",
    "HeaderSet",
    "MIMEAccept",
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


class Authorization:
    """An ``Authorization`` header (Werkzeug's): ``type`` (lowercase), and ``username`` and
    ``password`` for Basic, ``token`` for Bearer and other token schemes, ``parameters``
    for schemes with ``key=value`` pairs (Digest).

    Example:
        >>> auth = Authorization.from_header("Basic YWRhOnMzY3JldDpwYXJ0")
        >>> auth.type, auth.username, auth.password
        ('basic', 'ada', 's3cret:part')
        >>> Authorization.from_header("Bearer abc.def").token
        'abc.def'
        >>> Authorization.from_header("Basic !!not base64!!") is None
        True
    """

    def __init__(
        self, auth_type: str, data: Mapping[str, str | None] | None = None, token: str | None = None
    ) -> None:
        self.type = auth_type.lower()
        self.parameters: dict[str, str | None] = dict(data or {})
        self.token = token

    @property
    def username(self) -> str | None:
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        return self.parameters.get("password")

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """The parsed header, or ``None`` when it is missing or malformed."""
        if not value:
            return None
        scheme, _, rest = value.strip().partition(" ")
        rest = rest.strip()
        if not scheme or not _TOKEN.match(scheme):
            return None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, colon, password = decoded.partition(":")
            if not colon:
                return None
            return cls("basic", {"username": user, "password": password})
        if "," in rest or "=" in rest.rstrip("="):  # key=value pairs; a token68 ends in "="s
            return cls(scheme, parse_dict_header(rest))
        return cls(scheme, None, rest or None)

    def __repr__(self) -> str:
        return f"<Authorization {self.type}>"


class Accept(list[tuple[str, float]]):
    """An ``Accept-*`` header (Werkzeug's): ``(value, quality)`` pairs, best first.

    Example:
        >>> accept = Accept.from_header("en-GB, en;q=0.8, fr;q=0.5")
        >>> accept.best, accept["fr"], "de" in accept
        ('en-GB', 0.5, False)
        >>> accept.best_match(["fr", "en"])
        'en'
    """

    @classmethod
    def from_header(cls, value: str | None) -> Self:
        """Parsed (malformed qualities count as 0, so they are never chosen)."""
        entries: list[tuple[str, float]] = []
        for item in (value or "").split(","):
            name, params = parse_options_header(item)
            if not name:
                continue
            try:
                quality = float(params.get("q", "1"))
            except ValueError:
                quality = 0.0
            # "nan" would sort anywhere and "inf" beat everything: neither is a quality
            quality = min(max(quality, 0.0), 1.0) if math.isfinite(quality) else 0.0
            entries.append((name, quality))
        # best first, and the client's order among equals (sorted is stable)
        return cls(sorted(entries, key=lambda entry: -entry[1]))

    def _matches(self, offered: str, accepted: str) -> bool:
        return accepted == "*" or offered.lower() == accepted.lower()

    def quality(self, key: str) -> float:
        """How much the client wants ``key`` (0 when not at all)."""
        return max((q for name, q in self if self._matches(key, name)), default=0.0)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.quality(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.quality(key) > 0

    @property
    def best(self) -> str | None:
        """The value the client wants most."""
        return self[0][0] if self else None

    def best_match(self, offers: Iterable[str], default: str | None = None) -> str | None:
        """Of the server's ``offers``, the one the client wants most (the first on a tie)."""
        best, best_quality = default, 0.0
        for offer in offers:
            quality = self.quality(offer)
            if quality > best_quality:
                best, best_quality = offer, quality
        return best


class MIMEAccept(Accept):
    """An ``Accept`` header: media types with ``type/*`` and ``*/*`` ranges.

    Example:
        >>> accept = MIMEAccept.from_header("text/html, application/*;q=0.9, */*;q=0.1")
        >>> accept.accept_html, accept.accept_json, accept["image/png"]
        (True, True, 0.1)
        >>> accept.best_match(["application/json", "text/html"])
        'text/html'
    """

    def _matches(self, offered: str, accepted: str) -> bool:
        kind, _, sub = offered.lower().partition("/")
        want_kind, _, want_sub = accepted.lower().partition("/")
        if accepted == "*" or (want_kind == "*" and want_sub in ("*", "")):
            return True
        return want_kind == kind and want_sub in ("*", sub)

    @property
    def accept_html(self) -> bool:
        return self.quality("text/html") > 0 or self.quality("application/xhtml+xml") > 0

    @property
    def accept_json(self) -> bool:
        return self.quality("application/json") > 0
