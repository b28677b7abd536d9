"""Security headers on every HTTP response, and the header helpers the middleware share."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from kettle.exceptions import ConfigurationError
from kettle.types import ASGIApp, Message, RawHeaders, Receive, Scope, Send

#: The ``Referrer-Policy`` values browsers know (an unknown one is ignored by them).
REFERRER_POLICIES: Final = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
FRAME_OPTIONS: Final = frozenset({"DENY", "SAMEORIGIN"})
OPENER_POLICIES: Final = frozenset({"same-origin", "same-origin-allow-popups", "unsafe-none"})
#: The preload list asks for a year at least (https://hstspreload.org).
PRELOAD_MIN_AGE: Final = 31536000
_DIRECTIVE_RE = re.compile(r"[a-z][a-z0-9-]*")
# A CSP source list may hold anything printable but the characters that end a directive
# or the header.
_CSP_VALUE_RE = re.compile(r"[\x21-\x2b\x2d-\x3a\x3c-\x7e ]*")


def merge_vary(headers: RawHeaders, field: bytes) -> None:
    """Add ``field`` to the ``Vary`` field of ``headers`` (raw ASGI headers, changed in
    place), unless it or ``*`` is already listed; several ``Vary`` lines count as one.

    Example:
        >>> headers = [(b"vary", b"Cookie")]
        >>> merge_vary(headers, b"Origin")
        >>> headers
        [(b'vary', b'Cookie, Origin')]
    """
    lowered = field.lower()
    last = -1
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            listed = [part.strip().lower() for part in value.split(b",")]
            if lowered in listed or b"*" in listed:
                return
            last = index
    if last < 0:
        headers.append((b"vary", field))
    else:
        name, value = headers[last]
        headers[last] = (name, value + b", " + field if value.strip() else field)


def header_names(headers: RawHeaders) -> set[bytes]:
    """The lower-cased names in ``headers``."""
    return {name.lower() for name, _ in headers}


def _csp_text(policy: str | Mapping[str, str | Sequence[str]]) -> str:
    if isinstance(policy, str):
        text = policy.strip()
        if not text or not _CSP_VALUE_RE.fullmatch(text.replace(";", " ").replace(",", " ")):
            raise ConfigurationError("content_security_policy must be printable ASCII, one line")
        return text
    parts = []
    for directive, sources in policy.items():
        if not _DIRECTIVE_RE.fullmatch(directive):
            raise ConfigurationError(f"invalid CSP directive name {directive!r}")
        values = [sources] if isinstance(sources, str) else list(sources)
        for value in values:
            if not _CSP_VALUE_RE.fullmatch(value):
                raise ConfigurationError(
                    f"invalid value {value!r} for CSP directive {directive!r}: no ';', ',' "
                    "or control characters"
                )
        parts.append(" ".join([directive, *values]).strip())
    if not parts:
        raise ConfigurationError("content_security_policy has no directives")
    return "; ".join(parts)


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response that does not set them itself.

    The defaults: ``Strict-Transport-Security: max-age=31536000`` (on HTTPS responses
    only, since browsers ignore it over HTTP), ``X-Content-Type-Options: nosniff``,
    ``Referrer-Policy: strict-origin-when-cross-origin``, ``X-Frame-Options: DENY`` and
    ``Cross-Origin-Opener-Policy: same-origin``. ``content_security_policy`` (a string,
    or a dict of directive to sources) is off unless given. Pass ``None`` to leave a
    header out. A header the handler set is never replaced, so one route can relax it.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import SecurityHeadersMiddleware
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> app.add_middleware(
        ...     SecurityHeadersMiddleware, content_security_policy={"default-src": "'self'"}
        ... )
        >>> @app.get("/")
        ... async def index() -> str:
        ...     return "hi"
        >>> headers = TestClient(app).get("/").headers
        >>> headers["x-frame-options"], headers["content-security-policy"]
        ('DENY', "default-src 'self'")
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool = True,
        hsts_max_age: int = 31536000,
        hsts_include_subdomains: bool = False,
        hsts_preload: bool = False,
        content_type_options: bool = True,
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        frame_options: str | None = "DENY",
        content_security_policy: str | Mapping[str, str | Sequence[str]] | None = None,
        content_security_policy_report_only: bool = False,
        cross_origin_opener_policy: str | None = "same-origin",
    ) -> None:
        self.app = app
        headers: RawHeaders = []
        if content_type_options:
            headers.append((b"x-content-type-options", b"nosniff"))
        if referrer_policy is not None:
            if referrer_policy not in REFERRER_POLICIES:
                raise ConfigurationError(
                    f"unknown referrer_policy {referrer_policy!r}: one of "
                    f"{', '.join(sorted(REFERRER_POLICIES))}"
                )
            headers.append((b"referrer-policy", referrer_policy.encode()))
        if frame_options is not None:
            if frame_options.upper() not in FRAME_OPTIONS:
                raise ConfigurationError(
                    f"frame_options must be 'DENY', 'SAMEORIGIN' or None, not {frame_options!r} "
                    "(use content_security_policy's frame-ancestors for a list of sites)"
                )
            headers.append((b"x-frame-options", frame_options.upper().encode()))
        if cross_origin_opener_policy is not None:
            if cross_origin_opener_policy not in OPENER_POLICIES:
                raise ConfigurationError(
                    f"unknown cross_origin_opener_policy {cross_origin_opener_policy!r}"
                )
            headers.append((b"cross-origin-opener-policy", cross_origin_opener_policy.encode()))
        if content_security_policy is not None:
            name = b"content-security-policy"
            if content_security_policy_report_only:
                name += b"-report-only"
            headers.append((name, _csp_text(content_security_policy).encode()))
        self.headers = headers
        self.hsts: tuple[bytes, bytes] | None = None
        if hsts:
            if isinstance(hsts_max_age, bool) or not isinstance(hsts_max_age, int):
                raise ConfigurationError("hsts_max_age must be a number of seconds")
            if hsts_max_age < 0:
                raise ConfigurationError("hsts_max_age must not be negative")
            if hsts_preload and (not hsts_include_subdomains or hsts_max_age < PRELOAD_MIN_AGE):
                raise ConfigurationError(
                    "hsts_preload needs hsts_include_subdomains=True and hsts_max_age of "
                    f"at least {PRELOAD_MIN_AGE} (a year): the preload list refuses less"
                )
            value = f"max-age={hsts_max_age}"
            if hsts_include_subdomains:
                value += "; includeSubDomains"
            if hsts_preload:
                value += "; preload"
            self.hsts = (b"strict-transport-security", value.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers
        if self.hsts is not None and scope.get("scheme") == "https":
            extra = [*extra, self.hsts]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = header_names(headers)
                headers.extend(item for item in extra if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
