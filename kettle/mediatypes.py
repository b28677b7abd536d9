"""Parsing ``Content-Type``-style header values."""

from __future__ import annotations

_TOKEN_END = frozenset(';="')


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; key=value; key="quoted \\"value\\""`` into its parts.

    The media type is lower-cased and stripped; parameter names are lower-cased;
    quoted-string values are unquoted with backslash escapes honoured, so an escaped
    quote cannot end a value early and smuggle in another parameter.

    Example:
        >>> parse_options_header(' Multipart/Form-Data ; boundary="a\\\\"b"; charset=UTF-8')
        ('multipart/form-data', {'boundary': 'a"b', 'charset': 'UTF-8'})
    """
    if not value:
        return "", {}
    mime, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        # parameter name
        while i < n and rest[i] in " \t;":
            i += 1
        start = i
        while i < n and rest[i] not in _TOKEN_END:
            i += 1
        name = rest[start:i].strip().lower()
        if i >= n or rest[i] != "=":
            # a bare word or a stray quote: skip to the next separator
            while i < n and rest[i] != ";":
                i += 1
            continue
        i += 1
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(rest[i])
                i += 1
            i += 1  # closing quote (or end of input)
            val = "".join(chars)
            while i < n and rest[i] != ";":
                i += 1
        else:
            start = i
            while i < n and rest[i] != ";":
                i += 1
            val = rest[start:i].strip()
        if name and name not in params:
            params[name] = val
    return mime.strip().lower(), params


def is_json(mime: str) -> bool:
    """``application/json`` or a structured ``+json`` type such as ``application/problem+json``."""
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )
