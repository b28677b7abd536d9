"""Response classes, and the rules that turn a handler's return value into one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import kettle.exceptions as _exceptions
from kettle.concurrency import ThreadPool
from kettle.connectionerrors import ClientDisconnect
from kettle.cookies import SameSite, render_set_cookie
from kettle.datastructures import MutableHeaders
from kettle.exceptions import HTTPException

# Defined with the JSON rules; still importable from here (the same functions).
from kettle.jsonencode import dumps as dumps
from kettle.jsonencode import dumps_as_fastapi as dumps_as_fastapi
from kettle.jsonencode import fastapi_json_default as fastapi_json_default
from kettle.jsonencode import json_default as json_default
from kettle.requests import body_unread
from kettle.responsenames import ResponseNames
from kettle.types import RawHeaders, Receive, Scope, Send

Background = Callable[[], Awaitable[None]]

# Statuses that must not carry a body (RFC 9110 6.4.1).
_NO_BODY = frozenset({204, 304})
_POOL = ThreadPool()


def _content_type_header(media_type: str | None, charset: str) -> tuple[bytes, bytes] | None:
    """The ``Content-Type`` header a class with this media type and charset sends."""
    if media_type is None:
        return None
    value = media_type
    if media_type.startswith("text/") and "charset=" not in media_type:
        value = f"{media_type}; charset={charset}"
    return (b"content-type", value.encode("latin-1"))


#: ``(b"content-length", b"<n>")`` for the bodies shorter than ``SHORT_BODY`` bytes, made once
#: and shared (a tuple is immutable). PERF: indexing this instead of formatting the length
#: (~45 ns) and building the pair costs ~10 ns; most API answers are this short.
SHORT_BODY = 1024
LENGTH_HEADERS = tuple((b"content-length", b"%d" % n) for n in range(SHORT_BODY))


def content_length_header(length: int) -> tuple[bytes, bytes]:
    """The ``Content-Length`` header for a body of ``length`` bytes (the hot paths inline
    the same expression).

    Example:
        >>> content_length_header(13)
        (b'content-length', b'13')
    """
    return LENGTH_HEADERS[length] if length < SHORT_BODY else (b"content-length", b"%d" % length)


class Response(ResponseNames):
    """A complete HTTP response with a bytes body.

    Example:
        >>> from kettle import Response
        >>> r = Response("pong", media_type="text/plain", headers={"X-Pong": "1"})
        >>> r.status_code, r.body, r.headers["content-type"]
        (200, b'pong', 'text/plain; charset=utf-8')
    """

    media_type: str | None = None
    charset: str = "utf-8"
    #: the body is produced while it is sent (by the app's own code, after the headers)
    streams: bool = False
    # PERF: defaults at class level, for what sending a response does not read (an
    # instance reading a class attribute costs about three times an attribute of its own
    # on Python 3.11, so `background` and `_auto_secure`, read by every send, are set in
    # __init__).
    #: the ``headers`` view, made on first use
    _headers: MutableHeaders | None = None
    #: the class renders its content with :meth:`Response.render` (not an override)
    _renders_as_base: bool = True
    #: the ``Content-Type`` header of the class's ``media_type`` and ``charset``, made
    #: when the class is created (PERF: ~60 ns less than building it per response). Set
    #: them in a subclass: assigning them on an existing class later is not seen.
    _content_type: tuple[bytes, bytes] | None = None

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background | None = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        #: ``Set-Cookie`` values given ``Secure`` when the request came over HTTPS
        self._auto_secure: list[bytes] | None = None
        # PERF: text through the base class's own render() is encoded here, without the
        # method call (~30 ns of a PlainTextResponse).
        if type(content) is str and self._renders_as_base:
            body = self.body = content.encode(self.charset)
        else:
            body = self.body = self.render(content)
        if headers is None and media_type is None and 200 <= status_code != 204:
            # PERF: the common response (no extra headers) skips the general header merge;
            # this halves the cost of constructing a PlainTextResponse.
            content_type = self._content_type
            if content_type is not None:
                length = len(body)
                self.raw_headers: RawHeaders = [
                    LENGTH_HEADERS[length]
                    if length < SHORT_BODY
                    else (b"content-length", b"%d" % length),
                    content_type,
                ]
                return
        if media_type is not None:
            self.media_type = media_type
        self.raw_headers = self._initial_headers(headers)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes; subclasses override this."""
        if type(content) is str:
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        return str(content).encode(self.charset)

    def _initial_headers(self, headers: Mapping[str, str] | None) -> RawHeaders:
        raw: RawHeaders = []
        has_length = has_type = False
        if headers:
            for key, value in headers.items():
                name = key.lower()
                has_length = has_length or name == "content-length"
                has_type = has_type or name == "content-type"
                raw.append((_header_bytes(name), _header_bytes(value)))
        if not has_length and self.status_code not in _NO_BODY and self.status_code >= 200:
            raw.append(content_length_header(len(self.body)))
        media_type = self.media_type
        if media_type is not None and not has_type:
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type = f"{media_type}; charset={self.charset}"
            raw.append((b"content-type", media_type.encode("latin-1")))
        return raw

    @classmethod
    def blank(cls) -> Response:
        """An empty response whose headers, cookies and status (0: unset) a handler may set.

        This is what a handler parameter typed ``Response`` receives; kettle copies what
        was set onto the response it sends.
        """
        response = cls.__new__(cls)
        response.status_code = 0
        response.background = None
        response.body = b""
        response.raw_headers = []
        response._headers = None
        response._auto_secure = None
        return response

    def merge_from(self, other: Response) -> None:
        """Take the status (if set), headers and cookies set on a ``blank()`` response."""
        if other.status_code:
            self.status_code = other.status_code
        if other.raw_headers:
            self.raw_headers.extend(other.raw_headers)
            self._headers = None
        if other._auto_secure:
            self._auto_secure = [*(self._auto_secure or ()), *other._auto_secure]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._content_type = _content_type_header(cls.media_type, cls.charset)
        cls._renders_as_base = cls.render is Response.render

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; changes write through to what is sent."""
        if self._headers is None:
            self._headers = MutableHeaders(raw=self.raw_headers)
        return self._headers

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header, with safe defaults.

        Cookies are ``HttpOnly`` and ``SameSite=Lax`` unless told otherwise, and
        ``secure=None`` (the default) adds ``Secure`` whenever the request came over HTTPS.
        """
        value_str = render_set_cookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=bool(secure),
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        encoded = value_str.encode("latin-1")
        self.raw_headers.append((b"set-cookie", encoded))
        self._headers = None
        if secure is None and "; Secure" not in value_str:
            if self._auto_secure is None:
                self._auto_secure = []
            self._auto_secure.append(encoded)

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Expire cookie ``key`` on the client (path and domain must match how it was set)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def _finalize_headers(self, scope: Scope) -> RawHeaders:
        raw = self.raw_headers
        if self._auto_secure is not None and scope.get("scheme") in ("https", "wss"):
            auto = self._auto_secure
            raw = [
                (k, v + b"; Secure") if k == b"set-cookie" and v in auto else (k, v) for k, v in raw
            ]
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = self.status_code
        headers = self.raw_headers if self._auto_secure is None else self._finalize_headers(scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = self.body
        if body and (scope.get("method") == "HEAD" or status in _NO_BODY):
            body = b""
        await send({"type": "http.response.body", "body": body})
        if self.background is not None:
            await self.background()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class HTMLResponse(Response):
    """An HTML page (``text/html; charset=utf-8``)."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """Plain text (``text/plain; charset=utf-8``)."""

    media_type = "text/plain"


class JSONResponse(Response):
    """JSON encoded with orjson: datetimes, UUIDs, dataclasses, enums and models encode.

    Example:
        >>> from kettle import JSONResponse
        >>> JSONResponse({"ok": True}, status_code=201).body
        b'{"ok":true}'
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class RedirectResponse(Response):
    """Redirect to ``url`` (307 by default: the method and body are kept).

    Example:
        >>> from kettle import RedirectResponse
        >>> RedirectResponse("/login", status_code=303).headers["location"]
        '/login'
    """

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: Background | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, background=background)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")


class StreamingResponse(Response):
    """A body produced piece by piece from an (async) iterable of ``str`` or ``bytes``.

    A plain iterator runs in the thread pool, so blocking reads do not stall the loop.

    Example:
        >>> from kettle import StreamingResponse
        >>> async def numbers():
        ...     for i in range(3):
        ...         yield f"{i}\\n"
        >>> response = StreamingResponse(numbers(), media_type="text/plain")
    """

    streams = True

    def __init__(
        self,
        content: AsyncIterable[str | bytes] | Iterable[str | bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background | None = None,
    ) -> None:
        self.content = content
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        self._headers = None
        self._auto_secure = None
        self.raw_headers = []
        self._streaming_headers(headers)

    def _streaming_headers(self, headers: Mapping[str, str] | None) -> None:
        if headers:
            for key, value in headers.items():
                self.raw_headers.append((_header_bytes(key.lower()), _header_bytes(value)))
        if self.media_type is not None and "content-type" not in self.headers:
            media_type = self.media_type
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type = f"{media_type}; charset={self.charset}"
            self.headers["content-type"] = media_type

    def get_data(self, as_text: bool = False) -> Any:
        """The whole body, for tests: a plain iterable is consumed now (and sent as read);
        an async one can only be read through the test client."""
        content = self.content
        if isinstance(content, AsyncIterable):
            raise RuntimeError(
                "the body of this response is an async iterable: read it through the "
                "test client, which awaits it"
            )
        charset = self.charset
        body = b"".join(c if isinstance(c, bytes) else c.encode(charset) for c in content)
        self.content = [body]  # consumed: what is sent later is what was read here
        return body.decode(charset, "replace") if as_text else body

    async def _chunks(self) -> AsyncIterable[str | bytes]:
        content = self.content
        if isinstance(content, AsyncIterable):
            async for chunk in content:
                yield chunk
        else:
            async for chunk in _POOL.iterate(content):
                yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the body as it is produced; stop, closing the source, when the client
        goes away (``ClientDisconnect`` then reaches teardown and ``yield`` dependencies
        as the request's failure). A request body the app has not read is left to it:
        listening for the client would take its messages."""
        if body_unread(scope):
            await self.send_body(scope, send)
        else:
            await until_disconnect(self.send_body(scope, send), receive)
        if self.background is not None:
            await self.background()

    async def send_body(self, scope: Scope, send: Send) -> None:
        """The response start and every chunk, then the end of the body."""
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self._finalize_headers(scope),
            }
        )
        if scope.get("method") != "HEAD":
            charset = self.charset
            chunks = self._chunks()
            try:
                async for chunk in chunks:
                    data = chunk if isinstance(chunk, bytes) else chunk.encode(charset)
                    await send({"type": "http.response.body", "body": data, "more_body": True})
            except BaseException:
                # Cut short (the client left, an error): the source is closed now, not
                # whenever it is collected (its own finally blocks run in this request).
                # A source that ran to its end has nothing left to close.
                await _close_source(chunks, self.content)
                raise
        await send({"type": "http.response.body", "body": b""})


async def until_disconnect(
    sending: Awaitable[None], receive: Receive, *, quiet: bool = False
) -> None:
    """Await ``sending``, cancelled if the client disconnects first: then
    ``ClientDisconnect``, or (``quiet``: a stream whose normal end that is) nothing."""
    streaming = asyncio.ensure_future(sending)
    watching = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        done, _ = await asyncio.wait({streaming, watching}, return_when=asyncio.FIRST_COMPLETED)
        if streaming not in done and (watching.exception() is not None or not watching.result()):
            await streaming  # the receive cannot tell a disconnect: just send
    finally:
        for task in (streaming, watching):
            if not task.done():
                task.cancel()
        await asyncio.gather(streaming, watching, return_exceptions=True)
    if streaming.cancelled():
        if quiet:
            return
        raise ClientDisconnect()
    error = streaming.exception()
    if error is not None:
        raise error


async def wait_for_disconnect(receive: Receive) -> bool:
    """Wait for ``http.disconnect`` (True). False when ``receive`` repeats the end of the
    body instead of waiting, as a hand-made one may: it has nothing more to tell, and
    asking again would spin."""
    ended = False
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            return True
        if kind == "http.request" and not message.get("more_body", False):
            if ended:
                return False
            ended = True


async def _close_source(chunks: Any, content: Any) -> None:
    await chunks.aclose()
    close = getattr(content, "aclose", None)
    if close is not None:
        await close()
    elif callable(getattr(content, "close", None)):
        # ValueError: a sync generator still running its next() in the pool
        with contextlib.suppress(ValueError):
            await _POOL.run(content.close)


def _header_bytes(text: str) -> bytes:
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"invalid character in header: {text!r}")
    return text.encode("latin-1")


def to_response(value: Any, status_code: int = 200) -> Response:
    """Turn a handler's return value into a :class:`Response`.

    * a ``Response`` passes through;
    * ``dict``/``list`` (and anything orjson encodes) → JSON;
    * ``str`` and ``bytes`` → HTML, as in Flask;
    * ``(body, status)``, ``(body, headers)`` and ``(body, status, headers)`` tuples (a
      status may be a line such as ``"418 I'm a teapot"``, headers a list of pairs);
    * an ``HTTPException`` returned rather than raised: its error answer (``{"detail"}``).

    Example:
        >>> to_response(("created", 201, {"X-Id": "7"})).status_code
        201
    """
    if isinstance(value, Response):
        return value
    headers: Any = None
    if type(value) is tuple:
        value_tuple = value
        status_given = True
        status: Any = status_code
        if len(value) == 3:
            value, status, headers = value
        elif len(value) == 2:
            value, extra = value
            if isinstance(extra, int | str):
                status = extra
            else:
                headers, status_given = extra, False
        else:
            raise TypeError(
                "A returned tuple must be (body, status), (body, headers) "
                "or (body, status, headers)"
            )
        # Flask takes a status line as well as a number ("418 I'm a teapot").
        status_code = _status_number(status) if isinstance(status, str) else status
        if headers is not None and not isinstance(headers, Mapping):
            # A list of pairs may repeat a name (two Set-Cookie lines): each is kept.
            response = to_response((value, status_code) if status_given else value)
            _add_header_pairs(response, headers)
            return response
        if isinstance(value, Response):
            if len(value_tuple) == 3 or status_given:
                value.status_code = status_code  # a status given next to the response
            if headers:
                value.headers.update(headers)
            return value
    if isinstance(value, str):
        return HTMLResponse(value, status_code, headers)
    if isinstance(value, bytes | bytearray | memoryview):
        # Flask sends returned bytes as HTML too; binary APIs return a Response with a type.
        return HTMLResponse(value, status_code, headers)
    if getattr(type(value), "streams_as_html", False):  # stream_template(): sent as rendered
        return StreamingResponse(value, status_code, headers, media_type="text/html")
    if isinstance(value, HTTPException):  # returned, not raised: Werkzeug's are responses
        return value.get_response()  # type: ignore[no-any-return]
    if status_code in _NO_BODY:
        return Response(None, status_code, headers)
    return JSONResponse(value, status_code, headers)


def _status_number(status: str) -> int:
    """``"418 I'm a teapot"`` or ``"418"`` (a status Flask code returns) as 418."""
    code = status.strip().split(" ", 1)[0]
    if not (code.isdigit() and len(code) == 3):
        raise ValueError(f"a returned status must start with a three-digit code: {status!r}")
    return int(code)


def _add_header_pairs(response: Response, pairs: Iterable[tuple[str, str]]) -> None:
    """Werkzeug's ``headers.update(list)``: each name given replaces what the response
    had, and every value given for it is kept."""
    pairs = list(pairs)
    for name in {name.lower() for name, _ in pairs}:
        if name in response.headers:
            del response.headers[name]
    for name, value in pairs:
        response.headers.append(name, value)


def _error_response(error: HTTPException) -> Response:
    return JSONResponse({"detail": error.detail}, error.status_code, error.headers)


# HTTPException.get_response() answers with this (kettle.exceptions may not import us).
_exceptions.error_response = _error_response
