"""The incoming request: lazy, parsed on first access, cached.

:class:`Request` holds the one body reader (``body()``, ``stream()``, ``json()``,
``form()``, each within the app's limits). Flask's synchronous API is a subclass built on
it, :class:`kettle.flaskrequest.FlaskRequest`, which is what an app's handlers receive.
"""

from __future__ import annotations

import asyncio
import re
import types
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from kettle.cookies import parse_cookie_header
from kettle.datastructures import URL, Address, Headers, QueryParams, State, first_header

# ClientDisconnect is defined with every other exception; still importable from here.
from kettle.exceptions import ClientDisconnect as ClientDisconnect
from kettle.exceptions import HTTPException
from kettle.limits import Limits
from kettle.mediatypes import is_json, parse_options_header
from kettle.types import AppLike, Receive, Scope

if TYPE_CHECKING:
    from kettle.forms import FormData

_DEFAULT_LIMITS = Limits()
# A Host header is a hostname or IP literal with an optional port; anything else is ignored
# when building URLs, so a forged header cannot inject a path, userinfo or scheme.
_HOST_RE = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_NOT_JSON = "Expected a JSON body (Content-Type: application/json)"


class HTTPConnection:
    """What HTTP requests and WebSocket connections have in common: the scope's data."""

    # PERF: the lazily filled caches default at class level, so creating a connection
    # object sets two attributes instead of seven (every typed request makes one).
    _headers: Headers | None = None
    _query: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _url: URL | None = None
    _state: State | None = None

    def __init__(self, scope: Scope, limits: Limits | None = None) -> None:
        self.scope = scope
        self.limits = limits or _DEFAULT_LIMITS

    @property
    def app(self) -> AppLike:
        """The application serving this request."""
        return self.scope["app"]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        """The decoded request path, without the query string."""
        return self.scope["path"]  # type: ignore[no-any-return]

    @property
    def root_path(self) -> str:
        """The prefix the app is mounted under (from the server or a proxy)."""
        return self.scope.get("root_path", "")  # type: ignore[no-any-return]

    @property
    def path_params(self) -> dict[str, Any]:
        """Values captured from the path, after their converters ran."""
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def headers(self) -> Headers:
        """Request headers: case-insensitive, ``getlist`` for repeated ones."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """The query string, parsed; ``getlist`` for repeated keys."""
        if self._query is None:
            try:
                self._query = QueryParams(
                    self.scope.get("query_string", b""), max_fields=self.limits.max_query_params
                )
            except ValueError:
                raise HTTPException(400, "Too many query parameters") from None
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent by the client (first of duplicate names wins)."""
        if self._cookies is None:
            # HTTP/2 clients may split cookies over several header lines: read them all.
            lines = [v for k, v in self.scope["headers"] if k == b"cookie"]
            raw = lines[0] if len(lines) == 1 else b"; ".join(lines)
            self._cookies = (
                parse_cookie_header(raw.decode("latin-1"), self.limits.max_cookies) if raw else {}
            )
        return self._cookies

    @property
    def client(self) -> Address | None:
        """The peer's ``(host, port)``, or ``None`` when the server did not say."""
        client = self.scope.get("client")
        return Address(*client) if client else None

    @property
    def url(self) -> URL:
        """The full URL, built from the scheme, a validated ``Host``, the path and query."""
        if self._url is None:
            scope = self.scope
            query = scope.get("query_string", b"")
            url = f"{self.base_url_str()}{_quote_path(scope['path'][len(self.root_path) :])}"
            if query:
                url += "?" + query.decode("latin-1")
            self._url = URL(url)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the app's root (scheme, host and ``root_path``), ending in ``/``."""
        return URL(self.base_url_str() + "/")

    def base_url_str(self) -> str:
        scope = self.scope
        scheme = scope.get("scheme", "http")
        return f"{scheme}://{self.host}{_quote_path(self.root_path)}"

    @property
    def host(self) -> str:
        """``Host`` when well-formed, else the server's own address."""
        raw = first_header(self.scope["headers"], b"host")
        if raw is not None:
            host = raw.decode("latin-1")
            if _HOST_RE.fullmatch(host):
                return host
        server = self.scope.get("server")
        if server:
            host, port = server[0], server[1]
            if port is None or _DEFAULT_PORTS.get(self.scope.get("scheme", "http")) == port:
                return str(host)
            return f"{host}:{port}"
        return "localhost"

    @property
    def is_secure(self) -> bool:
        """True when the connection is HTTPS or WSS."""
        return self.scope.get("scheme") in ("https", "wss")

    @property
    def state(self) -> State:
        """Per-request attributes (seeded from the lifespan's state, when it yields one)."""
        if self._state is None:
            shared = self.scope.get("state")
            self._state = State(dict(shared) if shared else {})
        return self._state

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route ``name``."""
        return URL(self.base_url_str() + self.app.url_path_for(name, **path_params))


class Request(HTTPConnection):
    """An HTTP request. Handlers receive it by annotating a parameter with ``Request``.

    Everything is parsed on first access and cached; the body can be read once as a
    stream, or as a whole any number of times. What a handler receives is the app's
    request class, this one with Flask's synchronous API on top
    (:class:`~kettle.flaskrequest.FlaskRequest`): ``request.args``, ``request.form["x"]``...

    Example:
        >>> from kettle import Kettle, Request
        >>> app = Kettle(__name__)
        >>> @app.post("/echo")
        ... async def echo(request: Request) -> dict[str, object]:
        ...     return {"method": request.method, "json": await request.json()}
    """

    # Not `_body`: Starlette-style subclasses keep their own `_body` (a decompressed
    # body, say) and test for it with hasattr.
    _received_body: bytes | None = None
    _json: Any = None
    _has_json = False
    parsed_form: FormData | None = None
    _stream_consumed = False
    #: a subclass that overrides ``body()`` (to decompress, say) decodes what it reads:
    #: a ``Content-Encoding`` is then its business, not refused
    _decodes_body = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "body" in cls.__dict__:
            cls._decodes_body = True

    def __init__(self, scope: Scope, receive: Receive | None = None, limits: Limits | None = None):
        self.scope = scope
        self.limits = limits or _DEFAULT_LIMITS
        self._receive = receive or _no_body

    @property
    def method(self) -> str:
        """``GET``, ``POST``..."""
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def receive(self) -> Receive:
        return self._receive

    @property
    def content_type(self) -> tuple[str, dict[str, str]]:
        """The media type (lower-case) and its parameters."""
        raw = first_header(self.scope["headers"], b"content-type")
        if raw is None:
            return "", {}
        if raw == b"application/json":  # PERF: the common case needs no parsing
            return "application/json", {}
        return parse_options_header(raw.decode("latin-1"))

    def _start_body(self) -> int:
        """Claim the body for reading; return the size limit after checking Content-Length."""
        if self._stream_consumed:
            raise RuntimeError("The request body was already consumed as a stream")
        self._stream_consumed = True
        limit = self.limits.max_body_size
        declared = None
        # PERF: one pass finds both headers (a second first_header() scan costs ~0.1 us).
        for name, value in self.scope["headers"]:
            if name == b"content-length":
                if declared is None:
                    declared = value
            elif (
                name == b"content-encoding"
                and value.strip().lower() != b"identity"
                and not self._decodes_body
            ):
                # Decoding would let a 1 MB gzip bomb expand past every size limit; no
                # browser compresses request bodies, so refusing costs clients nothing.
                raise HTTPException(
                    415, "Compressed request bodies are not accepted (Content-Encoding)"
                )
        if declared is not None:
            if not declared.isdigit() or len(declared) > 18:
                raise HTTPException(400, "Invalid Content-Length header")
            if int(declared) > limit:
                raise HTTPException(413, f"Request body exceeds {limit} bytes")
        return limit

    async def _next_chunk(self) -> tuple[bytes, bool]:
        """The next body chunk and whether more follow, within the time limit."""
        timeout = self.limits.body_timeout
        if timeout is None:
            message = await self._receive()
        else:
            message = await _receive_within(self._receive, timeout)
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        return message.get("body", b""), message.get("more_body", False)

    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, enforcing the size and time limits.

        Raises:
            HTTPException: 413 past ``max_body_size``, 408 when a chunk takes longer than
                ``body_timeout``, 400 on a malformed ``Content-Length``.
            ClientDisconnect: the client went away mid-body.
        """
        if self._received_body is not None:
            yield self._received_body
            return
        limit = self._start_body()
        received = 0
        more = True
        while more:
            chunk, more = await self._next_chunk()
            if chunk:
                received += len(chunk)
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds {limit} bytes")
                yield chunk
        self.scope[BODY_READ] = True

    async def body(self) -> bytes:
        """The whole body as bytes (read once, then cached)."""
        if self._received_body is not None:
            return self._received_body
        # PERF: a direct loop, not ``stream()``: an async generator plus a comprehension
        # cost ~1 us per request, and most bodies arrive in a single message.
        limit = self._start_body()
        timeout = self.limits.body_timeout
        if timeout is None:
            message = await self._receive()
        else:
            message = await _receive_within(self._receive, timeout)
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if len(chunk) > limit:
            raise HTTPException(413, f"Request body exceeds {limit} bytes")
        if more:
            chunks = [chunk]
            received = len(chunk)
            while more:
                chunk, more = await self._next_chunk()
                received += len(chunk)
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds {limit} bytes")
                chunks.append(chunk)
            chunk = b"".join(chunks)
        self._received_body = chunk
        self.scope[BODY_READ] = True
        return chunk

    async def json(self, *, force: bool = False) -> Any:
        """The body parsed as JSON (read once, then cached).

        The request must declare a JSON content type (``application/json`` or
        ``application/*+json``) unless ``force=True``: a page on another origin can send
        ``text/plain`` without a CORS preflight, so accepting it would invite CSRF.

        Raises:
            HTTPException: 415 for another content type, 400 for malformed JSON.
        """
        if not self._has_json:
            self._expect_json(force)
            self._json = decode_json(await self.body())
            self._has_json = True
        return self._json

    def _expect_json(self, force: bool) -> None:
        """Refuse (415) a body that does not declare JSON, unless ``force``."""
        if not force and not is_json(self.content_type[0]):
            raise HTTPException(415, _NOT_JSON)

    async def form(self) -> FormData:
        """The body parsed as a form, within the limits (read once, then cached).

        Uploaded files are :class:`~kettle.forms.UploadFile` objects, spooled to disk
        past ``spool_max_size``; they are closed when the response has been sent.
        """
        if self.parsed_form is None:
            from kettle.forms import parse_form

            self.parsed_form = await parse_form(self)
        return self.parsed_form

    # The same methods under names no subclass takes over: Flask's API makes ``json`` and
    # ``form`` accessors, and calls these (as the extractors do).
    parse_json = json
    parse_form = form

    async def close(self) -> None:
        """Release resources held by the request (uploaded files)."""
        if self.parsed_form is not None:
            await self.parsed_form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone away, checked without waiting.

        Only meaningful once the body has been read: a body message arriving here is
        not buffered.
        """
        import anyio

        with anyio.CancelScope() as scope:
            scope.cancel()
            message = await self._receive()
            return message.get("type") == "http.disconnect"
        return False


def decode_json(body: bytes) -> Any:
    """``body`` decoded as JSON (the one decoder of request bodies), or a 400."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"Malformed JSON body: {exc}") from None


#: set in the scope once the app has read the whole request body: a response that then
#: listens for the client leaving (``StreamingResponse``) takes no body message from it
BODY_READ = "kettle.body_read"


def body_unread(scope: Scope) -> bool:
    """Whether the request has a body the app has not read to its end (a listener on
    ``receive`` would take its messages)."""
    if scope.get(BODY_READ):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _receive_within(receive: Receive, seconds: float) -> Any:
    """``await receive()``, failing with 408 if it waits longer than ``seconds``.

    PERF: the body of most requests has already arrived when the app asks for it, and then
    ``receive()`` completes without ever suspending. Driving the coroutine one step first
    finds that out for free; only a receive that really has to wait gets a timer (arming
    ``asyncio.timeout`` for every body cost 2-3 us per request).
    """
    awaitable = receive()
    if type(awaitable) is not types.CoroutineType:
        # Another server's own awaitable type (granian's): no stepping, just a timed await.
        return await _timed(awaitable, seconds)
    coro = awaitable.__await__()
    try:
        pending = coro.send(None)
    except StopIteration as done:
        return done.value
    return await _timed(_Resume(coro, pending), seconds)


def _timed_out() -> HTTPException:
    # Connection: close (RFC 9110 15.5.9): the rest of the body may still come, and a
    # client reusing the connection would have its next request read as that body.
    return HTTPException(408, "Request body timed out", {"Connection": "close"})


async def _timed(awaitable: Any, seconds: float) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - another event loop (trio)
        import anyio

        try:
            with anyio.fail_after(seconds):
                return await awaitable
        except TimeoutError:
            raise _timed_out() from None
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise _timed_out() from None


class _Resume:
    """Await the rest of a coroutine that was already driven to its first suspension."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Any, pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Any:
        coro, pending = self.coro, self.pending
        while True:
            try:
                value = yield pending
            except BaseException as exc:  # cancellation (the timeout) goes into the coroutine
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = coro.send(value)
                except StopIteration as done:
                    return done.value


def _quote_path(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")
