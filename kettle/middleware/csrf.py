"""CSRF protection for cookie-authenticated requests: signed tokens plus origin checks.

A request is a CSRF target when it changes state (any method but ``GET``, ``HEAD``,
``OPTIONS``, ``TRACE``) *and* carries a ``Cookie`` header: only then can a page on another
site ride on credentials the browser adds by itself. Requests without cookies (bearer-token
or API-key clients) are passed through untouched.

For a target, :class:`CSRFMiddleware` checks, in this order (the first failure is a 403
:class:`CSRFError` whose detail names the reason, never the expected token):

1. ``Sec-Fetch-Site``: ``cross-site`` and ``same-site`` are refused unless ``Origin`` is
   one of ``trusted_origins``;
2. ``Origin`` (else ``Referer``): when present, it must be the request's own origin or a
   trusted one; ``Origin: null`` is always refused;
3. the token, from the ``X-CSRF-Token`` header or else the ``csrf_token`` form field: it
   must be signed with the app's ``SECRET_KEY`` (or a fallback), younger than
   ``max_age``, and carry the random secret stored in *this* session.

A token is made by :func:`csrf_token` (a template global too) and is valid for the session
it was made in; each call gives a new string (it is time-stamped), all of them valid.

A WebSocket handshake carrying cookies gets the first two checks (it cannot carry a
token): a page on another site cannot open a socket on the user's session.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup, escape

from kettle.exceptions import ConfigurationError, Forbidden
from kettle.limits import MiB
from kettle.mediatypes import parse_options_header
from kettle.requests import HTTPConnection
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSRFError", "CSRFMiddleware", "csrf_input", "csrf_token"]

#: Where the per-session secret that tokens carry is kept in the session.
SESSION_KEY = "_csrf_secret"
_SALT = "kettle.csrf"
# A token we issue is ~110 characters; anything far longer is refused unread.
_MAX_TOKEN = 512
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The bodies a page can post to another site without a CORS preflight (HTML forms, and
# fetch with these types), besides no body at all.
_SIMPLE_BODIES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)


def _form_like(headers: dict[bytes, bytes]) -> bool:
    raw = headers.get(b"content-type")
    if raw is None:
        return True
    media, _ = parse_options_header(raw.decode("latin-1"))
    return media in _SIMPLE_BODIES


_DEFAULT_PORTS = {"http": "80", "https": "443"}
_ORIGIN_RE = re.compile(r"(https?)://([a-z0-9.\-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?")

MISSING = "CSRF token missing."
INVALID = "CSRF token invalid."
EXPIRED = "CSRF token expired."
WRONG_SESSION = "CSRF token does not belong to this session."
NO_SECRET = "CSRF token does not belong to this session (it has no CSRF secret)."
CROSS_SITE = "Cross-site request refused (Sec-Fetch-Site: {})."
ORIGIN = "Origin not allowed."
REFERER = "Referer not allowed."


class CSRFError(Forbidden):
    """The 403 for a refused CSRF check; ``detail`` says which check failed.

    Register a handler for it to render your own page:

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware.csrf import CSRFError
        >>> app = Kettle(__name__)
        >>> @app.errorhandler(CSRFError)
        ... async def csrf_failed(error: CSRFError) -> tuple[str, int]:
        ...     return f"Please reload the form ({error.detail})", 403
    """


# -- tokens --------------------------------------------------------------------------------

_serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}


def _serializer(app: Any) -> URLSafeTimedSerializer:
    config = app.config
    secret = config.get("SECRET_KEY")
    if not secret:
        raise ConfigurationError(
            "CSRF tokens are signed with the app's SECRET_KEY: set app.config['SECRET_KEY']"
        )
    # Signs with the last key, verifies newest first (the same rotation as sessions).
    keys = (*reversed(list(config.get("SECRET_KEY_FALLBACKS") or ())), secret)
    serializer = _serializers.get(keys)
    if serializer is None:
        if len(_serializers) > 16:  # keys rotated many times in one process (tests)
            _serializers.clear()
        serializer = _serializers[keys] = URLSafeTimedSerializer(list(keys), salt=_SALT)
    return serializer


def generate_csrf(app: Any, session: Any) -> str:
    """A signed token for ``session``, storing a new random secret in it when it has none.

    Example:
        >>> class App:
        ...     config = {"SECRET_KEY": "dev only"}
        >>> session = {}
        >>> token = generate_csrf(App(), session)
        >>> verify_csrf(App(), session, token, max_age=60) is None
        True
    """
    serializer = _serializer(app)  # first: no SECRET_KEY is a ConfigurationError
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(32)
        session[SESSION_KEY] = secret
    return serializer.dumps(secret)


def verify_csrf(app: Any, session: Any, token: str | None, max_age: int | None) -> None:
    """Check ``token`` against ``session``.

    Raises:
        CSRFError: missing, malformed or forged, expired, or made for another session.
    """
    if not token:
        raise CSRFError(MISSING)
    if len(token) > _MAX_TOKEN:
        raise CSRFError(INVALID)
    try:
        carried = _serializer(app).loads(token, max_age=max_age)
    except SignatureExpired:
        raise CSRFError(EXPIRED) from None
    except (BadData, ValueError, TypeError):
        raise CSRFError(INVALID) from None
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str):
        raise CSRFError(NO_SECRET)
    if not isinstance(carried, str) or not hmac.compare_digest(carried, expected):
        raise CSRFError(WRONG_SESSION)


def csrf_token() -> str:
    """The CSRF token for the current request's session (also a Jinja global).

    Works with or without :class:`CSRFMiddleware` (which is what checks it). Needs a
    ``SECRET_KEY``; the session is marked as read, so the page gets ``Vary: Cookie``.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware.csrf import csrf_token
        >>> app = Kettle(__name__)
        >>> app.config["SECRET_KEY"] = "dev only"
        >>> @app.get("/token")
        ... async def token() -> dict[str, str]:
        ...     return {"csrf_token": csrf_token()}
        >>> len(app.test_client().get("/token").json()["csrf_token"]) > 40
        True
    """
    from kettle.globals import current_app, session

    return generate_csrf(current_app, session)


def csrf_input() -> Markup:
    """A hidden ``<input name="csrf_token">`` for a form (also a Jinja global).

    Put it first in the form: the middleware reads a body only as far as the token.
    """
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(csrf_token()))


# -- reading the token from a form without consuming it --------------------------------------


class _UrlencodedScanner:
    def __init__(self, field: str) -> None:
        self.field = field
        self.rest = b""

    def feed(self, chunk: bytes, final: bool) -> str | None:
        fields = (self.rest + chunk).split(b"&")
        self.rest = b"" if final else fields.pop()
        for item in fields:
            name, _, value = item.partition(b"=")
            if unquote_plus(name.decode("latin-1")) == self.field:
                return unquote_plus(value.decode("latin-1"))
        return None


class _MultipartScanner:
    def __init__(self, field: str, boundary: bytes) -> None:
        self.field = field
        self.delimiter = b"--" + boundary
        self.data = bytearray()
        self.pos = -1  # where the next part's headers start, once the first delimiter is seen

    def feed(self, chunk: bytes, final: bool) -> str | None:
        self.data += chunk
        data = self.data
        if self.pos < 0:
            first = data.find(self.delimiter)
            if first < 0:
                return None
            line_end = data.find(b"\r\n", first)
            if line_end < 0:
                return None
            self.pos = line_end + 2
        end_marker = b"\r\n" + self.delimiter
        while True:
            head_end = data.find(b"\r\n\r\n", self.pos)
            if head_end < 0:
                return None
            body_end = data.find(end_marker, head_end + 4)
            if body_end < 0:
                return None
            head = bytes(data[self.pos : head_end])
            body = bytes(data[head_end + 4 : body_end])
            next_line = data.find(b"\r\n", body_end + len(end_marker))
            if self._is_token_part(head):
                return body.decode("utf-8", "replace")
            if next_line < 0:
                return None
            self.pos = next_line + 2

    def _is_token_part(self, head: bytes) -> bool:
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-disposition":
                _, params = parse_options_header(value.decode("latin-1"))
                return params.get("name") == self.field and "filename" not in params
        return False


# -- the middleware --------------------------------------------------------------------------


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, lower-case, default port dropped; else None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or str(port) == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class CSRFMiddleware:
    """Refuse cross-site state-changing requests that ride on the browser's cookies.

    Args:
        app: the ASGI app to protect (a kettle app: tokens live in its session and are
            signed with its ``SECRET_KEY``).
        trusted_origins: other origins allowed to post here, as ``https://host[:port]``.
        exempt: paths not checked: exact paths, prefixes ending in ``*``
            (``"/hooks/*"``), or compiled regexes (matched with ``fullmatch``).
        max_age: seconds a token stays valid (``None``: as long as the session).
        field_name: the form field carrying the token.
        header_name: the header carrying the token (for ``fetch()`` and HTMX).
        max_scan_size: bytes of a form body read to find the token field (403 past it).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware.csrf import CSRFMiddleware
        >>> app = Kettle(__name__)
        >>> app.config["SECRET_KEY"] = "dev only"
        >>> app.add_middleware(CSRFMiddleware, exempt=["/webhooks/*"])
        >>> @app.post("/comment")
        ... async def comment() -> dict[str, bool]:
        ...     return {"saved": True}
        >>> client = app.test_client()
        >>> client.cookies.set("theme", "dark")
        >>> response = client.post("/comment", data={"text": "hi"})
        >>> response.status_code, response.json()["detail"]
        (403, 'CSRF token missing.')
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_origins: Iterable[str] = (),
        exempt: Iterable[str | re.Pattern[str]] = (),
        max_age: int | None = 3600,
        field_name: str = "csrf_token",
        header_name: str = "X-CSRF-Token",
        max_scan_size: int = 1 * MiB,
    ) -> None:
        if isinstance(trusted_origins, str) or isinstance(exempt, str):
            raise ConfigurationError("trusted_origins and exempt take lists, not a string")
        origins = set()
        for origin in trusted_origins:
            normal = _origin_of(origin)
            bare = isinstance(origin, str) and urlsplit(origin)[2:] == ("", "", "")
            if normal is None or not bare or "@" in origin or not _ORIGIN_RE.fullmatch(normal):
                raise ConfigurationError(
                    f"trusted origin {origin!r} is not scheme://host[:port] (no path)"
                )
            origins.add(normal)
        self.trusted_origins = frozenset(origins)
        exact, prefixes, patterns = set(), [], []
        for entry in exempt:
            if isinstance(entry, re.Pattern):
                patterns.append(entry)
            elif isinstance(entry, str) and entry.startswith("/"):
                if entry.endswith("*"):
                    prefixes.append(entry[:-1])
                else:
                    exact.add(entry)
            else:
                raise ConfigurationError(
                    f"exempt entry {entry!r}: use a path starting with '/', '/prefix*' or re"
                )
        self.exempt_paths = frozenset(exact)
        self.exempt_prefixes = tuple(prefixes)
        self.exempt_patterns = tuple(patterns)
        if max_age is not None and max_age <= 0:
            raise ConfigurationError("max_age must be positive seconds, or None")
        if max_scan_size < 1:
            raise ConfigurationError("max_scan_size must be a positive number of bytes")
        if not field_name or not header_name.strip():
            raise ConfigurationError("field_name and header_name must not be empty")
        self.app = app
        self.max_age = max_age
        self.field_name = field_name
        self.header_name = header_name.strip().lower().encode("latin-1")
        self.max_scan_size = max_scan_size

    def _exempt(self, path: str) -> bool:
        return (
            path in self.exempt_paths
            or path.startswith(self.exempt_prefixes)
            or any(p.fullmatch(path) for p in self.exempt_patterns)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] in _SAFE_METHODS:
            if scope["type"] == "lifespan":
                # A missing SECRET_KEY fails at startup rather than on the first form post.
                app = scope.get("app")
                if app is not None and hasattr(app, "config"):
                    _serializer(app)
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)
        if self._exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        if b"cookie" not in headers:
            # No session to ride on, but a form another site's page can send without asking
            # (no credentials header, a form or text body) may still log the victim in as
            # the attacker (login CSRF): its origin is checked. Anything else a page
            # elsewhere sends passes CORS first.
            if b"authorization" not in headers and _form_like(headers):
                self._check_origin(scope, headers)
            await self.app(scope, receive, send)
            return
        self._check_origin(scope, headers)
        token_header = headers.get(self.header_name)
        if token_header is not None:
            token: str | None = token_header.decode("latin-1").strip()
        else:
            token, receive = await self._token_from_form(headers, receive)
        app = scope.get("app")
        if app is None or not hasattr(app, "session_interface"):
            raise ConfigurationError("CSRFMiddleware protects a kettle app (it reads its session)")
        session = await open_session(app, scope)
        verify_csrf(app, session, token, self.max_age)
        await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A browser opens a WebSocket from any page, with the cookies (cross-site WebSocket
        # hijacking), and the handshake cannot carry a token: the origin checks decide.
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)
        if b"cookie" in headers and not self._exempt(scope["path"]):
            try:
                self._check_origin(scope, headers)
            except CSRFError as exc:
                await send({"type": "websocket.close", "code": 1008, "reason": exc.detail})
                return
        await self.app(scope, receive, send)

    def _check_origin(self, scope: Scope, headers: dict[bytes, bytes]) -> None:
        origin_header = headers.get(b"origin")
        origin = None
        if origin_header is not None:
            raw = origin_header.decode("latin-1").strip()
            origin = _origin_of(raw) if raw.lower() != "null" else None
            if origin is None:
                raise CSRFError(ORIGIN)
        site = headers.get(b"sec-fetch-site", b"").strip().lower()
        if site in (b"cross-site", b"same-site") and origin not in self.trusted_origins:
            raise CSRFError(CROSS_SITE.format(site.decode()))
        scheme = {"ws": "http", "wss": "https"}.get(
            scope.get("scheme", "http"), scope.get("scheme")
        )
        own = _origin_of(f"{scheme}://{headers.get(b'host', b'').decode('latin-1')}")
        if origin is not None:
            if origin != own and origin not in self.trusted_origins:
                raise CSRFError(ORIGIN)
            return
        referer = headers.get(b"referer")
        if referer is not None:
            source = _origin_of(referer.decode("latin-1"))
            if source is None or (source != own and source not in self.trusted_origins):
                raise CSRFError(REFERER)

    async def _token_from_form(
        self, headers: dict[bytes, bytes], receive: Receive
    ) -> tuple[str | None, Receive]:
        media, params = parse_options_header(headers.get(b"content-type", b"").decode("latin-1"))
        scanner: _UrlencodedScanner | _MultipartScanner
        if media == "application/x-www-form-urlencoded":
            scanner = _UrlencodedScanner(self.field_name)
        elif media == "multipart/form-data" and params.get("boundary"):
            boundary = params["boundary"].encode("latin-1", "replace")
            scanner = _MultipartScanner(self.field_name, boundary)
        else:
            return None, receive
        buffered: list[bytes] = []
        size = 0
        more = True
        cut = False
        token = None
        last: Message | None = None
        while more and not cut:
            message = await receive()
            if message["type"] != "http.request":
                last = message  # a disconnect: handed on to the app as it came
                break
            chunk: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            buffered.append(chunk)
            # Only the first max_scan_size bytes are searched, however they arrive.
            piece = chunk[: self.max_scan_size - size]
            size += len(chunk)
            cut = len(piece) < len(chunk)
            token = scanner.feed(piece, final=not more and not cut)
            if token is not None:
                break
        if token is None and (more or cut) and last is None:
            raise CSRFError(
                f"{MISSING[:-1]}: no {self.field_name} field in the first "
                f"{self.max_scan_size} bytes of the form (put it before file fields)."
            )
        return token, _replay(b"".join(buffered), more, last, receive)


def _replay(body: bytes, more: bool, last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` giving back what the scan read, then the rest of the stream."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if last is not None:
        pending = [last] if not body else [{**pending[0], "more_body": True}, last]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def open_session(app: Any, scope: Scope) -> Any:
    """The request's session as the app's session interface opens it (read only here)."""
    interface = app.session_interface
    connection = HTTPConnection(scope)
    if getattr(interface, "is_async", False):
        opened = await interface.open_session_async(app, connection)
    else:
        opened = interface.open_session(app, connection)
    return opened if opened is not None else {}
