"""Small containers for request and response data: headers, query strings, URLs, state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar, overload
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from kettle.types import RawHeaders

_T = TypeVar("_T")
_D = TypeVar("_D")
_R = TypeVar("_R")


class Address(NamedTuple):
    """A peer address, as the server reported it."""

    host: str
    port: int


class MultiDict(Mapping[str, _T]):
    """An immutable mapping where a key may have several values.

    Item access returns the *first* value (the one a browser or ``curl`` sent first);
    :meth:`getlist` returns all of them in order.

    Example:
        >>> d = MultiDict([("tag", "a"), ("tag", "b")])
        >>> d["tag"], d.getlist("tag")
        ('a', ['a', 'b'])
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, items: Iterable[tuple[str, _T]] | Mapping[str, _T] = ()) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._list: list[tuple[str, _T]] = pairs
        first: dict[str, _T] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        self._dict = first

    def __getitem__(self, key: str) -> _T:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    @overload
    def get(self, key: str, /) -> _T | None: ...
    @overload
    def get(self, key: str, /, default: _D) -> _T | _D: ...
    @overload
    def get(self, key: str, /, default: _D, type: Callable[[_T], _R]) -> _R | _D: ...
    @overload
    def get(self, key: str, /, *, type: Callable[[_T], _R]) -> _R | None: ...
    def get(self, key: str, /, default: Any = None, type: Callable[[_T], Any] | None = None) -> Any:
        """The first value of ``key``, else ``default``; with ``type``, the value converted
        by it, and ``default`` when that raises ``ValueError`` or ``TypeError``
        (Werkzeug's ``request.args.get("page", 1, type=int)``).

        Example:
            >>> q = MultiDict([("page", "3"), ("size", "big")])
            >>> q.get("page", 1, type=int), q.get("size", 20, type=int), q.get("x", 1, type=int)
            (3, 20, 1)
        """
        try:
            value = self._dict[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[_T], Any] | None = None) -> list[Any]:
        """Every value sent for ``key``, in order (an empty list when absent); with
        ``type``, those it converts (the others are left out, as Werkzeug does)."""
        values = [v for k, v in self._list if k == key]
        if type is None:
            return values
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (ValueError, TypeError):
                continue
        return converted

    def multi_items(self) -> list[tuple[str, _T]]:
        """All ``(key, value)`` pairs, repeated keys included, in order."""
        return list(self._list)

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        """A plain ``dict``: each key's first value, or (``flat=False``) all its values
        in a list (Werkzeug's).

        Example:
            >>> d = MultiDict([("tag", "a"), ("tag", "b"), ("q", "x")])
            >>> d.to_dict(), d.to_dict(flat=False)
            ({'tag': 'a', 'q': 'x'}, {'tag': ['a', 'b'], 'q': ['x']})
        """
        if flat:
            return dict(self._dict)
        return {key: self.getlist(key) for key in self._dict}

    def lists(self) -> list[tuple[str, list[_T]]]:
        """``(key, [values])`` for each key, in first-seen order (Werkzeug's)."""
        return [(key, self.getlist(key)) for key in self._dict]

    def copy(self) -> MultiDict[_T]:
        """A copy with the same pairs."""
        return MultiDict(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return sorted(self._list) == sorted(other._list)
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - mappings are unhashable
        raise TypeError("unhashable type")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"


class QueryParams(MultiDict[str]):
    """The parsed query string of a request.

    Example:
        >>> q = QueryParams("a=1&a=2&b=")
        >>> q["a"], q.getlist("a"), q["b"]
        ('1', ['1', '2'], '')
    """

    __slots__ = ()

    def __init__(
        self,
        query: str | bytes | Iterable[tuple[str, str]] | Mapping[str, str] = "",
        *,
        max_fields: int | None = None,
    ) -> None:
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        if isinstance(query, str):
            if "%" in query or "+" in query:
                # parse_qsl raises ValueError past max_num_fields; callers make it a 400.
                pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=max_fields)
            else:
                # PERF: nothing to unquote, so split in C with parse_qsl's rules (blank
                # values kept, empty fields skipped): a quarter of parse_qsl's time for
                # "page=2&q=tea" (7.7 -> 2.0 us on a loaded machine).
                if max_fields is not None and query.count("&") >= max_fields:
                    raise ValueError("Max number of fields exceeded")
                pairs = [
                    (key, value)
                    for key, _, value in (field.partition("=") for field in query.split("&"))
                    if key or _
                ]
            first: dict[str, str] = {}
            for key, value in pairs:
                first.setdefault(key, value)
            self._list = pairs
            self._dict = first
        else:
            super().__init__(query)

    def __str__(self) -> str:
        return urlencode(self._list)


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only HTTP headers.

    Built from the raw ``(name, value)`` byte pairs of an ASGI scope; decoding happens
    once, on first access.

    Example:
        >>> h = Headers(raw=[(b"accept", b"text/html"), (b"x-tag", b"a"), (b"x-tag", b"b")])
        >>> h["Accept"], h.getlist("X-Tag")
        ('text/html', ['a', 'b'])
    """

    __slots__ = ("_dict", "_raw")

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: RawHeaders | None = None,
    ) -> None:
        if raw is None:
            raw = [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in (headers or {}).items()
            ]
        self._raw = raw
        self._dict: dict[str, str] | None = None

    @property
    def raw(self) -> RawHeaders:
        """The underlying ``(name, value)`` byte pairs."""
        return self._raw

    def _first(self) -> dict[str, str]:
        d = self._dict
        if d is None:
            d = {}
            for k, v in self._raw:
                key = k.decode("latin-1").lower()
                if key not in d:
                    d[key] = v.decode("latin-1")
            self._dict = d
        return d

    def __getitem__(self, key: str) -> str:
        return self._first()[key.lower()]

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        """The first value of ``key`` (any case), else ``default``; with ``type``, converted
        by it, ``default`` when that fails (Werkzeug's ``headers.get("X-Count", type=int)``)."""
        value = self._first().get(key.lower(), default)
        if type is None or value is default:
            return value
        try:
            return type(value)
        except (ValueError, TypeError):
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._first()

    def __iter__(self) -> Iterator[str]:
        return iter(self._first())

    def __len__(self) -> int:
        return len(self._first())

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in the order received."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k.lower() == name]

    #: Werkzeug's name for :meth:`getlist` (``headers.get_all("Vary")``)
    get_all = getlist

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """All headers as ``(name, value)`` pairs, repeats included."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._raw) == sorted(other._raw)
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - mappings are unhashable
        raise TypeError("unhashable type")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.items()!r})"


class MutableHeaders(Headers):
    """Response headers that can be changed; edits write through to the raw list.

    Example:
        >>> h = MutableHeaders()
        >>> h["X-Frame-Options"] = "DENY"
        >>> h.append("Set-Cookie", "a=1")
        >>> h.raw
        [(b'x-frame-options', b'DENY'), (b'set-cookie', b'a=1')]
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name = _encode_header(key.lower())
        raw_value = _encode_header(value)
        found = False
        kept: RawHeaders = []
        for k, v in self._raw:
            if k == name:
                if not found:
                    kept.append((name, raw_value))
                    found = True
            else:
                kept.append((k, v))
        if not found:
            kept.append((name, raw_value))
        self._raw[:] = kept
        self._dict = None

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        self._raw[:] = [(k, v) for k, v in self._raw if k != name]
        self._dict = None

    def append(self, key: str, value: str) -> None:
        """Add a header without replacing existing ones (``Set-Cookie``, ``Vary``...)."""
        self._raw.append((_encode_header(key.lower()), _encode_header(value)))
        self._dict = None

    def add(self, key: str, value: str) -> None:
        """Werkzeug's name for :meth:`append`: one more header line."""
        self.append(key, value)

    def set(self, key: str, value: str) -> None:
        """Werkzeug's name for ``headers[key] = value``: replaces every line of ``key``."""
        self[key] = value

    def extend(self, other: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Add every ``(key, value)`` of ``other`` as more lines (Werkzeug's)."""
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in pairs:
            self.append(key, value)

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` unless present; return its value."""
        if key in self:
            return self[key]
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str]) -> None:
        """Set each header of ``other``, replacing existing values."""
        for k, v in other.items():
            self[k] = v

    def add_vary(self, field: str) -> None:
        """Add ``field`` to the ``Vary`` header unless already listed."""
        current = self.get("vary")
        if current is None:
            self.append("vary", field)
            return
        fields = [f.strip().lower() for f in current.split(",")]
        if field.lower() not in fields and "*" not in fields:
            self["vary"] = f"{current}, {field}"


class HeaderSet:
    """The comma-separated values of one header (``Vary``, ``Allow``) as a set whose
    changes write the header back; names compare case-insensitively.

    Example:
        >>> headers = MutableHeaders()
        >>> vary = HeaderSet(headers, "vary")
        >>> vary.add("Cookie")
        >>> vary.update(["Accept", "cookie"])
        >>> headers["vary"], "COOKIE" in vary
        ('Cookie, Accept', True)
    """

    __slots__ = ("_headers", "_name")

    def __init__(self, headers: Any, name: str) -> None:
        # any headers with getlist(): kettle's, or a test response's (read-only then)
        self._headers = headers
        self._name = name

    def _items(self) -> list[str]:
        joined = ",".join(self._headers.getlist(self._name))
        return [item.strip() for item in joined.split(",") if item.strip()]

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item.lower() in {i.lower() for i in self._items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __eq__(self, other: object) -> bool:
        return (
            self._items() == list(other) if isinstance(other, list | HeaderSet) else NotImplemented
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HeaderSet({self._items()!r})"

    def _write(self, items: list[str]) -> None:
        headers = self._headers
        if not isinstance(headers, MutableHeaders):
            raise TypeError(f"the {self._name} header of a request cannot change")
        if items:
            headers[self._name] = ", ".join(items)
        elif self._name in headers:
            del headers[self._name]

    def add(self, item: str) -> None:
        """Add ``item`` unless listed already."""
        self.update([item])

    def update(self, items: Iterable[str]) -> None:
        """Add each of ``items`` not listed already."""
        current = self._items()
        for item in items:
            if item.lower() not in {i.lower() for i in current}:
                current.append(item)
        self._write(current)

    def discard(self, item: str) -> None:
        """Remove ``item`` if listed."""
        self._write([i for i in self._items() if i.lower() != item.lower()])

    def to_header(self) -> str:
        return ", ".join(self._items())


def _encode_header(text: str) -> bytes:
    # A CR or LF inside a header would let a value smuggle in headers of its own.
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"invalid character in header: {text!r}")
    return text.encode("latin-1")


class URL(str):
    """A URL: the string itself (Flask's ``request.url`` is one), with parsed accessors
    (Starlette's ``request.url.path``).

    Example:
        >>> url = URL("https://example.com:8443/a/b?x=1#top")
        >>> url.scheme, url.hostname, url.port, url.path, url.query
        ('https', 'example.com', 8443, '/a/b', 'x=1')
        >>> str(url.replace(path="/c", query=""))
        'https://example.com:8443/c#top'
        >>> url == "https://example.com:8443/a/b?x=1#top"
        True
    """

    _parts: SplitResult | None = None

    @property
    def _url(self) -> str:
        return str.__str__(self)

    @property
    def components(self) -> SplitResult:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, *args: Any, **kwargs: Any) -> URL:
        """A copy with some of ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``
        changed; with positional arguments, ``str.replace`` (``url.replace("http:",
        "https:", 1)``, as Flask code does on ``request.url``)."""
        if args:
            return URL(str.replace(self, *args, **kwargs))
        return URL(self.components._replace(**kwargs).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """A copy with these query parameters set (replacing existing ones of the same name)."""
        q = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in params]
        q.extend((k, str(v)) for k, v in params.items())
        return self.replace(query=urlencode(q))

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"


class State:
    """An attribute bag: ``app.state.db = ...``, ``request.state.user = ...``.

    Example:
        >>> s = State()
        >>> s.counter = 1
        >>> s.counter
        1
    """

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", values if values is not None else {})

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {key!r}"
            ) from None

    def __delattr__(self, key: str) -> None:
        try:
            del self._state[key]
        except KeyError:
            raise AttributeError(key) from None

    def __contains__(self, key: str) -> bool:
        return key in self._state

    def __repr__(self) -> str:
        return f"State({self._state!r})"


@overload
def first_header(raw: RawHeaders, name: bytes) -> bytes | None: ...
@overload
def first_header(raw: RawHeaders, name: bytes, default: bytes) -> bytes: ...
def first_header(raw: RawHeaders, name: bytes, default: bytes | None = None) -> bytes | None:
    """The first raw value of header ``name`` (lower-case bytes), without building a mapping."""
    for k, v in raw:
        if k == name:
            return v
    return default
