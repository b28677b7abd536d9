"""Reading the ``Cookie`` header and writing ``Set-Cookie`` values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

# RFC 6265 cookie-name is an RFC 7230 token.
_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# cookie-octet minus nothing: values outside this set are percent-quoted on write.
_SAFE_VALUE_RE = re.compile(r"[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]*")
# Only ASCII whitespace is stripped: stripping Unicode spaces would let
# "\u2000__Host-id" shadow a real "__Host-id" cookie.
_ASCII_WS = " \t"

SameSite = Literal["lax", "strict", "none"]


def parse_cookie_header(header: str, max_cookies: int = 100) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently: one bad pair never drops the others.

    Nameless pairs are ignored, the first of duplicate names wins (browsers send the most
    specific cookie first), and at most ``max_cookies`` are kept.

    Example:
        >>> parse_cookie_header('a=1; b="two"; =orphan; a=shadow')
        {'a': '1', 'b': 'two'}
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name = name.strip(_ASCII_WS)
        if not name or _NAME_RE.fullmatch(name) is None:
            continue
        value = value.strip(_ASCII_WS)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name not in cookies:
            if len(cookies) >= max_cookies:
                break
            cookies[name] = value
    return cookies


def render_set_cookie(
    key: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    """Build one ``Set-Cookie`` header value, refusing names that are not tokens."""
    if _NAME_RE.fullmatch(key) is None:
        raise ValueError(f"invalid cookie name: {key!r}")
    if _SAFE_VALUE_RE.fullmatch(value) is None:
        value = quote(value, safe="")
    parts = [f"{key}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        if isinstance(expires, int):
            expires = datetime.fromtimestamp(expires, UTC)
        from email.utils import format_datetime  # rarely needed: keep it off startup

        parts.append(f"Expires={format_datetime(expires.astimezone(UTC), usegmt=True)}")
    if domain:
        parts.append(f"Domain={_attr(domain)}")
    if path:
        parts.append(f"Path={_attr(path)}")
    if secure or samesite == "none" or partitioned or key.startswith(("__Secure-", "__Host-")):
        # Browsers drop SameSite=None, partitioned and prefixed cookies without Secure.
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        if samesite.lower() not in ("lax", "strict", "none"):
            raise ValueError("samesite must be 'lax', 'strict' or 'none'")
        parts.append(f"SameSite={samesite.capitalize()}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


def _attr(text: str) -> str:
    if any(c in text for c in ";\r\n\0"):
        raise ValueError(f"invalid cookie attribute: {text!r}")
    return text
