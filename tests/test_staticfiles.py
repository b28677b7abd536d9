"""Static files: served from their folder only, with validators and cache headers."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, Request
from kettle.exceptions import HTTPException
from kettle.responses import Response
from kettle.staticfiles import cache_control, serve_static, static_endpoint
from kettle.testing import TestClient

CSS = b"body { color: red }\n"


@pytest.fixture
def static(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_bytes(CSS)
    (root / "app.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    (root / "both.css").write_bytes(CSS)
    (root / "both.css.gz").write_bytes(gzip.compress(CSS))
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (tmp_path / "static1").mkdir()
    (tmp_path / "static1" / "x.css").write_bytes(b"sibling")
    (root / "out").symlink_to(tmp_path / "secret.txt")
    (root / "sibling").symlink_to(tmp_path / "static1")
    return root


def client(static: Path, max_age: Any = None) -> TestClient:
    app = Kettle(__name__)
    app.add_route("/static/{filename:path}", static_endpoint(static, max_age), name="static")
    return TestClient(app)


class TestServing:
    def test_file_with_validators(self, static: Path) -> None:
        c = client(static)
        r = c.get("/static/css/site.css")
        assert r.status_code == 200
        assert r.content == CSS
        assert r.headers["content-type"] == "text/css; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert "content-disposition" not in r.headers
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        assert c.get("/static/css/site.css", headers={"If-None-Match": etag}).status_code == 304
        since = c.get("/static/css/site.css", headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        assert since.content == b""
        ranged = c.get("/static/css/site.css", headers={"Range": "bytes=0-3"})
        assert ranged.status_code == 206
        assert ranged.content == b"body"

    def test_head(self, static: Path) -> None:
        r = client(static).head("/static/css/site.css")
        assert r.status_code == 200
        assert r.content == b""
        assert r.headers["content-length"] == str(len(CSS))

    @pytest.mark.parametrize(
        ("max_age", "header"),
        [
            (None, "no-cache"),
            (0, "no-cache"),
            (3600, "public, max-age=3600"),
            (timedelta(days=1), "public, max-age=86400"),
            (lambda: 60, "public, max-age=60"),
        ],
    )
    def test_cache_control(self, static: Path, max_age: Any, header: str) -> None:
        r = client(static, max_age).get("/static/css/site.css")
        assert r.headers["cache-control"] == header

    def test_cache_control_helper(self) -> None:
        assert cache_control(-5) == "no-cache"

    def test_other_methods(self, static: Path) -> None:
        r = client(static).post("/static/css/site.css")
        assert r.status_code == 405
        assert "GET" in r.headers["allow"]


class TestCompressedVariants:
    def test_gz_is_served_as_gzip_bytes_not_as_javascript(self, static: Path) -> None:
        r = client(static).get("/static/app.js.gz", headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/gzip"
        assert "content-encoding" not in r.headers
        assert r.content == (static / "app.js.gz").read_bytes()

    def test_uncompressed_name_never_gets_the_gz_file(self, static: Path) -> None:
        c = client(static)
        assert c.get("/static/app.js").status_code == 404
        r = c.get("/static/both.css", headers={"Accept-Encoding": "gzip"})
        assert r.content == CSS
        assert "content-encoding" not in r.headers


class TestOutsideTheRoot:
    @pytest.mark.parametrize(
        "url",
        [
            "/static/css",
            "/static/css/",
            "/static/missing.css",
            "/static/%2e%2e/secret.txt",
            "/static/..%2fsecret.txt",
            "/static/..%5csecret.txt",
            "/static/%5c%5chost%5cshare",
            "/static/%2fetc%2fpasswd",
            "/static/c%3a%5cboot.ini",
            "/static/con",
            "/static/NUL.css",
            "/static/lpt1/site.css",
            "/static/out",
            "/static/sibling/x.css",
            "/static/..%2fstatic1%2fx.css",
            "/static/css/site.css%00",
            # A file URL with a trailing slash names a folder: one file, one URL.
            "/static/css/site.css/",
            "/static/css/site.css//",
        ],
    )
    def test_404(self, static: Path, url: str) -> None:
        r = client(static).get(url)
        assert r.status_code == 404
        assert b"secret" not in r.content
        assert b"sibling" not in r.content


class TestServeStatic:
    def scope(self, method: str) -> Request:
        return Request({"type": "http", "method": method, "path": "/", "headers": []})

    def test_method_check_with_a_request(self, static: Path) -> None:
        with pytest.raises(HTTPException) as info:
            serve_static(static, "css/site.css", self.scope("DELETE"))
        assert info.value.status_code == 405
        assert info.value.headers == {"Allow": "GET, HEAD"}
        for method in ("GET", "HEAD"):
            assert isinstance(serve_static(static, "css/site.css", self.scope(method)), Response)

    @pytest.mark.parametrize("path", ["../secret.txt", "css", "nope", "out", "a\x00b"])
    def test_refusals_are_404(self, static: Path, path: str) -> None:
        with pytest.raises(HTTPException) as info:
            serve_static(static, path)
        assert info.value.status_code == 404

    def test_url_for_static(self, static: Path) -> None:
        app = Kettle(__name__)
        app.add_route("/static/{filename:path}", static_endpoint(static), name="static")
        assert app.url_path_for("static", filename="css/site.css") == "/static/css/site.css"
