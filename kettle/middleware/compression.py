"""Response compression: gzip, brotli and zstd, chosen by the request's ``Accept-Encoding``.

The codecs are imported when a middleware that uses them is built, never by ``import
kettle``: brotli and zstandard are compiled extensions a gzip-only app does not need.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

from kettle.exceptions import ConfigurationError
from kettle.middleware.headers import merge_vary
from kettle.types import ASGIApp, Message, RawHeaders, Receive, Scope, Send

#: Encodings in kettle's order of preference, used when q-values tie.
ENCODINGS: Final = ("br", "zstd", "gzip")
#: Media types compressed badly or not at all; an event stream must reach the browser
#: event by event, never held in a compressor's window.
EXCLUDED_MEDIA_TYPES: Final = (
    "text/event-stream",
    "application/gzip",
    "application/zip",
    "application/zstd",
    "application/x-gzip",
    "image/",
    "audio/",
    "video/",
    "font/woff",
)
#: Past these an ``Accept-Encoding`` is not worth reading: the answer is identity.
MAX_ACCEPT_ENCODING: Final = 1024
MAX_CODINGS: Final = 32
_QVALUE_RE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NO_BODY_STATUS: Final = frozenset({204, 205, 206, 304})


class Compressor(Protocol):
    """One response's compressor: ``compress`` a chunk, ``flush`` what is pending,
    ``finish`` the stream."""

    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _Zlib:
    __slots__ = ("obj",)

    def __init__(self, level: int) -> None:
        self.obj = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip wrapper

    def compress(self, data: bytes) -> bytes:
        return self.obj.compress(data)

    def flush(self) -> bytes:
        return self.obj.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self.obj.flush(zlib.Z_FINISH)


class _Brotli:
    __slots__ = ("obj",)

    def __init__(self, quality: int) -> None:
        import brotli  # type: ignore[import-untyped]

        self.obj = brotli.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return bytes(self.obj.process(data))

    def flush(self) -> bytes:
        return bytes(self.obj.flush())

    def finish(self) -> bytes:
        return bytes(self.obj.finish())


class _Zstd:
    __slots__ = ("obj", "zstd")

    def __init__(self, level: int) -> None:
        import zstandard

        self.zstd: Any = zstandard
        self.obj: Any = zstandard.ZstdCompressor(level=level).compressobj()

    def compress(self, data: bytes) -> bytes:
        return bytes(self.obj.compress(data))

    def flush(self) -> bytes:
        return bytes(self.obj.flush(self.zstd.COMPRESSOBJ_FLUSH_BLOCK))

    def finish(self) -> bytes:
        return bytes(self.obj.flush(self.zstd.COMPRESSOBJ_FLUSH_FINISH))


def parse_accept_encoding(value: str) -> tuple[dict[str, float], bool]:
    """The q-value of each coding ``value`` names, and whether it names one with garbage.

    Codings are lower-cased; a coding with a malformed q-value is left out (RFC 9110 gives
    it no meaning), and so is everything when the header is absurdly long.

    Example:
        >>> parse_accept_encoding("gzip;q=0.5, br, zstd;q=nonsense")
        ({'gzip': 0.5, 'br': 1.0}, True)
    """
    if len(value) > MAX_ACCEPT_ENCODING or value.count(",") >= MAX_CODINGS:
        return {}, True
    found: dict[str, float] = {}
    malformed = False
    for item in value.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        ok = _TOKEN_RE.fullmatch(coding) is not None
        for param in params.split(";") if params else ():
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                raw = raw.strip()
                if _QVALUE_RE.fullmatch(raw):
                    q = float(raw)
                else:
                    ok = False
        if ok:
            found[coding] = min(q, found.get(coding, q)) if coding in found else q
        else:
            malformed = True
    return found, malformed


class CompressionMiddleware:
    """Compress responses with the best coding the client accepts: brotli, zstd or gzip.

    The coding is chosen by ``Accept-Encoding`` q-values (ties go to the order of
    ``encodings``); ``q=0`` refuses a coding, and ``identity;q=0`` (or ``*;q=0``) makes
    even a small body compressed. Bodies under ``minimum_size`` bytes, responses that
    already have a ``Content-Encoding``, ``Cache-Control: no-transform``, excluded media
    types (``text/event-stream``, images, archives...), ``206`` responses and requests
    with a ``Range`` are sent as they are. Streamed bodies are compressed chunk by chunk
    and flushed after each one. ``Vary: Accept-Encoding`` is added, ``Content-Length``
    is corrected (or removed for a stream) and a strong ``ETag`` becomes weak.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import CompressionMiddleware
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> app.add_middleware(CompressionMiddleware, minimum_size=100)
        >>> @app.get("/")
        ... async def index() -> str:
        ...     return "kettle " * 100
        >>> response = TestClient(app).get("/", headers={"Accept-Encoding": "gzip, br"})
        >>> response.headers["content-encoding"], response.text.count("kettle")
        ('br', 100)
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        *,
        encodings: Sequence[str] = ENCODINGS,
        gzip_level: int = 6,
        brotli_quality: int = 4,
        zstd_level: int = 3,
        excluded_media_types: Sequence[str] = EXCLUDED_MEDIA_TYPES,
    ) -> None:
        if isinstance(minimum_size, bool) or not isinstance(minimum_size, int) or minimum_size < 0:
            raise ConfigurationError("minimum_size must be a number of bytes >= 0")
        if isinstance(encodings, str) or not encodings:
            raise ConfigurationError("encodings must be a non-empty list such as ['br', 'gzip']")
        unknown = [name for name in encodings if name not in ENCODINGS]
        if unknown:
            raise ConfigurationError(f"unknown encodings {unknown}: kettle knows {list(ENCODINGS)}")
        if not 0 <= gzip_level <= 9:
            raise ConfigurationError("gzip_level (compresslevel) must be between 0 and 9")
        if not 0 <= brotli_quality <= 11:
            raise ConfigurationError("brotli_quality must be between 0 and 11")
        if not 1 <= zstd_level <= 22:
            raise ConfigurationError("zstd_level must be between 1 and 22")
        factories: dict[str, Callable[[], Compressor]] = {}
        for name in encodings:
            if name == "gzip":
                factories[name] = lambda: _Zlib(gzip_level)
            elif name == "br":
                factories[name] = lambda: _Brotli(brotli_quality)
            else:
                factories[name] = lambda: _Zstd(zstd_level)
            factories[name]()  # fails now, at startup, if the codec is not installed
        self.app = app
        self.minimum_size = minimum_size
        self.encodings = tuple(encodings)
        self.factories = factories
        self.excluded = tuple(t.lower() for t in excluded_media_types)
        self._choices: dict[bytes, tuple[str | None, bool]] = {}

    def choose(self, accept_encoding: str) -> tuple[str | None, bool]:
        """The coding to use for ``accept_encoding`` (or ``None``), and whether the client
        accepts an uncompressed body.

        Example:
            >>> mw = CompressionMiddleware(None)  # type: ignore[arg-type]
            >>> mw.choose("gzip;q=1, br;q=0.5"), mw.choose("br;q=0, identity;q=0, *;q=0")
            (('gzip', True), (None, False))
        """
        accepted, _ = parse_accept_encoding(accept_encoding)
        star = accepted.get("*")
        best: str | None = None
        best_q = 0.0
        for name in self.encodings:
            q = accepted.get(name, star if star is not None else 0.0)
            if q > best_q:
                best, best_q = name, q
        identity = accepted.get("identity", star if star is not None else 1.0)
        return best, identity > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = b""
        ranged = False
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept = accept + b"," + value if accept else value
            elif name == b"range":
                ranged = True
        # PERF: most clients send one of a handful of Accept-Encoding values; the choice
        # is remembered for the first 64 seen instead of parsed again.
        choice = self._choices.get(accept)
        if choice is None:
            choice = self.choose(accept.decode("latin-1"))
            if len(self._choices) < 64 and len(accept) <= 256:
                self._choices[accept] = choice
        coding, identity_ok = choice
        if ranged:
            coding = None
        responder = _Responder(self, scope, send, coding, identity_ok)
        await self.app(scope, receive, responder.send)


class _Responder:
    """What one response's compression knows between its ASGI messages."""

    __slots__ = ("coding", "compressor", "head", "identity_ok", "is_head", "mw", "sender")

    def __init__(
        self,
        mw: CompressionMiddleware,
        scope: Scope,
        send: Send,
        coding: str | None,
        identity_ok: bool,
    ) -> None:
        self.mw = mw
        self.sender = send
        self.coding = coding
        self.identity_ok = identity_ok
        self.is_head = scope.get("method") == "HEAD"
        self.head: Message | None = None
        self.compressor: Compressor | None = None

    def _eligible(self, headers: RawHeaders, status: int) -> bool:
        if status < 200 or status in _NO_BODY_STATUS:
            return False
        for name, value in headers:
            name = name.lower()
            if name in (b"content-encoding", b"content-range"):
                return False
            if name == b"cache-control" and b"no-transform" in value.lower():
                return False
            if name == b"content-type":
                media = value.decode("latin-1").split(";", 1)[0].strip().lower()
                if media.startswith(self.mw.excluded):
                    return False
        return True

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = list(message.get("headers", ()))
            if not self._eligible(headers, message["status"]):
                if message["status"] == 304:
                    # A 304 carries the Vary its 200 would have (RFC 9110 15.4.5).
                    merge_vary(headers, b"Accept-Encoding")
                    message = {**message, "headers": headers}
                await self.sender(message)
                self.coding = None
                self.head = None
                return
            merge_vary(headers, b"Accept-Encoding")
            self.head = {**message, "headers": headers}
            if self.coding is None:
                await self._start()
            elif self.is_head:
                length = _content_length(headers)
                if length is None or length >= self.mw.minimum_size or not self.identity_ok:
                    self._announce(headers, None)
                await self._start()
            return
        if kind != "http.response.body" or (self.head is None and self.compressor is None):
            await self.sender(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.head is not None:
            assert self.coding is not None
            headers = self.head["headers"]
            small = len(body) < self.mw.minimum_size and self.identity_ok
            if self.is_head or (not more and small):
                await self._start()
                await self.sender(message)
                return
            self.compressor = self.mw.factories[self.coding]()
            if more:
                self._announce(headers, None)
            else:
                body = self.compressor.compress(body) + self.compressor.finish()
                self._announce(headers, len(body))
                await self._start()
                await self.sender({"type": "http.response.body", "body": body})
                return
            await self._start()
        compressor = self.compressor
        assert compressor is not None
        if more:
            data = compressor.compress(body) + compressor.flush() if body else b""
        else:
            data = compressor.compress(body) + compressor.finish()
        if data or not more:
            await self.sender({"type": "http.response.body", "body": data, "more_body": more})

    def _announce(self, headers: RawHeaders, length: int | None) -> None:
        """Rewrite the head for a body encoded with ``self.coding`` of ``length`` bytes."""
        assert self.coding is not None
        kept: RawHeaders = []
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"content-length":
                continue
            if lowered == b"etag" and value.startswith(b'"'):
                # The compressed body is another byte sequence: the validator can only
                # promise the same meaning now.
                value = b"W/" + value
            kept.append((name, value))
        kept.append((b"content-encoding", self.coding.encode()))
        if length is not None:
            kept.append((b"content-length", str(length).encode()))
        headers[:] = kept

    async def _start(self) -> None:
        head = self.head
        assert head is not None
        self.head = None
        await self.sender(head)


def _content_length(headers: RawHeaders) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class GZipMiddleware(CompressionMiddleware):
    """Compress responses with gzip, with Starlette's parameters.

    The same rules as :class:`CompressionMiddleware` (q-values, minimum size, streams,
    exclusions), gzip only. ``compresslevel`` defaults to 9 as in Starlette.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import GZipMiddleware
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
        >>> @app.get("/")
        ... async def index() -> str:
        ...     return "x" * 2000
        >>> TestClient(app).get("/").headers["content-encoding"]
        'gzip'
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        super().__init__(app, minimum_size, encodings=("gzip",), gzip_level=compresslevel)
