"""Sending files from disk: downloads, conditional requests and byte ranges.

What a request gets (only when the response's status is 200; any other status sends the
whole file as is):

* ``If-Match`` / ``If-Unmodified-Since`` that fail → 412, no body;
* ``If-None-Match`` (or, without it, ``If-Modified-Since``) that match → 304 on GET and
  HEAD (412 on other methods), with ``ETag`` and ``Last-Modified`` but no body;
* ``Range`` on GET (after ``If-Range`` agreed): one range → 206 with ``Content-Range``;
  several → 206 ``multipart/byteranges`` after sorting and merging; none satisfiable →
  416 with ``Content-Range: bytes */size``. A header that is malformed, uses another unit,
  is too long or asks for too many pieces is ignored (200 with the whole file), as
  RFC 9110 allows, so a ``Range`` header can never make a response bigger than the file
  plus a little multipart framing.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Mapping
from email.utils import formatdate, mktime_tz, parsedate_tz
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import anyio.to_thread

from kettle.responses import Background, Response
from kettle.types import RawHeaders, Receive, Scope, Send

__all__ = ["FileResponse", "content_disposition", "parse_range"]

logger = logging.getLogger("kettle.files")

# After sorting and merging, more pieces than this are answered with the whole file: each
# piece costs a multipart header and a seek, and real clients (PDF viewers, download
# resumers) ask for a handful.
MAX_RANGES: Final = 16
# At most this many pieces before merging, and this many characters. Checked before any
# parsing, so a header of 10**4 overlapping ranges costs one len() and one count(): nothing
# is split, converted or sorted.
_MAX_RANGE_SPECS: Final = 64
_MAX_RANGE_HEADER: Final = 4096
# Offsets with more significant digits than this exceed any real file (10**18 bytes is an
# exabyte); they are compared as "past the end" instead of being converted, so a
# 4000-digit number costs nothing and cannot trip int()'s digit limit.
_MAX_DIGITS: Final = 18
_PAST_END: Final = 10**_MAX_DIGITS
_MAX_DATE_LENGTH: Final = 64

# Compressed files keep their own type: labelling `x.tar.gz` as `application/x-tar` would
# need `Content-Encoding: gzip`, and then browsers would unpack the download.
_ENCODING_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
# Headers describing the body; a 304/412/416/404 answer has no such body.
_CONTENT_HEADERS: Final = frozenset(
    {
        b"content-type",
        b"content-length",
        b"content-disposition",
        b"content-encoding",
        b"content-language",
        b"content-range",
    }
)
# A 206 describes the same representation: its type, name, language and coding stay.
_KEPT_IN_PARTIAL: Final = frozenset(
    {b"content-type", b"content-disposition", b"content-encoding", b"content-language"}
)
_CONDITIONAL_HEADERS: Final = frozenset(
    {
        b"range",
        b"if-range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
    }
)
# Repeats of these are joined: lists for the If-*Match ones, and for Range the joined value
# no longer parses, so an ambiguous pair of Range headers is ignored.
_JOINED_HEADERS: Final = frozenset({"if-match", "if-none-match", "range"})
_NO_BODY_STATUSES: Final = frozenset({204, 304})
_ETAG_RE: Final = re.compile(r'(?:W/)?"[^"]*"')
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 8187 attr-char beyond what urllib.parse.quote always leaves alone.
_ATTR_SAFE: Final = "!#$&+^`|"
# O_NONBLOCK: opening a FIFO by mistake must not hang a worker thread; it is then refused
# as "not a regular file". Regular files ignore the flag.
_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)

Piece = bytes | tuple[int, int]  # literal bytes, or (offset, length) read from the file


class FileResponse(Response):
    """Send a file from disk, with ``ETag``/``Last-Modified``, conditional GET and ranges.

    Args:
        path: the file (``str`` or ``os.PathLike``); it is opened when the response is sent.
        status_code: only a 200 answers conditional and range requests.
        headers: extra headers; an ``ETag`` or ``Last-Modified`` given here replaces the
            one derived from the file.
        media_type: defaults to a guess from ``filename``, then ``path``; ``text/*`` types
            get ``; charset=utf-8``.
        background: awaited after the response is sent.
        filename: adds ``Content-Disposition`` with this name (non-ASCII names are sent
            as RFC 6266 ``filename*``, with an ASCII fallback).
        stat_result: an ``os.stat_result`` you already have; otherwise the file is stat-ed
            (in a worker thread) when it is opened for sending.
        content_disposition_type: ``"attachment"`` (download) or ``"inline"`` (display).
        chunk_size: bytes per read and per ASGI message.

    The ``ETag`` is strong and made from the modification time (in nanoseconds) and the
    size, so it changes whenever the file is replaced or rewritten without the file being
    read to compute it. If the file no longer exists when the response is sent, the
    client gets a plain 404 (and a warning is logged); a path that is not a regular file
    raises ``RuntimeError``.

    Example:
        >>> import tempfile, pathlib
        >>> from kettle import FileResponse, Kettle
        >>> from kettle.testing import TestClient
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.txt"
        >>> _ = path.write_bytes(b"0123456789")
        >>> app = Kettle(__name__)
        >>> @app.get("/report")
        ... async def report() -> FileResponse:
        ...     return FileResponse(path, filename="report.txt")
        >>> r = TestClient(app).get("/report", headers={"Range": "bytes=2-4"})
        >>> r.status_code, r.content, r.headers["content-range"]
        (206, b'234', 'bytes 2-4/10')
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: str = "attachment",
        chunk_size: int = 64 * 1024,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.path = path
        self.filename = filename
        self.stat_result = stat_result
        self.chunk_size = chunk_size
        self.status_code = status_code
        self.background = background
        self.body = b""
        self.raw_headers: RawHeaders = []
        self._headers = None
        self._auto_secure = None
        self.media_type = (
            media_type
            or (guess_media_type(filename) if filename else None)
            or guess_media_type(os.fspath(path))
            or "application/octet-stream"
        )
        h = self.headers
        if headers:
            for key, value in headers.items():
                h.append(key, value)
        #: whether to derive an ``ETag`` from the file (size and mtime): unless one was given
        self.derive_etag = "etag" not in h
        self._own_last_modified = "last-modified" not in h
        media = self.media_type
        if media.startswith("text/") and "charset=" not in media:
            media = f"{media}; charset={self.charset}"
        h.setdefault("content-type", media)
        h.setdefault("accept-ranges", "bytes")
        if filename is not None:
            h.setdefault(
                "content-disposition", content_disposition(filename, content_disposition_type)
            )
        if stat_result is not None:
            self._apply_stat(stat_result)

    direct_passthrough = True  # Werkzeug's flag: the body is the file, sent as it is

    def get_data(self, as_text: bool = False) -> Any:  # the whole file, read now (for tests)
        body = Path(self.path).read_bytes()
        return body.decode(self.charset, "replace") if as_text else body

    def _apply_stat(self, st: os.stat_result) -> None:
        h = self.headers
        h["content-length"] = str(st.st_size)
        if self.derive_etag:
            mtime_ns = getattr(st, "st_mtime_ns", None)  # None in a tuple-built stat_result
            if mtime_ns is None:
                mtime_ns = int(st.st_mtime * 1_000_000_000)
            h["etag"] = f'"{mtime_ns:x}-{st.st_size:x}"'
        if self._own_last_modified:
            h["last-modified"] = formatdate(st.st_mtime, usegmt=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._send_file(scope, send)
        if self.background is not None:
            await self.background()

    async def _send_file(self, scope: Scope, send: Send) -> None:
        file: io.FileIO | None = None
        try:
            st = self.stat_result
            if st is None:
                # PERF: open and fstat in one thread hop (~50 us) instead of stat then open
                # (~140 us, measured on Linux). The stat then also describes exactly the
                # bytes that will be read, even if the path is replaced meanwhile.
                try:
                    file, fresh = await anyio.to_thread.run_sync(_open, self.path)
                except (FileNotFoundError, NotADirectoryError):
                    await self._send_not_found(scope, send)
                    return
                self._apply_stat(fresh)
                st = fresh
            method = scope.get("method", "GET")
            status, ranges = self._evaluate(method, scope.get("headers", ()), st.st_size)
            head, pieces, length = self._plan(status, ranges, st.st_size)
            raw = self._finalize_headers(scope)
            if head is not None:
                raw = [(k, v) for k, v in raw if k not in _CONTENT_HEADERS] + head
            send_body = method != "HEAD" and length > 0
            if send_body and file is None:
                try:
                    file, _ = await anyio.to_thread.run_sync(_open, self.path)
                except (FileNotFoundError, NotADirectoryError):
                    await self._send_not_found(scope, send)
                    return
            await send({"type": "http.response.start", "status": status, "headers": raw})
            if not send_body or file is None:
                await send({"type": "http.response.body", "body": b""})
                return
            await self._send_pieces(file, pieces, length, send)
        finally:
            if file is not None:
                # Closing a read-only descriptor does not flush, so it is not worth a
                # thread hop (which a cancelled task could not await anyway).
                file.close()

    def _evaluate(
        self, method: str, raw: RawHeaders, size: int
    ) -> tuple[int, list[tuple[int, int]] | None]:
        """The status to send and, for a 206, the merged ranges."""
        if self.status_code != 200:
            return self.status_code, None
        req = _conditional_headers(raw)
        if not req:
            return 200, None
        status = self._preconditions(method, req)
        if status != 200 or method != "GET":
            # RFC 9110 14.2: range handling is defined for GET only.
            return status, None
        range_header = req.get("range")
        if range_header is None or size == 0:
            # An empty file has no byte to point at; the whole (empty) file is the answer.
            return 200, None
        if_range = req.get("if-range")
        if if_range is not None and not self._if_range_matches(if_range):
            return 200, None
        ranges = parse_range(range_header, size)
        if ranges is None:
            return 200, None
        return (206, ranges) if ranges else (416, None)

    def _preconditions(self, method: str, req: dict[str, str]) -> int:
        # Evaluated in the order of RFC 9110 13.2.2.
        etag: str | None = self.headers.get("etag")
        last_modified = _parse_http_date(self.headers.get("last-modified"))
        if_match = req.get("if-match")
        if if_match is not None:
            if not _etag_matches(if_match, etag, weak=False):
                return 412
        else:
            since = _parse_http_date(req.get("if-unmodified-since"))
            if since is not None and last_modified is not None and last_modified > since:
                return 412
        safe = method in ("GET", "HEAD")
        if_none_match = req.get("if-none-match")
        if if_none_match is not None:
            if _etag_matches(if_none_match, etag, weak=True):
                return 304 if safe else 412
        elif safe:
            since = _parse_http_date(req.get("if-modified-since"))
            if since is not None and last_modified is not None and last_modified <= since:
                return 304
        return 200

    def _if_range_matches(self, value: str) -> bool:
        value = value.strip()
        if value.startswith(('"', "W/")):
            # If-Range needs a strong match: a weak tag cannot vouch for byte offsets.
            etag: str | None = self.headers.get("etag")
            return etag is not None and not etag.startswith("W/") and value == etag
        date = _parse_http_date(value)
        return date is not None and date == _parse_http_date(self.headers.get("last-modified"))

    def _plan(
        self, status: int, ranges: list[tuple[int, int]] | None, size: int
    ) -> tuple[RawHeaders | None, list[Piece], int]:
        """Replacement body headers (None: keep them), the body pieces and their length."""
        if status == 304:
            return [], [], 0
        if status in (412, 416):
            head: RawHeaders = [(b"content-length", b"0")]
            if status == 416:
                head.append((b"content-range", b"bytes */%d" % size))
            return head, [], 0
        if status in _NO_BODY_STATUSES or status < 200:
            return None, [], 0
        if ranges is None:
            return None, [(0, size)], size
        keep = [(k, v) for k, v in self.raw_headers if k in _KEPT_IN_PARTIAL]
        if len(ranges) == 1:
            start, end = ranges[0]
            length = end - start + 1
            head = [
                *keep,
                (b"content-length", b"%d" % length),
                (b"content-range", b"bytes %d-%d/%d" % (start, end, size)),
            ]
            return head, [(start, length)], length
        boundary = secrets.token_hex(16).encode("ascii")
        content_type = self.headers.get("content-type", "application/octet-stream")
        part_type = content_type.encode("latin-1")
        pieces: list[Piece] = []
        for index, (start, end) in enumerate(ranges):
            pieces.append(
                b"%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
                % (b"\r\n" if index else b"", boundary, part_type, start, end, size)
            )
            pieces.append((start, end - start + 1))
        pieces.append(b"\r\n--%s--\r\n" % boundary)
        length = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
        head = [(k, v) for k, v in keep if k != b"content-type"] + [
            (b"content-type", b"multipart/byteranges; boundary=" + boundary),
            (b"content-length", b"%d" % length),
        ]
        return head, pieces, length

    async def _send_pieces(
        self, file: io.FileIO, pieces: list[Piece], length: int, send: Send
    ) -> None:
        remaining = length
        chunk_size = self.chunk_size
        for piece in pieces:
            if isinstance(piece, bytes):
                remaining -= len(piece)
                await send(
                    {"type": "http.response.body", "body": piece, "more_body": remaining > 0}
                )
                continue
            offset, todo = piece
            while todo > 0:
                want = min(chunk_size, todo)
                data = await anyio.to_thread.run_sync(_read_at, file, offset, want)
                if len(data) < want:
                    # Content-Length is already on the wire; sending fewer bytes would
                    # leave the client waiting, so fail and let the server drop the
                    # connection.
                    raise RuntimeError(f"File at {self.path!r} shrank while it was being sent")
                offset += want
                todo -= want
                remaining -= want
                await send({"type": "http.response.body", "body": data, "more_body": remaining > 0})

    async def _send_not_found(self, scope: Scope, send: Send) -> None:
        # Between the handler choosing the file and the send, the file went away: for the
        # client the resource is gone. Cookies the handler set still go out.
        logger.warning("FileResponse: %r does not exist; answering 404", self.path)
        body = b"Not Found"
        raw: RawHeaders = [(k, v) for k, v in self._finalize_headers(scope) if k == b"set-cookie"]
        raw += [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"%d" % len(body)),
        ]
        await send({"type": "http.response.start", "status": 404, "headers": raw})
        await send(
            {"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body}
        )


def parse_range(value: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` header against a file of ``size`` bytes.

    Returns the satisfiable ranges as sorted, merged, inclusive ``(first, last)`` pairs;
    ``[]`` when none is satisfiable (answer 416); ``None`` when the header must be ignored
    (answer 200 with the whole file): another unit, bad syntax, ``last < first``, more
    than :data:`MAX_RANGES` pieces after merging, or a header too long to be honest.

    Example:
        >>> parse_range("bytes=0-1, 4-, -2", 10)
        [(0, 1), (4, 9)]
        >>> parse_range("bytes=20-", 10), parse_range("bytes=5-2", 10)
        ([], None)
    """
    if len(value) > _MAX_RANGE_HEADER or value.count(",") >= _MAX_RANGE_SPECS:
        return None
    unit, eq, specs = value.strip().partition("=")
    if not eq or unit.lower() != "bytes":
        return None
    ranges: list[tuple[int, int]] = []
    any_spec = False
    for raw_spec in specs.split(","):
        spec = raw_spec.strip(" \t")
        if not spec:
            continue  # RFC 9110 5.6.1: empty list elements are allowed
        any_spec = True
        first, dash, last = spec.partition("-")
        if not dash:
            return None
        if not first:
            suffix = _digits(last)
            if suffix is None:
                return None
            length = _to_int(suffix)
            if length > 0:  # "-0" is valid but asks for nothing
                ranges.append((max(size - length, 0), size - 1))
            continue
        first_digits = _digits(first)
        if first_digits is None:
            return None
        start = _to_int(first_digits)
        end = size - 1
        if last:
            last_digits = _digits(last)
            if last_digits is None:
                return None
            if (len(last_digits), last_digits) < (len(first_digits), first_digits):
                return None
            end = min(_to_int(last_digits), size - 1)
        if start < size:
            ranges.append((start, end))
    if not any_spec:
        return None
    merged = _merge(ranges)
    return None if len(merged) > MAX_RANGES else merged


def _digits(text: str) -> str | None:
    """``text`` without leading zeros if it is all ASCII digits, else None."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    return text.lstrip("0") or "0"


def _to_int(digits: str) -> int:
    return int(digits) if len(digits) <= _MAX_DIGITS else _PAST_END


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    # Overlapping and adjacent ranges become one, so no byte is sent twice (RFC 9110 14.6).
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + 1:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def content_disposition(filename: str, disposition_type: str = "attachment") -> str:
    """A ``Content-Disposition`` value that is safe for any ``filename`` (RFC 6266).

    Control, format (e.g. right-to-left override) and line-separator characters and path
    separators become ``_``. A name that is not plain safe ASCII is sent as
    ``filename*=UTF-8''…`` with an ASCII ``filename`` fallback for old clients.

    Example:
        >>> content_disposition("résumé.pdf")
        'attachment; filename="resume.pdf"; filename*=UTF-8\\'\\'r%C3%A9sum%C3%A9.pdf'
        >>> content_disposition('a"b\\r\\n.txt', "inline")
        'inline; filename="a_b__.txt"; filename*=UTF-8\\'\\'a%22b__.txt'
    """
    if not _TOKEN_RE.fullmatch(disposition_type):
        raise ValueError(f"invalid Content-Disposition type: {disposition_type!r}")
    name = "".join(
        "_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in filename
    )
    fallback = _ascii_fallback(name)
    value = f'{disposition_type}; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=UTF-8''" + quote(name, safe=_ATTR_SAFE)
    return value


def _ascii_fallback(name: str) -> str:
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(ch):
            continue  # "é" decomposes to "e" + accent: keep the "e"
        # '"' and '\\' would end or escape the quoted-string; some clients percent-decode
        # the fallback (RFC 6266 appendix D), so '%' goes too.
        if " " <= ch <= "~" and ch not in '"\\%':
            out.append(ch)
        else:
            out.append("_")
    return "".join(out)


def guess_media_type(name: str) -> str | None:
    """The media type for a file name, or None when unknown.

    Example:
        >>> guess_media_type("notes.txt"), guess_media_type("backup.tar.gz")
        ('text/plain', 'application/gzip')
    """
    media_type, encoding = mimetypes.guess_type(name)
    if encoding is not None:
        return _ENCODING_TYPES.get(encoding, "application/octet-stream")
    return media_type


def _conditional_headers(raw: RawHeaders) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in raw:
        if key in _CONDITIONAL_HEADERS:
            name = key.decode("latin-1")
            text = value.decode("latin-1")
            if name not in found:
                found[name] = text
            elif name in _JOINED_HEADERS:
                found[name] = f"{found[name]}, {text}"
    return found


def _etag_matches(header: str, etag: str | None, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True  # "any current representation": the file exists
    if etag is None:
        return False
    if weak:
        target = etag.removeprefix("W/")
        return any(tag.removeprefix("W/") == target for tag in _ETAG_RE.findall(header))
    if etag.startswith("W/"):
        return False
    return etag in _ETAG_RE.findall(header)


def _parse_http_date(value: str | None) -> int | None:
    """Seconds since the epoch for an HTTP date, or None if absent or invalid."""
    if not value or len(value) > _MAX_DATE_LENGTH:
        return None
    try:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        if parsed[9] is None:  # no zone given: HTTP dates are always GMT
            parsed = (*parsed[:9], 0)
        return mktime_tz(parsed)
    except (IndexError, OverflowError, TypeError, ValueError):
        # The email parser is lenient, not hardened; a date it chokes on is no date.
        return None


def _open(path: str | os.PathLike[str]) -> tuple[io.FileIO, os.stat_result]:
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RuntimeError(f"FileResponse: {os.fspath(path)!r} is not a regular file")
        return io.FileIO(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def _read_at(file: io.FileIO, offset: int, size: int) -> bytes:
    file.seek(offset)
    parts: list[bytes] = []
    while size > 0:
        data = file.read(size)
        if not data:
            break  # end of file: the caller notices the short read
        parts.append(data)
        size -= len(data)
    return b"".join(parts)
