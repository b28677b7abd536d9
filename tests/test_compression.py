"""CompressionMiddleware and GZipMiddleware: the coding chosen, what is never compressed,
streams flushed chunk by chunk, headers corrected, and hostile Accept-Encoding values."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

from kettle import ConfigurationError, Kettle, Response, StreamingResponse
from kettle.middleware import CompressionMiddleware, GZipMiddleware
from kettle.middleware.compression import parse_accept_encoding
from kettle.testing import AsyncTestClient, TestClient

TEXT = "kettle boils water. " * 100  # 2000 bytes
DECODERS: dict[str, Any] = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


def make_app(middleware: type[Any] = CompressionMiddleware, **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.add_middleware(middleware, **options)

    @app.get("/")
    async def index() -> Response:
        return Response(TEXT, media_type="text/plain", headers={"ETag": '"v1"', "Vary": "Cookie"})

    @app.get("/small")
    async def small() -> str:
        return "tiny"

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for number in range(3):
                yield f"chunk {number} " * 50

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/typed/{kind}")
    async def typed(kind: str) -> Response:
        media = {"sse": "text/event-stream", "png": "image/png", "json": "application/json"}
        return Response(TEXT, media_type=media[kind])

    @app.get("/encoded")
    async def encoded() -> Response:
        body = gzip.compress(TEXT.encode())
        return Response(body, headers={"Content-Encoding": "gzip"}, media_type="text/plain")

    @app.get("/partial")
    async def partial() -> Response:
        return Response(TEXT, 206, {"Content-Range": "bytes 0-1999/4000"}, "text/plain")

    @app.get("/cached")
    async def cached() -> Response:
        return Response(status_code=304, headers={"ETag": '"v1"'})

    @app.get("/no-transform")
    async def no_transform() -> Response:
        return Response(TEXT, headers={"Cache-Control": "no-transform"}, media_type="text/plain")

    return app


def call(app: Any, path: str, accept: str | None, method: str = "GET", **extra: str) -> Any:
    """Run one request through the ASGI app; return status, headers and body chunks as sent."""
    headers = [(b"host", b"testserver")]
    if accept is not None:
        headers.append((b"accept-encoding", accept.encode("latin-1")))
    headers += [(k.replace("_", "-").encode(), v.encode()) for k, v in extra.items()]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": None,
    }  # fmt: skip
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    chunks = [m.get("body", b"") for m in sent[1:] if m["type"] == "http.response.body"]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, chunks


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_each_coding_round_trips(coding: str) -> None:
    status, headers, chunks = call(make_app(), "/", coding)
    body = b"".join(chunks)
    assert status == 200
    assert headers["content-encoding"] == coding
    assert headers["content-length"] == str(len(body))
    assert len(body) < len(TEXT)
    assert DECODERS[coding](body) == TEXT.encode()


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip, br, zstd", "br"),  # a tie goes to the server's order
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("gzip;q=0.5, zstd;q=0.9", "zstd"),
        ("GZIP", "gzip"),
        ("gzip, br;q=0", "gzip"),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.2", "gzip"),
        ("*, br;q=0", "zstd"),
        ("deflate", None),
        ("identity", None),
        ("", None),
        (None, None),
        ("gzip;q=0, br;q=0, zstd;q=0", None),
        ("*;q=0", None),
        ("gzip;q=1.000", "gzip"),
        ("gzip ; q=0.3 , br ; q = 0.2", "gzip"),
    ],
)
def test_coding_follows_q_values(accept: str | None, chosen: str | None) -> None:
    _, headers, _ = call(make_app(), "/", accept)
    assert headers.get("content-encoding") == chosen
    assert headers["vary"] == "Cookie, Accept-Encoding"


@pytest.mark.parametrize(
    "accept",
    [
        "gzip;q=abc",
        "gzip;q=1.5",
        "gzip;q=-1",
        "gzip;q=0.0001",
        "gzip;q=",
        "gzip;q=1e0",
        "gzip;q=nan",
        "gzip;q=inf",
        "g zip",
        "gzip\x00",
        ";;;,,,;=;=,",
        "gzip;q=0.5;q=0.9x",
        "gzip, " * 10000,
        "x" * 100_000,
    ],
)
def test_garbage_accept_encoding_is_identity_not_an_error(accept: str) -> None:
    client = TestClient(make_app())
    response = client.get("/", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.text == TEXT


def test_parse_accept_encoding_bounds_its_work() -> None:
    assert parse_accept_encoding("gzip," * 5000) == ({}, True)
    assert parse_accept_encoding("br;q=0.7, gzip;q=0, zstd") == (
        {"br": 0.7, "gzip": 0.0, "zstd": 1.0},
        False,
    )


def test_small_bodies_are_sent_as_they_are_with_vary() -> None:
    status, headers, chunks = call(make_app(), "/small", "gzip")
    assert (status, b"".join(chunks)) == (200, b"tiny")
    assert "content-encoding" not in headers
    assert headers["vary"] == "Accept-Encoding"


def test_identity_refused_compresses_even_small_bodies() -> None:
    _, headers, chunks = call(make_app(), "/small", "gzip, identity;q=0")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(b"".join(chunks)) == b"tiny"


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/typed/sse", {}),
        ("/typed/png", {}),
        ("/encoded", {}),
        ("/partial", {}),
        ("/no-transform", {}),
        ("/", {"range": "bytes=0-10"}),
    ],
)
def test_never_compressed(path: str, extra: dict[str, str]) -> None:
    status, headers, chunks = call(make_app(), path, "gzip, br, zstd", **extra)
    assert status == (206 if path == "/partial" else 200)
    assert headers.get("content-encoding") in (None, "gzip")
    if path == "/encoded":
        assert gzip.decompress(b"".join(chunks)) == TEXT.encode()  # not compressed twice
    else:
        assert b"".join(chunks) == TEXT.encode()


def test_not_modified_keeps_vary() -> None:
    status, headers, chunks = call(make_app(), "/cached", "gzip")
    assert (status, headers["vary"], headers["etag"]) == (304, "Accept-Encoding", '"v1"')
    assert "content-encoding" not in headers
    assert b"".join(chunks) == b""


def test_json_is_compressed() -> None:
    _, headers, _ = call(make_app(), "/typed/json", "gzip")
    assert headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_streams_are_compressed_and_flushed_chunk_by_chunk(coding: str) -> None:
    status, headers, chunks = call(make_app(), "/stream", coding)
    assert status == 200
    assert headers["content-encoding"] == coding
    assert "content-length" not in headers
    parts = [chunk for chunk in chunks if chunk]
    assert len(parts) >= 3
    # Each chunk, as it arrives, decodes to its own text: nothing waits in the compressor.
    if coding == "gzip":
        decoder: Any = zlib.decompressobj(31)
        feed = decoder.decompress
    elif coding == "br":
        decoder = brotli.Decompressor()
        feed = decoder.process
    else:
        decoder = zstandard.ZstdDecompressor().decompressobj()
        feed = decoder.decompress
    for number, part in enumerate(parts[:3]):
        assert feed(part) == f"chunk {number} ".encode() * 50


def test_head_has_no_body_and_no_false_length() -> None:
    client = TestClient(make_app())
    response = client.head("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    small = client.head("/small", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert small.headers["content-length"] == "4"


def test_strong_etag_becomes_weak() -> None:
    _, headers, _ = call(make_app(), "/", "gzip")
    assert headers["etag"] == 'W/"v1"'
    _, plain, _ = call(make_app(), "/", "identity")
    assert plain["etag"] == '"v1"'


def test_gzip_middleware_uses_only_gzip_and_starlette_names() -> None:
    app = make_app(GZipMiddleware, minimum_size=10, compresslevel=1)
    _, headers, chunks = call(app, "/", "br, zstd, gzip;q=0.1")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(b"".join(chunks)) == TEXT.encode()
    _, headers, _ = call(app, "/", "br")
    assert "content-encoding" not in headers


def test_through_the_test_client() -> None:
    response = TestClient(make_app()).get("/", headers={"Accept-Encoding": "zstd"})
    assert response.headers["content-encoding"] == "zstd"
    assert response.text == TEXT


def test_compressors_are_not_shared_between_responses() -> None:
    app = make_app(encodings=["gzip"])

    async def both() -> list[str]:
        async with AsyncTestClient(app) as client:
            responses = await asyncio.gather(
                *(client.get(path, headers={"Accept-Encoding": "gzip"}) for path in ["/stream"] * 4)
            )
        return [r.text for r in responses]

    expected = "".join(f"chunk {n} " * 50 for n in range(3))
    assert asyncio.run(both()) == [expected] * 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"minimum_size": -1}, "minimum_size"),
        ({"encodings": ["deflate"]}, "unknown encodings"),
        ({"encodings": "gzip"}, "non-empty list"),
        ({"encodings": []}, "non-empty list"),
        ({"gzip_level": 10}, "gzip_level"),
        ({"brotli_quality": 12}, "brotli_quality"),
        ({"zstd_level": 0}, "zstd_level"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CompressionMiddleware(Kettle(__name__), **options)


def test_not_in_the_default_stack() -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> str:
        return TEXT

    response = TestClient(app).get("/", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_import_kettle_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kettle, kettle.middleware; "
        "print(sorted(m for m in ('brotli', 'zstandard', 'kettle.middleware.compression', "
        "'kettle.middleware.cors', 'kettle.middleware.proxy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
