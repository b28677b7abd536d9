"""Forms and uploads: urlencoded and multipart parsing, limits, hostile input."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

import anyio
import pytest

from kettle import JSONResponse, Kettle, Limits, Request, UploadFile, forms
from kettle.forms import FormData, sanitize_filename
from kettle.testing import AsyncTestClient, TestClient
from kettle.types import Message, Scope

BOUNDARY = "kettle-B0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"

T = TypeVar("T")

# Small limits keep hostile bodies small and the tests fast.
SMALL = Limits(
    max_body_size=64 * 1024,
    max_form_fields=20,
    max_form_files=5,
    max_part_size=1024,
    max_part_headers=4,
    max_part_header_size=256,
    spool_max_size=1024,
)


async def describe(value: str | UploadFile) -> Any:
    if isinstance(value, str):
        return value
    data = await value.read()
    return {
        "filename": value.filename,
        "safe_filename": value.safe_filename,
        "content_type": value.content_type,
        "size": value.size,
        "data": data.decode("latin-1"),
        "in_memory": value.in_memory,
        "x_tag": value.headers.get("x-tag"),
    }


def make_app(limits: Limits = SMALL) -> tuple[Kettle, list[FormData]]:
    app = Kettle(__name__, limits=limits)
    seen: list[FormData] = []

    async def summary(request: Request) -> dict[str, Any]:
        data = await request.form()
        assert await request.form() is data  # parsed once, cached
        seen.append(data)
        return {name: [await describe(v) for v in data.getlist(name)] for name in data}

    @app.post("/form")
    async def form(request: Request) -> JSONResponse:
        return JSONResponse(await summary(request))

    @app.post("/form-dict")
    async def form_dict(request: Request) -> dict[str, Any]:
        return await summary(request)

    @app.post("/big", limits={"max_part_size": 8 * 1024, "max_body_size": 64 * 1024})
    async def big(request: Request) -> dict[str, int]:
        data = await request.form()
        return {name: len(str(data[name])) for name in data}

    @app.post("/many", limits={"max_form_fields": 30_000, "max_body_size": 4 * 1024 * 1024})
    async def many(request: Request) -> dict[str, int]:
        return {"fields": len((await request.form()).multi_items())}

    return app, seen


@pytest.fixture(scope="module")
def app_and_seen() -> tuple[Kettle, list[FormData]]:
    return make_app()


@pytest.fixture(scope="module")
def client(app_and_seen: tuple[Kettle, list[FormData]]) -> Iterator[TestClient]:
    with TestClient(app_and_seen[0]) as c:
        yield c


@pytest.fixture(scope="module")
def default_client() -> Iterator[TestClient]:
    """An app with kettle's default limits: the hostile floods must fail fast on those."""
    with TestClient(make_app(Limits())[0]) as c:
        yield c


def part(headers: str | bytes, body: str | bytes = b"") -> bytes:
    """One multipart part: header lines (``\\r\\n``-separated, no trailing one) and a body."""
    raw = headers.encode() if isinstance(headers, str) else headers
    data = body.encode() if isinstance(body, str) else body
    return raw + b"\r\n\r\n" + data


def field(name: str, value: str | bytes) -> bytes:
    return part(f'Content-Disposition: form-data; name="{name}"', value)


def file_part(params: str | bytes, body: str | bytes = b"", *extra: str) -> bytes:
    raw = params.encode() if isinstance(params, str) else params
    head = b'Content-Disposition: form-data; name="f"; ' + raw
    head += b"".join(b"\r\n" + h.encode() for h in extra)
    return part(head, body)


def multipart(
    *parts: bytes, boundary: str = BOUNDARY, preamble: bytes = b"", epilogue: bytes = b""
) -> bytes:
    b = boundary.encode()
    body = b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts)
    return preamble + body + b"--" + b + b"--\r\n" + epilogue


def post(client: TestClient, body: bytes, content_type: str = MULTIPART, url: str = "/form") -> Any:
    return client.post(url, content=body, headers={b"content-type": content_type.encode("latin-1")})


# -- happy paths ---------------------------------------------------------------------------


def test_urlencoded_fields(client: TestClient) -> None:
    body = b"a=1&a=2&b=x+y&c=%E2%82%AC&d&&e=&%3D=%26"
    assert post(client, body, URLENCODED).json() == {
        "a": ["1", "2"],
        "b": ["x y"],
        "c": ["€"],
        "d": [""],
        "e": [""],
        "=": ["&"],
    }


def test_urlencoded_through_httpx_data(client: TestClient) -> None:
    response = client.post("/form", data={"name": "kettle", "tags": ["a", "b"]})
    assert response.json() == {"name": ["kettle"], "tags": ["a", "b"]}


def test_multipart_fields_and_files(client: TestClient) -> None:
    response = client.post(
        "/form",
        data={"title": "héllo", "tags": ["a", "b"]},
        files=[
            ("upload", ("notes.txt", b"some notes", "text/plain")),
            ("upload", ("empty.bin", b"", "application/octet-stream")),
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == ["héllo"]
    assert body["tags"] == ["a", "b"]
    first, second = body["upload"]
    assert first["filename"] == "notes.txt"
    assert first["content_type"] == "text/plain"
    assert (first["size"], first["data"]) == (10, "some notes")
    assert (second["filename"], second["size"], second["data"]) == ("empty.bin", 0, "")


def test_empty_forms(client: TestClient) -> None:
    assert post(client, b"", URLENCODED).json() == {}
    assert post(client, multipart()).json() == {}


def test_part_headers_and_charset(client: TestClient) -> None:
    body = multipart(
        file_part('filename="a.txt"', "x", "Content-Type: text/csv", "X-Tag: t1"),
        part(
            'Content-Disposition: form-data; name="latin"\r\n'
            "Content-Type: text/plain; charset=latin-1",
            "caf\xe9".encode("latin-1"),
        ),
    )
    data = post(client, body).json()
    assert data["f"][0]["content_type"] == "text/csv"
    assert data["f"][0]["x_tag"] == "t1"
    assert data["latin"] == ["café"]


@pytest.mark.parametrize(
    ("params", "filename", "safe"),
    [
        ('filename="report.pdf"', "report.pdf", "report.pdf"),
        ('filename="../../etc/passwd"', "../../etc/passwd", "passwd"),
        ('filename="..\\..\\x"', "..\\..\\x", "x"),
        ('filename="C:\\Users\\me\\a.txt"', "C:\\Users\\me\\a.txt", "a.txt"),
        ('filename="C:evil.txt"', "C:evil.txt", "evil.txt"),
        ('filename="/abs/path/.bashrc"', "/abs/path/.bashrc", "bashrc"),
        ('filename="evil\x00.txt"', "evil\x00.txt", "evil.txt"),
        ('filename="a\\"b.txt"', 'a"b.txt', 'a"b.txt'),  # escaped quote, as curl sends it
        ('filename="a\\\\b.txt"', "a\\b.txt", "b.txt"),  # escaped backslash
        ('filename="evil\u202egpj.exe"', "evil\u202egpj.exe", "evilgpj.exe"),
        ('filename="naïve résumé.txt"', "naïve résumé.txt", "naïve résumé.txt"),
        ('filename="nul.txt"', "nul.txt", "_nul.txt"),
        ('filename="  .. "', "  .. ", None),
        ('filename=".."', "..", None),
        ('filename=""', "", None),  # an empty file input: still a file, with no name
        ("filename*=UTF-8''%E2%82%AC%20rates.txt", "€ rates.txt", "€ rates.txt"),
        ("filename*=utf-8'en'..%2F..%2Fx", "../../x", "x"),
        ("filename*=ISO-8859-1''caf%E9", "café", "café"),
        ("filename=\"fallback.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt", "été.txt", "été.txt"),
        ("filename=plain.txt", "plain.txt", "plain.txt"),
    ],
)
def test_filenames_kept_as_sent_but_sanitized(
    client: TestClient, params: str, filename: str, safe: str | None
) -> None:
    response = post(client, multipart(file_part(params.encode(), "data")))
    assert response.status_code == 200, response.text
    (upload,) = response.json()["f"]
    assert (upload["filename"], upload["safe_filename"]) == (filename, safe)


def test_sanitize_filename_without_filename() -> None:
    assert sanitize_filename(None) is None


# -- spooling, the event loop and closing -------------------------------------------------


@pytest.mark.parametrize(
    ("size", "in_memory"), [(0, True), (1000, True), (1024, True), (1025, False), (20_000, False)]
)
def test_files_spool_to_disk_past_spool_max_size(
    client: TestClient, size: int, in_memory: bool
) -> None:
    content = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    response = post(client, multipart(file_part('filename="f.bin"', content)))
    (upload,) = response.json()["f"]
    assert (upload["size"], upload["in_memory"]) == (size, in_memory)
    assert upload["data"].encode("latin-1") == content


def test_upload_file_api_round_trip() -> None:
    async def main() -> None:
        upload = UploadFile("x.bin", spool_max_size=4)
        assert await upload.write(b"abc") == 3
        was_in_memory = upload.in_memory
        await upload.write(b"defgh")  # crosses the spool size: rolls over to disk
        assert (was_in_memory, upload.in_memory) == (True, False)
        await upload.write(b"ij")  # already on disk
        assert await upload.seek(2) == 2
        assert await upload.read(3) == b"cde"
        assert await upload.read() == b"fghij"
        assert upload.size == 10
        await upload.close()
        await upload.close()  # harmless twice
        assert upload.file.closed
        assert repr(upload) == "UploadFile(filename='x.bin', size=10, content_type=None)"

    anyio.run(main)


@pytest.mark.parametrize(
    "url",
    [
        "/form",
        "/form-dict",
    ],
)
def test_files_are_closed_after_the_response(
    client: TestClient, app_and_seen: tuple[Kettle, list[FormData]], url: str
) -> None:
    seen = app_and_seen[1]
    seen.clear()
    body = multipart(file_part('filename="a"', "small"), file_part('filename="b"', b"x" * 5000))
    assert post(client, body, url=url).status_code == 200
    (form,) = seen
    uploads = [u for u in form.getlist("f") if isinstance(u, UploadFile)]
    try:
        assert [u.in_memory for u in uploads] == [True, False]
        assert all(u.file.closed for u in uploads)
    finally:
        anyio.run(form.close)  # whatever happened, leave no temp file behind


@pytest.fixture
def spooled_files(monkeypatch: pytest.MonkeyPatch) -> list[tempfile.SpooledTemporaryFile[bytes]]:
    """Every spool the form parser opens, to check that none is left open."""
    created: list[tempfile.SpooledTemporaryFile[bytes]] = []
    real = tempfile.SpooledTemporaryFile

    def recording(*args: Any, **kwargs: Any) -> tempfile.SpooledTemporaryFile[bytes]:
        spool: tempfile.SpooledTemporaryFile[bytes] = real(*args, **kwargs)
        created.append(spool)
        return spool

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", recording)
    return created


@pytest.mark.parametrize(
    "body",
    [
        # the sixth file breaks max_form_files; the first five, some on disk, must be closed
        multipart(*[file_part(f'filename="{i}"', b"x" * 3000) for i in range(6)]),
        # a malformed part after a spooled file
        multipart(file_part('filename="a"', b"x" * 3000), part("Content-Disposition: bogus")),
        # the body ends mid-file
        multipart(file_part('filename="a"', b"x" * 3000))[:-30],
    ],
    ids=["too-many-files", "bad-part", "truncated"],
)
def test_files_are_closed_when_parsing_fails(
    client: TestClient, spooled_files: list[tempfile.SpooledTemporaryFile[bytes]], body: bytes
) -> None:
    assert post(client, body).status_code == 400
    assert spooled_files
    assert all(spool.closed for spool in spooled_files)


def test_spool_rollover_does_not_block_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Make the disk slow: creating the rollover file takes 0.5 s. If that ran on the event
    # loop, a ticker task would stall for 0.5 s; run in a thread, it keeps ticking.
    real = tempfile.TemporaryFile

    def slow_disk(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", slow_disk)
    app, _ = make_app()
    content = b"q" * 50_000

    async def main() -> tuple[Any, list[float]]:
        gaps: list[float] = []
        done = anyio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await anyio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        async with AsyncTestClient(app) as client, anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            response = await client.post(
                "/form",
                content=multipart(file_part('filename="big"', content)),
                headers={"content-type": MULTIPART},
            )
            done.set()
        return response, gaps

    response, gaps = anyio.run(main)
    (upload,) = response.json()["f"]
    assert (upload["size"], upload["in_memory"]) == (len(content), False)
    assert sum(gaps) >= 0.5  # the ticker ran across the whole slow upload...
    assert max(gaps) < 0.35  # ...and never stalled for the slow disk


# -- content types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        (f"Multipart/Form-Data; boundary={BOUNDARY}", BOUNDARY),
        (f"MULTIPART/FORM-DATA;BOUNDARY={BOUNDARY}", BOUNDARY),
        (f"  multipart/form-data  ;  boundary = {BOUNDARY} ", BOUNDARY),
        (f'multipart/form-data; charset=utf-8; boundary="{BOUNDARY}"', BOUNDARY),
        ('multipart/form-data; boundary="a\\"b"', 'a"b'),
        # an escaped quote cannot end the value early and smuggle in a second boundary
        ('multipart/form-data; boundary="x\\";boundary=evil"', 'x";boundary=evil'),
        ("multipart/form-data; boundary=" + "b" * 70, "b" * 70),
    ],
)
def test_multipart_content_type_variants(
    client: TestClient, content_type: str, boundary: str
) -> None:
    body = multipart(field("a", "1"), boundary=boundary)
    response = post(client, body, content_type)
    assert (response.status_code, response.json()) == (200, {"a": ["1"]})


def test_smuggled_boundary_is_not_used(client: TestClient) -> None:
    body = multipart(field("a", "1"), boundary="evil")
    response = post(client, body, 'multipart/form-data; boundary="x\\";boundary=evil"')
    assert response.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    [
        URLENCODED,
        "Application/X-WWW-Form-URLEncoded",
        " application/x-www-form-urlencoded ; charset=UTF-8",
        'application/x-www-form-urlencoded; charset="utf-8"',
    ],
)
def test_urlencoded_content_type_variants(client: TestClient, content_type: str) -> None:
    response = post(client, b"a=%C3%A9", content_type)
    assert (response.status_code, response.json()) == (200, {"a": ["é"]})


def test_urlencoded_charset_parameter(client: TestClient) -> None:
    response = post(client, b"a=caf%E9", f"{URLENCODED}; charset=iso-8859-1")
    assert response.json() == {"a": ["café"]}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"a": 1}'),  # JSON as text/plain: the CSRF-friendly content type
        ("application/json", b'{"a": 1}'),
        (None, b"a=1"),
        ("", b"a=1"),
        ("multipart/mixed; boundary=x", multipart(field("a", "1"), boundary="x")),
        ("application/x-www-form-urlencoded-evil", b"a=1"),
        ("text/plain; x=multipart/form-data", b"a=1"),
        ("multipart/form-data-x; boundary=x", multipart(field("a", "1"), boundary="x")),
    ],
)
def test_not_a_form_is_415(client: TestClient, content_type: str | None, body: bytes) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "detail"),
    [
        ("multipart/form-data", "without a boundary"),
        ("multipart/form-data; boundary=", "without a boundary"),
        ('multipart/form-data; boundary=""', "without a boundary"),
        ("multipart/form-data; charset=utf-8", "without a boundary"),
        ("multipart/form-data; boundary=" + "b" * 257, "Invalid multipart boundary"),
        ('multipart/form-data; boundary="bad\u00e9"', "Invalid multipart boundary"),
        ('multipart/form-data; boundary="trailing "', "Invalid multipart boundary"),
    ],
)
def test_bad_boundary_is_400(client: TestClient, content_type: str, detail: str) -> None:
    response = post(client, multipart(field("a", "1")), content_type)
    assert response.status_code == 400
    assert detail in response.json()["detail"]


# -- limits and hostile input --------------------------------------------------------------

# (body, status, a phrase of the detail), against SMALL limits: 20 fields, 5 files, 1 KiB
# per field, 4 headers of 256 bytes per part.
HOSTILE_MULTIPART: dict[str, tuple[bytes, int, str]] = {
    "too-many-fields": (
        multipart(*[field(f"k{i}", "v") for i in range(21)]),
        400,
        "Too many form fields (more than 20)",
    ),
    "too-many-files": (
        multipart(*[file_part(f'filename="{i}"', "x") for i in range(6)]),
        400,
        "Too many files in the form (more than 5)",
    ),
    "huge-field": (multipart(field("a", b"x" * 1025)), 413, "'a' exceeds 1024 bytes"),
    "crlf-flood-in-field": (multipart(field("a", b"\r\n" * 600)), 413, "exceeds 1024 bytes"),
    "endless-part-headers": (
        multipart(part("Content-Disposition: form-data; name=a" + "\r\nX-A: b" * 5000, "v")),
        400,
        "more than 4 headers",
    ),
    "long-header-line": (
        multipart(part("Content-Disposition: form-data; name=a; x=" + "y" * 300, "v")),
        400,
        "longer than 256 bytes",
    ),
    "long-header-name": (
        multipart(part("X-" + "y" * 10_000 + ": 1\r\nContent-Disposition: form-data; name=a")),
        400,
        "longer than 256 bytes",
    ),
    "no-content-disposition": (multipart(part("Content-Type: text/plain", "v")), 400, "lacks"),
    "not-form-data": (multipart(part("Content-Disposition: attachment; name=a")), 400, "lacks"),
    "no-name": (multipart(part('Content-Disposition: form-data; filename="a"')), 400, "lacks"),
    "no-headers": (multipart(part(b"", "v")[2:]), 400, "lacks"),
    "crlf-flood-after-boundary": (
        b"--" + BOUNDARY.encode() + b"\r\n" + b"\r\n" * 5000,
        400,
        "lacks",
    ),
    "giant-preamble": (multipart(field("a", "1"), preamble=b"junk " * 10_000), 400, "Malformed"),
    "truncated": (multipart(field("a", "1"))[:-10], 400, "ends before the last boundary"),
    "not-multipart-at-all": (b"a=1&b=2", 400, "Malformed"),
    "bad-utf8-field": (multipart(field("a", b"\xff\xfe")), 400, "Field 'a' is not valid utf-8"),
    "bad-utf8-header": (
        multipart(file_part(b'filename="\xff.txt"', "x")),
        400,
        "header is not valid utf-8",
    ),
    "bad-filename-star": (multipart(file_part("filename*=%2F%2Fx", "x")), 400, "filename*"),
    "filename-star-charset": (
        multipart(file_part("filename*=koi8-r''%C1", "x")),
        400,
        "filename*",
    ),
    "filename-star-bad-utf8": (
        multipart(file_part("filename*=UTF-8''%FF", "x")),
        400,
        "filename* parameter is not valid utf-8",
    ),
    "unknown-charset": (
        multipart(
            part("Content-Disposition: form-data; name=a\r\nContent-Type: text/x; charset=nope")
        ),
        400,
        "Unknown charset 'nope'",
    ),
    "bytes-codec-charset": (
        multipart(
            part("Content-Disposition: form-data; name=a\r\nContent-Type: text/x; charset=hex")
        ),
        400,
        "Unknown charset 'hex'",
    ),
    "body-too-big": (multipart(file_part('filename="a"', b"x" * 70_000)), 413, "exceeds 65536"),
}


@pytest.mark.parametrize(
    ("body", "status", "detail"), HOSTILE_MULTIPART.values(), ids=HOSTILE_MULTIPART.keys()
)
def test_hostile_multipart(client: TestClient, body: bytes, status: int, detail: str) -> None:
    response = post(client, body)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("parser_enforces", [True, False], ids=["parser-limits", "own-limits"])
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (HOSTILE_MULTIPART["endless-part-headers"][0], "more than 4 headers"),
        (HOSTILE_MULTIPART["long-header-line"][0], "longer than 256 bytes"),
        (HOSTILE_MULTIPART["long-header-name"][0], "longer than 256 bytes"),
    ],
)
def test_part_header_limits_with_and_without_parser_support(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    parser_enforces: bool,
    body: bytes,
    detail: str,
) -> None:
    # python-multipart checks header count and size itself since recent versions; with an
    # older one (or its own looser defaults) kettle's callbacks must still enforce ours.
    monkeypatch.setattr(forms, "_PARSER_TAKES_HEADER_LIMITS", parser_enforces)
    response = post(client, body)
    assert response.status_code == 400
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ("form-data; name=a", "a"),
        ('FORM-DATA ; NAME = "a" ', "a"),
        ('form-data; bare; name="a"', "a"),
        ('form-data; x="1;2"; name="a"', "a"),
        ('form-data; name="a"; name="b"', "a"),  # the first of duplicate parameters wins
        ('form-data; name="a\\"b"', 'a"b'),
        ('form-data; name="a\\b"', "a\\b"),  # a lone backslash is kept (Windows paths)
        ('form-data; name=""', ""),
        ('form-data; name="é"', "é"),
    ],
)
def test_content_disposition_parsing(client: TestClient, disposition: str, name: str) -> None:
    body = multipart(part(f"Content-Disposition: {disposition}".encode(), "v"))
    response = post(client, body)
    assert (response.status_code, response.json()) == (200, {name: ["v"]})


@pytest.mark.parametrize(
    ("preamble", "epilogue"),
    [
        (b"\r\n" * 10_000, b""),  # blank lines before the first boundary are skipped
        (b"", b"\r\n" * 10_000),
        (b"", b"epilogue " * 5000),  # after the closing boundary: ignored
    ],
    ids=["crlf-preamble", "crlf-epilogue", "giant-epilogue"],
)
def test_preamble_and_epilogue_that_are_allowed(
    client: TestClient, preamble: bytes, epilogue: bytes
) -> None:
    body = multipart(field("a", "1"), preamble=preamble, epilogue=epilogue)
    response = post(client, body)
    assert (response.status_code, response.json()) == (200, {"a": ["1"]})


def test_limits_are_inclusive(client: TestClient) -> None:
    body = multipart(
        *[field(f"k{i}", "v") for i in range(18)],
        field("big", b"x" * 1024),
        *[file_part(f'filename="{i}"', "x") for i in range(5)],
        part("Content-Disposition: form-data; name=h\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3", "v"),
    )
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert len(response.json()["f"]) == 5


HOSTILE_URLENCODED: dict[str, tuple[bytes, int, str]] = {
    "too-many-fields": (b"&".join(b"k%d=v" % i for i in range(21)), 400, "more than 20"),
    "huge-field": (b"a=" + b"x" * 1023, 413, "exceeds 1024 bytes"),
    "huge-first-field": (b"a=" + b"x" * 2000 + b"&b=1", 413, "exceeds 1024 bytes"),
    "huge-last-field": (b"a=1&b=" + b"x" * 2000, 413, "exceeds 1024 bytes"),
    "huge-name": (b"x" * 2000, 413, "exceeds 1024 bytes"),
    "bad-utf8-value": (b"a=%FF", 400, "Field 'a' is not valid utf-8"),
    "bad-utf8-raw": (b"a=\xff", 400, "Field 'a' is not valid utf-8"),
    "bad-utf8-name": (b"%FF=1", 400, "name is not valid utf-8"),
    "body-too-big": (b"a=1&" * 20_000, 413, "exceeds 65536"),
}


@pytest.mark.parametrize(
    ("body", "status", "detail"), HOSTILE_URLENCODED.values(), ids=HOSTILE_URLENCODED.keys()
)
def test_hostile_urlencoded(client: TestClient, body: bytes, status: int, detail: str) -> None:
    response = post(client, body, URLENCODED)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


def test_urlencoded_unknown_charset(client: TestClient) -> None:
    response = post(client, b"a=1", f"{URLENCODED}; charset=x-nope")
    assert (response.status_code, response.json()["detail"]) == (400, "Unknown charset 'x-nope'")


FLOODS: dict[str, tuple[bytes, str, str]] = {
    "1e5-tiny-fields": (multipart(*[field("a", "b")] * 100_000), MULTIPART, "form fields"),
    "1e5-tiny-files": (multipart(*[file_part('filename="a"', "b")] * 100_000), MULTIPART, "files"),
    "1e5-urlencoded-fields": (b"a=b&" * 100_000, URLENCODED, "form fields"),
}


@pytest.mark.parametrize(("body", "content_type", "detail"), FLOODS.values(), ids=FLOODS.keys())
def test_floods_fail_fast_with_default_limits(
    default_client: TestClient, body: bytes, content_type: str, detail: str
) -> None:
    assert len(body) < Limits().max_body_size  # so the form limits, not the body's, apply
    start = time.perf_counter()
    response = post(default_client, body, content_type)
    elapsed = time.perf_counter() - start
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert elapsed < 2.0


MANY: dict[str, tuple[Callable[[int], bytes], str]] = {
    "multipart": (lambda n: multipart(*[field("a", "b")] * n), MULTIPART),
    "urlencoded": (lambda n: b"a=b&" * n, URLENCODED),
}


@pytest.mark.parametrize(("make_body", "content_type"), MANY.values(), ids=MANY.keys())
def test_many_fields_when_allowed_are_all_parsed(
    client: TestClient, make_body: Callable[[int], bytes], content_type: str
) -> None:
    response = post(client, make_body(25_000), content_type, url="/many")
    assert response.json() == {"fields": 25_000}


async def count_calls(awaitable: Awaitable[T]) -> tuple[int, T]:
    """Await ``awaitable``, counting the Python and builtin calls this thread makes meanwhile:
    a measure of the work done that, unlike a clock, does not depend on the machine's load."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = await awaitable
    finally:
        sys.setprofile(previous)
    return calls, result


@pytest.mark.parametrize(("make_body", "content_type"), MANY.values(), ids=MANY.keys())
def test_many_fields_parse_in_linear_time(
    make_body: Callable[[int], bytes], content_type: str
) -> None:
    app, _ = make_app()

    async def main() -> list[int]:
        counts = []
        async with AsyncTestClient(app) as client:
            await client.post("/many", content=make_body(1), headers={"content-type": content_type})
            for n in (1000, 4000):
                body = make_body(n)
                calls, response = await count_calls(
                    client.post("/many", content=body, headers={"content-type": content_type})
                )
                assert response.json() == {"fields": n}
                counts.append(calls)
        return counts

    small, large = anyio.run(main)
    # Four times the fields is four times the work, give or take; quadratic work is 16 times.
    assert large <= 4 * 1.5 * small, (small, large)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(multipart(field("a", b"x" * 5000)), MULTIPART), (b"a=" + b"x" * 5000, URLENCODED)],
    ids=["multipart", "urlencoded"],
)
def test_per_route_limits(client: TestClient, body: bytes, content_type: str) -> None:
    assert post(client, body, content_type).status_code == 413
    response = post(client, body, content_type, url="/big")
    assert (response.status_code, response.json()) == (200, {"a": 5000})
    too_big = body.replace(b"x" * 5000, b"x" * 9000)
    assert post(client, too_big, content_type, url="/big").status_code == 413


# -- streaming: the same result whatever the chunking --------------------------------------


def call_chunked(app: Kettle, content_type: str, body: bytes, size: int) -> tuple[int, bytes]:
    """POST ``body`` to ``/form`` delivered in ``size``-byte chunks, as a server would."""
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    messages.reverse()
    sent: list[Message] = []

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/form",
        "raw_path": b"/form",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", content_type.encode())],
        "client": ("test", 1),
        "server": ("test", 80),
    }
    anyio.run(app, scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


STREAMED_MULTIPART = multipart(
    field("title", "é" * 100),
    file_part('filename="a.bin"', bytes(range(256)) * 10, "Content-Type: application/x-test"),
    field("title", "two"),
    file_part("filename*=UTF-8''%E2%82%AC", b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n"),
)


@pytest.mark.parametrize("size", [1, 2, 7, 64, 1000, len(STREAMED_MULTIPART)])
def test_multipart_across_chunk_boundaries(client: TestClient, size: int) -> None:
    expected = post(client, STREAMED_MULTIPART).content
    app, _ = make_app()
    assert call_chunked(app, MULTIPART, STREAMED_MULTIPART, size) == (200, expected)


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_urlencoded_across_chunk_boundaries(size: int) -> None:
    app, _ = make_app()
    body = b"a=1&b=%E2%82%AC&a=" + b"x" * 900 + b"&&c"
    status, content = call_chunked(app, URLENCODED, body, size)
    assert status == 200
    assert content.decode() == f'{{"a":["1","{"x" * 900}"],"b":["€"],"c":[""]}}'


@pytest.mark.parametrize("size", [1, 100])
def test_limits_hold_across_chunk_boundaries(size: int) -> None:
    app, _ = make_app()
    status, _ = call_chunked(app, URLENCODED, b"a=" + b"x" * 1500, size)
    assert status == 413
    status, _ = call_chunked(app, MULTIPART, multipart(field("a", b"x" * 1500)), size)
    assert status == 413
    header = multipart(part("Content-Disposition: form-data; name=a; x=" + "y" * 300))
    status, _ = call_chunked(app, MULTIPART, header, size)
    assert status == 400


def test_form_data_close_closes_every_file() -> None:
    async def main() -> list[bool]:
        files = [UploadFile("a"), UploadFile("b")]
        form = FormData([("x", "1"), ("f", files[0]), ("f", files[1])])
        await form.close()
        return [f.file.closed for f in files]

    assert anyio.run(main) == [True, True]


def test_form_data_mapping_api() -> None:
    form = FormData([("a", "1"), ("a", "2"), ("b", "3")])
    assert (form["a"], form.get("b"), form.get("c"), form.getlist("a")) == (
        "1",
        "3",
        None,
        ["1", "2"],
    )
    assert list(form) == ["a", "b"]
    assert form.multi_items() == [("a", "1"), ("a", "2"), ("b", "3")]
