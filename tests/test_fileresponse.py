"""FileResponse: downloads, validators, conditional requests and byte ranges."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import pytest

import kettle.fileresponse as fileresponse
from kettle import FileResponse, Kettle
from kettle.fileresponse import MAX_RANGES, content_disposition, parse_range
from kettle.testing import TestClient

SIZE = 1000
DATA = bytes(i % 251 for i in range(SIZE))
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"
ETAG = f'"{MTIME * 10**9:x}-{SIZE:x}"'
HUGE = "9" * 23

Serve = Callable[..., TestClient]


def write(path: Path, data: bytes = DATA, mtime: int = MTIME) -> Path:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def file(tmp_path: Path) -> Path:
    return write(tmp_path / "x.bin")


@pytest.fixture
def serve(file: Path) -> Serve:
    """A client for an app whose GET/HEAD/POST ``/f`` returns ``FileResponse(file, **kw)``."""

    def make(
        path: Path | str | None = None,
        before: Callable[[FileResponse], Any] | None = None,
        base_url: str = "http://testserver",
        **kwargs: Any,
    ) -> TestClient:
        app = Kettle(__name__)

        @app.route("/f", methods=["GET", "POST"])
        async def handler() -> FileResponse:
            response = FileResponse(file if path is None else path, **kwargs)
            if before is not None:
                before(response)
            return response

        return TestClient(app, base_url=base_url)

    return make


def parse_multipart(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    delimiter = b"--" + boundary
    assert body.startswith(delimiter + b"\r\n")
    *segments, closing = body[len(delimiter) :].split(b"\r\n" + delimiter)
    assert closing == b"--\r\n"
    parts = []
    for segment in segments:
        assert segment.startswith(b"\r\n")
        head, sep, data = segment[2:].partition(b"\r\n\r\n")
        assert sep
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, data))
    return parts


# -- full responses ------------------------------------------------------------------------


def test_get_sends_file_with_validators(serve: Serve) -> None:
    r = serve().get("/f")
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["content-length"] == str(SIZE)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] == ETAG
    assert r.headers["last-modified"] == LAST_MODIFIED
    assert "content-disposition" not in r.headers


def test_head_sends_headers_only(serve: Serve) -> None:
    client = serve()
    get, head = client.get("/f"), client.head("/f")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers == get.headers


@pytest.mark.parametrize("as_str", [True, False])
def test_path_may_be_str_or_pathlike(serve: Serve, file: Path, as_str: bool) -> None:
    assert serve(str(file) if as_str else file).get("/f").content == DATA


def test_etag_follows_mtime_and_size(serve: Serve, file: Path) -> None:
    client = serve()
    first = client.get("/f").headers["etag"]
    assert client.get("/f").headers["etag"] == first
    os.utime(file, (MTIME + 1, MTIME + 1))
    second = client.get("/f").headers
    assert second["etag"] != first
    assert second["last-modified"] == formatdate(MTIME + 1, usegmt=True)
    write(file, DATA + b"!", mtime=MTIME + 1)
    assert client.get("/f").headers["etag"] not in (first, second["etag"])


def test_empty_file(serve: Serve, tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.txt", b"")
    client = serve(empty)
    r = client.get("/f", headers={"Range": "bytes=0-10"})
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "0")
    assert client.get("/f", headers={"Range": "bytes=-10"}).status_code == 200


def test_small_chunks_are_streamed_in_order(serve: Serve) -> None:
    client = serve(chunk_size=7)
    assert client.get("/f").content == DATA
    r = client.get("/f", headers={"Range": "bytes=3-40,100-130"})
    boundary = r.headers["content-type"].split("boundary=")[1].encode()
    assert [data for _, data in parse_multipart(r.content, boundary)] == [
        DATA[3:41],
        DATA[100:131],
    ]


def test_asgi_messages_are_chunked_and_last_one_ends_the_body(file: Path) -> None:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("FileResponse never reads the request")

    async def send(message: Any) -> None:
        messages.append(message)

    scope = {"type": "http", "method": "GET", "headers": [], "scheme": "http"}
    anyio.run(FileResponse(file, chunk_size=300), scope, receive, send)
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert [len(m["body"]) for m in bodies] == [300, 300, 300, 100]
    assert [m["more_body"] for m in bodies] == [True, True, True, False]


def test_chunk_size_must_be_positive(file: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        FileResponse(file, chunk_size=0)


def test_reads_happen_off_the_event_loop(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread: list[int] = []
    read_threads: list[int] = []
    real_read, real_open = fileresponse._read_at, fileresponse._open

    def read_at(*args: Any) -> bytes:
        read_threads.append(threading.get_ident())
        return real_read(*args)

    def open_(*args: Any) -> Any:
        read_threads.append(threading.get_ident())
        return real_open(*args)

    monkeypatch.setattr(fileresponse, "_read_at", read_at)
    monkeypatch.setattr(fileresponse, "_open", open_)
    client = serve(before=lambda _: loop_thread.append(threading.get_ident()), chunk_size=400)
    assert client.get("/f").content == DATA
    assert len(read_threads) == 4  # one open + three reads
    assert loop_thread[0] not in read_threads


# -- media type and Content-Disposition ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "content_type"),
    [
        ("a.txt", {}, "text/plain; charset=utf-8"),
        ("a.html", {}, "text/html; charset=utf-8"),
        ("a.png", {}, "image/png"),
        ("a.json", {}, "application/json"),
        ("a.pdf", {}, "application/pdf"),
        ("a.tar.gz", {}, "application/gzip"),
        ("noext", {}, "application/octet-stream"),
        ("a.bin", {"filename": "notes.txt"}, "text/plain; charset=utf-8"),
        ("a.png", {"filename": "noext"}, "image/png"),
        ("a.bin", {"media_type": "text/csv"}, "text/csv; charset=utf-8"),
        ("a.txt", {"media_type": "text/plain; charset=latin-1"}, "text/plain; charset=latin-1"),
        ("a.txt", {"headers": {"Content-Type": "x/y"}}, "x/y"),
    ],
)
def test_content_type(
    serve: Serve, tmp_path: Path, name: str, kwargs: dict[str, Any], content_type: str
) -> None:
    r = serve(write(tmp_path / name), **kwargs).get("/f")
    assert r.headers["content-type"] == content_type
    assert "content-encoding" not in r.headers


@pytest.mark.parametrize(
    ("filename", "disposition_type", "expected"),
    [
        ("report.pdf", "attachment", 'attachment; filename="report.pdf"'),
        ("my report.pdf", "inline", 'inline; filename="my report.pdf"'),
        (
            "résumé.pdf",
            "attachment",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        (
            "日本語.txt",
            "attachment",
            "attachment; filename=\"___.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
        ),
        ('a"b.txt', "attachment", "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt"),
        (
            "x.txt\r\nSet-Cookie: a=1",
            "attachment",
            'attachment; filename="x.txt__Set-Cookie: a=1"',
        ),
        (
            "..\\../etc/passwd",
            "attachment",
            'attachment; filename=".._.._etc_passwd"',
        ),
        (
            "invoice\u202egpj.exe",
            "attachment",
            'attachment; filename="invoice_gpj.exe"',
        ),
        (
            "100%.txt",
            "attachment",
            "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt",
        ),
        (
            'a\\"; x=y',
            "attachment",
            "attachment; filename=\"a__; x=y\"; filename*=UTF-8''a_%22%3B%20x%3Dy",
        ),
    ],
)
def test_content_disposition(
    serve: Serve, filename: str, disposition_type: str, expected: str
) -> None:
    r = serve(filename=filename, content_disposition_type=disposition_type).get("/f")
    value = r.headers["content-disposition"]
    assert value == expected
    assert "set-cookie" not in r.headers
    quoted = value.split('filename="', 1)[1].split('"', 1)[0]
    assert all(" " <= ch <= "~" and ch not in '"\\' for ch in quoted)


@pytest.mark.parametrize("bad", ["", "attachment; x=y", 'inline"', "in line"])
def test_content_disposition_type_must_be_a_token(file: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="Content-Disposition"):
        content_disposition("a.txt", bad)
    with pytest.raises(ValueError, match="Content-Disposition"):
        FileResponse(file, filename="a.txt", content_disposition_type=bad)


# -- conditional requests -----------------------------------------------------------------

PAST = formatdate(MTIME - 3600, usegmt=True)
FUTURE = formatdate(MTIME + 3600, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": ETAG}, 304),
        ({"If-None-Match": f"W/{ETAG}"}, 304),
        ({"If-None-Match": f'"nope", {ETAG}'}, 304),
        ({"If-None-Match": '"a,b", W/"c", ' + ETAG}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"other"'}, 200),
        ({"If-None-Match": ETAG.strip('"')}, 200),  # unquoted: not an entity tag
        ({"If-Modified-Since": LAST_MODIFIED}, 304),
        ({"If-Modified-Since": FUTURE}, 304),
        ({"If-Modified-Since": PAST}, 200),
        ({"If-Modified-Since": "yesterday"}, 200),
        ({"If-Modified-Since": "Tue, 14 Nov 2023 22:13:20 GMT" + "x" * 100}, 200),
        # If-None-Match wins over If-Modified-Since, either way round.
        ({"If-None-Match": '"other"', "If-Modified-Since": FUTURE}, 200),
        ({"If-None-Match": ETAG, "If-Modified-Since": PAST}, 304),
        # A 304 beats a Range.
        ({"If-None-Match": ETAG, "Range": "bytes=0-1"}, 304),
    ],
)
def test_not_modified(serve: Serve, headers: dict[str, str], status: int) -> None:
    client = serve()
    for method in ("GET", "HEAD"):
        r = client.request(method, "/f", headers=headers)
        assert r.status_code == status
        if status == 304:
            assert r.content == b""
            assert r.headers["etag"] == ETAG
            assert r.headers["last-modified"] == LAST_MODIFIED
            for name in ("content-length", "content-type", "content-range"):
                assert name not in r.headers
        elif method == "GET":
            assert r.content == DATA


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("GET", {"If-Match": ETAG}, 200),
        ("GET", {"If-Match": "*"}, 200),
        ("GET", {"If-Match": '"other"'}, 412),
        ("GET", {"If-Match": f"W/{ETAG}"}, 412),  # If-Match compares strongly
        ("GET", {"If-Unmodified-Since": PAST}, 412),
        ("GET", {"If-Unmodified-Since": FUTURE}, 200),
        ("GET", {"If-Match": ETAG, "If-Unmodified-Since": PAST}, 200),
        ("POST", {"If-None-Match": ETAG}, 412),
        ("POST", {"If-None-Match": '"other"'}, 200),
        ("POST", {"If-Modified-Since": FUTURE}, 200),  # only GET and HEAD
        ("POST", {"Range": "bytes=0-1"}, 200),  # ranges are for GET only
        ("HEAD", {"Range": "bytes=0-1"}, 200),
    ],
)
def test_preconditions(serve: Serve, method: str, headers: dict[str, str], status: int) -> None:
    r = serve().request(method, "/f", headers=headers)
    assert r.status_code == status
    if status == 412:
        assert (r.content, r.headers["content-length"]) == (b"", "0")
    elif method != "HEAD":
        assert r.content == DATA


def test_user_validators_replace_derived_ones(serve: Serve) -> None:
    client = serve(headers={"ETag": '"v42"', "Cache-Control": "max-age=60"})
    r = client.get("/f", headers={"If-None-Match": '"v42"'})
    assert r.status_code == 304
    assert (r.headers["etag"], r.headers["cache-control"]) == ('"v42"', "max-age=60")
    assert client.get("/f", headers={"If-None-Match": ETAG}).status_code == 200


def test_other_statuses_skip_conditionals_and_ranges(serve: Serve) -> None:
    client = serve(status_code=404)
    for headers in ({"If-None-Match": ETAG}, {"Range": "bytes=0-1"}):
        r = client.get("/f", headers=headers)
        assert (r.status_code, r.content) == (404, DATA)


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        ('"stale"', 200),
        (f"W/{ETAG}", 200),  # a weak tag never satisfies If-Range
        (LAST_MODIFIED, 206),
        (PAST, 200),
        (FUTURE, 200),  # an exact date match only
        ("garbage", 200),
    ],
)
def test_if_range(serve: Serve, if_range: str, status: int) -> None:
    r = serve().get("/f", headers={"Range": "bytes=10-19", "If-Range": if_range})
    assert r.status_code == status
    assert r.content == (DATA[10:20] if status == 206 else DATA)


def test_if_range_with_a_weak_user_etag_sends_everything(serve: Serve) -> None:
    r = serve(headers={"ETag": 'W/"v1"'}).get(
        "/f", headers={"Range": "bytes=0-1", "If-Range": 'W/"v1"'}
    )
    assert (r.status_code, r.content) == (200, DATA)


# -- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=0-0", 0, 0),
        ("bytes=990-", 990, 999),
        ("bytes=500-99999", 500, 999),
        ("bytes=-10", 990, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=999-999", 999, 999),
        ("BYTES=1-2", 1, 2),
        (" bytes=1-2 ", 1, 2),
        ("bytes= 1-2 ,", 1, 2),
        ("bytes=0001-0002", 1, 2),
        # Overflowing numbers are "past the end" (RFC 9110 14.1.1), never converted.
        (f"bytes=0-{HUGE}", 0, 999),
        (f"bytes=-{HUGE}", 0, 999),
        (f"bytes=5-{'9' * 4000}", 5, 999),
        # Unsatisfiable pieces are dropped when another one is satisfiable.
        (f"bytes=0-9,{HUGE}-", 0, 9),
        ("bytes=0-9,-0", 0, 9),
        # Overlapping and adjacent pieces merge into a single part.
        ("bytes=0-9,5-14", 0, 14),
        ("bytes=10-19,0-9", 0, 19),
        ("bytes=0-99,10-19,50-", 0, 999),
        ("bytes=" + ",".join(["0-1"] * 64), 0, 1),
    ],
)
def test_single_range(serve: Serve, header: str, start: int, end: int) -> None:
    r = serve(filename="x.bin").get("/f", headers={"Range": header})
    assert r.status_code == 206
    assert r.content == DATA[start : end + 1]
    assert r.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert r.headers["content-length"] == str(end - start + 1)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"] == 'attachment; filename="x.bin"'
    assert r.headers["etag"] == ETAG


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",
        "bytes=1000-1000",
        "bytes=5000-6000",
        "bytes=-0",
        "bytes=1000-,-0,2000-3000",
        f"bytes={HUGE}-",
        f"bytes={HUGE}-{HUGE}9",
        f"bytes={'9' * 4000}-",
    ],
)
def test_unsatisfiable_range(serve: Serve, header: str) -> None:
    r = serve().get("/f", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{SIZE}"
    assert (r.content, r.headers["content-length"]) == (b"", "0")
    assert "content-type" not in r.headers


@pytest.mark.parametrize(
    "header",
    [
        "items=0-9",
        "bytes 0-9",
        "bytes:0-9",
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=5",
        "bytes=abc",
        "bytes=a-9",
        "bytes=5-2",  # last before first
        f"bytes={HUGE}9-{HUGE}",
        "bytes=--5",
        "bytes=-5-10",  # negative first
        "bytes=5--10",  # negative last
        "bytes=-1-",
        "bytes=+1-2",
        "bytes=0x10-20",
        "bytes=1e3-",
        "bytes=1.5-2",
        b"bytes=\xb2-3",  # "\u00b2" (superscript two) is a digit to str.isdigit, not to HTTP
        "bytes=0-9;10-19",
        "bytes=0-9,oops",
        "bytes=0 - 9",
    ],
)
def test_malformed_range_is_ignored(serve: Serve, header: str | bytes) -> None:
    raw = header if isinstance(header, bytes) else header.encode("latin-1")
    r = serve().get("/f", headers={b"Range": raw})
    assert (r.status_code, r.content) == (200, DATA)
    assert "content-range" not in r.headers


def test_two_range_headers_are_ignored(serve: Serve) -> None:
    r = serve().get("/f", headers=[("Range", "bytes=0-1"), ("Range", "bytes=2-3")])
    assert (r.status_code, r.content) == (200, DATA)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9,20-29,-5", [(0, 9), (20, 29), (995, 999)]),
        ("bytes=-5,20-29,0-9", [(0, 9), (20, 29), (995, 999)]),  # sorted
        ("bytes=0-9,5-12,20-29,29-40", [(0, 12), (20, 40)]),  # merged
        ("bytes=0-0,2-2", [(0, 0), (2, 2)]),
        (f"bytes=0-9,900-{HUGE},{SIZE}-", [(0, 9), (900, 999)]),
        ("bytes=" + ",".join(f"{i * 10}-{i * 10}" for i in range(MAX_RANGES)), None),
    ],
)
def test_multiple_ranges(serve: Serve, header: str, expected: list[tuple[int, int]] | None) -> None:
    if expected is None:
        expected = [(i * 10, i * 10) for i in range(MAX_RANGES)]
    r = serve(filename="x.bin").get("/f", headers={"Range": header})
    assert r.status_code == 206
    media, _, param = r.headers["content-type"].partition("; boundary=")
    assert media == "multipart/byteranges"
    assert "content-range" not in r.headers
    assert r.headers["content-disposition"] == 'attachment; filename="x.bin"'
    assert int(r.headers["content-length"]) == len(r.content)
    parts = parse_multipart(r.content, param.encode())
    assert [(h["content-type"], h["content-range"], data) for h, data in parts] == [
        ("application/octet-stream", f"bytes {a}-{b}/{SIZE}", DATA[a : b + 1]) for a, b in expected
    ]


def test_boundary_is_random(serve: Serve) -> None:
    client = serve()
    types = {
        client.get("/f", headers={"Range": "bytes=0-1,5-6"}).headers["content-type"]
        for _ in range(3)
    }
    assert len(types) == 3


@pytest.mark.parametrize(
    "header",
    [
        # more pieces than MAX_RANGES after merging
        "bytes=" + ",".join(f"{i * 10}-{i * 10}" for i in range(MAX_RANGES + 1)),
        # 65 specs are refused before parsing, even though they would merge into one
        "bytes=" + ",".join(["0-1"] * 65),
        # 10**4 overlapping ranges of the whole file
        "bytes=" + ",".join(["0-999"] * 10_000),
        "bytes=" + ",".join(["0-"] * 10_000),
        "bytes=" + ",".join(["-1000"] * 10_000),
        # 10**4 one-byte ranges
        "bytes=" + ",".join(f"{i}-{i}" for i in range(10_000)),
        # a single absurdly long piece
        "bytes=0-" + "0" * 5000 + "1",
    ],
    ids=["17-disjoint", "65-specs", "1e4-whole", "1e4-open", "1e4-suffix", "1e4-bytes", "long"],
)
def test_abusive_ranges_get_the_plain_file(serve: Serve, header: str) -> None:
    r = serve().get("/f", headers={"Range": header})
    assert (r.status_code, r.content) == (200, DATA)


@pytest.mark.parametrize(
    ("header", "numbers_read", "ranges_merged", "status"),
    [
        # 10**4 pieces are refused on the header's size, before one of them is read
        ("bytes=" + ",".join(["0-999"] * 10_000), 0, None, 200),
        ("bytes=" + ",".join(f"{i}-{i + 500}" for i in range(10_000)), 0, None, 200),
        # the most pieces ever read: 63 of them, two numbers each, merged into one range
        ("bytes=" + ",".join(["0-1"] * 63), 126, 63, 206),
    ],
    ids=["1e4-whole", "1e4-overlapping", "63-specs"],
)
def test_range_parsing_work_is_bounded(
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    header: str,
    numbers_read: int,
    ranges_merged: int | None,
    status: int,
) -> None:
    # The work is counted, not timed: a count does not depend on the machine's load.
    numbers: list[str] = []
    merged: list[int] = []
    real_digits, real_merge = fileresponse._digits, fileresponse._merge

    def digits(text: str) -> str | None:
        numbers.append(text)
        return real_digits(text)

    def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        merged.append(len(ranges))
        return real_merge(ranges)

    monkeypatch.setattr(fileresponse, "_digits", digits)
    monkeypatch.setattr(fileresponse, "_merge", merge)
    result = parse_range(header, SIZE)
    assert result == (None if ranges_merged is None else [(0, 1)])
    assert len(numbers) == numbers_read
    assert merged == ([] if ranges_merged is None else [ranges_merged])
    r = serve().get("/f", headers={"Range": header})
    assert (r.status_code, r.content) == (status, DATA if status == 200 else DATA[:2])


@pytest.mark.parametrize(
    "header",
    [
        "bytes=" + ",".join(f"{i}-{SIZE}" for i in range(63)),
        "bytes=" + ",".join(f"{i * 60}-{i * 60 + 1}" for i in range(MAX_RANGES)),
        "bytes=" + ",".join(f"-{i}" for i in range(1, 63)),
        "bytes=" + ",".join(f"0-{i}" for i in range(63)),
    ],
)
def test_ranges_never_amplify_the_file(serve: Serve, header: str) -> None:
    r = serve().get("/f", headers={"Range": header})
    assert r.status_code in (200, 206)
    # at most the file plus a small multipart header per part
    assert len(r.content) <= SIZE + MAX_RANGES * 160


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-1, 4-, -2", 10, [(0, 1), (4, 9)]),
        ("bytes=5-", 5, []),
        ("bytes=-0", 5, []),
        ("bytes=0-0,,", 5, [(0, 0)]),
        ("bytes=1-1,0-0", 5, [(0, 1)]),
        ("bytes=-1-2", 5, None),
        ("bytes=\u0661-\u0665", 5, None),  # Arabic-Indic digits
        ("bytes=" + ",".join(["0-1"] * 64), 5, [(0, 1)]),
        ("bytes=" + ",".join(["0-1"] * 65), 5, None),
        ("bytes=" + ",".join(["0-1"] * 10_000), 5, None),
    ],
)
def test_parse_range(header: str, size: int, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, size) == expected


# -- the file on disk -----------------------------------------------------------------------


def test_file_deleted_before_send_is_a_404(serve: Serve, file: Path) -> None:
    client = serve(before=lambda _: file.unlink())
    r = client.get("/f")
    assert (r.status_code, r.text) == (404, "Not Found")
    assert "etag" not in r.headers
    write(file)
    assert client.head("/f").status_code == 404  # unlinked again by the handler
    assert client.head("/f").content == b""


def test_file_deleted_after_stat_given_is_a_404(serve: Serve, file: Path) -> None:
    st = file.stat()

    def remove(response: FileResponse) -> None:
        assert response.headers["etag"] == ETAG
        file.unlink(missing_ok=True)

    client = serve(stat_result=st, before=remove)
    assert client.get("/f").status_code == 404
    # HEAD and conditional requests answer from the given stat without the disk.
    assert client.head("/f").headers["content-length"] == str(SIZE)
    assert client.get("/f", headers={"If-None-Match": ETAG}).status_code == 304


def test_missing_file_keeps_cookies(serve: Serve, tmp_path: Path) -> None:
    def cookie(response: FileResponse) -> None:
        response.set_cookie("seen", "1")

    r = serve(tmp_path / "missing", before=cookie, base_url="https://testserver").get("/f")
    assert r.status_code == 404
    assert r.headers["set-cookie"].endswith("; Secure")


def test_path_under_a_file_is_a_404(serve: Serve, file: Path) -> None:
    assert serve(file / "child").get("/f").status_code == 404


def test_directory_is_an_error(serve: Serve, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not a regular file"):
        serve(tmp_path).get("/f")


def test_file_shrinking_during_send_aborts(serve: Serve, file: Path) -> None:
    st = os.stat_result((0o100644, 0, 0, 1, 0, 0, SIZE + 10, MTIME, MTIME, MTIME))
    with pytest.raises(RuntimeError, match="shrank"):
        serve(stat_result=st).get("/f")


def test_tuple_built_stat_result_still_gets_an_etag(file: Path) -> None:
    st = os.stat_result((0o100644, 0, 0, 1, 0, 0, SIZE, MTIME, MTIME, MTIME))
    response = FileResponse(file, stat_result=st)
    assert response.headers["etag"] == ETAG
    assert response.headers["content-length"] == str(SIZE)


def test_cookies_and_background(serve: Serve) -> None:
    ran: list[str] = []

    async def task() -> None:
        ran.append("done")

    def setup(response: FileResponse) -> None:
        response.set_cookie("a", "1")
        response.background = task

    client = serve(before=setup, base_url="https://testserver")
    for headers in ({}, {"If-None-Match": ETAG}, {"Range": "bytes=0-1"}):
        r = client.get("/f", headers=headers)
        assert r.headers["set-cookie"].startswith("a=1;")
        assert r.headers["set-cookie"].endswith("; Secure")
    assert ran == ["done"] * 3
