"""The Flask half in real apps: static files from app folders, validators, and the
hostile paths that must never leave the folder.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import asgi_get, write

from kettle import Kettle, url_for
from kettle.testing import TestClient


@pytest.fixture
def static_site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    static = root / "static"
    write(static / "css" / "site.css", "body { margin: 0 }")
    write(static / "app.js.gz", "compressed bytes")
    write(static / "both.js", "plain")
    write(static / "both.js.gz", "gzipped")
    write(static / "nul.txt", "a device name on Windows")
    write(static / "CON", "a device name on Windows")
    write(static / "sub" / "aux.css", "a device name on Windows")
    write(static / "%2e%2e" / "literal.txt", "a folder really named %2e%2e")
    write(root / "app.py", "SECRET = 'source code'")
    write(root / "static1" / "sibling.txt", "sibling folder")
    write(tmp_path / "outside.txt", "outside the app")
    (static / "out.txt").symlink_to(tmp_path / "outside.txt")
    (static / "updir").symlink_to(root)
    (static / "sibling.txt").symlink_to(root / "static1" / "sibling.txt")
    (static / "inside.css").symlink_to(static / "css" / "site.css")
    return root


class TestStaticFiles:
    def test_validators_and_conditional_get(self, static_site: Path) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        client = TestClient(app)
        css = "/static/css/site.css"
        response = client.get(css)
        assert response.status_code == 200
        assert response.text == "body { margin: 0 }"
        assert response.headers["content-type"] == "text/css; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        etag, modified = response.headers["etag"], response.headers["last-modified"]
        assert client.get(css, headers={"if-none-match": etag}).status_code == 304
        assert client.get(css, headers={"if-modified-since": modified}).status_code == 304
        assert client.get(css, headers={"if-none-match": '"other"'}).status_code == 200
        ranged = client.get(css, headers={"range": "bytes=0-3"})
        assert (ranged.status_code, ranged.text) == (206, "body")
        head = client.head(css)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len("body { margin: 0 }"))
        assert client.post(css).status_code == 405
        with app.app_context():
            app.config["SERVER_NAME"] = "cdn.example"
            assert url_for("static", filename="css/site.css") == (
                "http://cdn.example/static/css/site.css"
            )

    @pytest.mark.parametrize(
        ("max_age", "cache_control"),
        [
            (3600, "public, max-age=3600"),
            (timedelta(days=1), "public, max-age=86400"),
            (0, "no-cache"),
        ],
    )
    def test_max_age_from_config_even_after_the_first_request(
        self, static_site: Path, max_age: Any, cache_control: str
    ) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        client = TestClient(app)
        assert client.get("/static/css/site.css").headers["cache-control"] == "no-cache"
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age
        assert client.get("/static/css/site.css").headers["cache-control"] == cache_control

    def test_custom_folder_and_url(self, static_site: Path) -> None:
        write(static_site / "assets" / "logo.svg", "<svg/>")
        app = Kettle(
            __name__, root_path=str(static_site), static_folder="assets", static_url_path="/a"
        )
        client = TestClient(app)
        assert client.get("/a/logo.svg").text == "<svg/>"
        assert client.get("/static/css/site.css").status_code == 404
        with app.test_request_context():
            assert url_for("static", filename="logo.svg") == "/a/logo.svg"

    def test_no_folder_no_route(self, tmp_path: Path) -> None:
        app = Kettle(__name__, root_path=str(tmp_path))
        assert TestClient(app).get("/static/x.css").status_code == 404
        assert "static" not in [route.name for route in app.compiled_routes]

    @pytest.mark.parametrize(
        "path",
        [
            # as the server hands the path over (percent-decoding already done)
            "/static/../app.py",
            "/static/css/../../app.py",
            "/static/..",
            "/static/../static1/sibling.txt",
            "/static/..\\app.py",
            "/static/css\\..\\..\\app.py",
            "/static//etc/passwd",
            "/static/c:/windows/win.ini",
            "/static/C:\\windows\\win.ini",
            "/static/\\\\host\\share\\app.py",
            "/static/site.css\x00.png",
            "/static/css/site.css\x00",
            # symlinks that point out of the folder, the sibling 'static1' included
            "/static/out.txt",
            "/static/updir/app.py",
            "/static/sibling.txt",
            # Windows device names, with extensions and inside folders
            "/static/nul.txt",
            "/static/CON",
            "/static/con/x",
            "/static/sub/aux.css",
            "/static/LPT1.txt",
            "/static/COM9",
            # folders are not listed
            "/static/",
            "/static/css",
            "/static/css/",
            # compressed variants are files of their own, never substitutes
            "/static/app.js",
            "/static/site.css.gz",
        ],
    )
    def test_refused_raw_paths(self, static_site: Path, path: str) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        status, _, body = asgi_get(app, path, [(b"accept-encoding", b"gzip, br")])
        assert status == 404, path
        assert b"source code" not in body
        assert b"outside" not in body

    @pytest.mark.parametrize(
        "url",
        [
            "/static/%2e%2e/app.py",
            "/static/%2E%2E/app.py",
            "/static/..%2fapp.py",
            "/static/..%2Fapp.py",
            "/static/css%2f..%2f..%2fapp.py",
            "/static/%2e%2e%2fstatic1%2fsibling.txt",
            "/static/..%5capp.py",
            "/static/%5c%5chost%5cshare%5capp.py",
            "/static/c%3a%5cwindows%5cwin.ini",
            "/static/%2fetc%2fpasswd",
            "/static/site.css%00.png",
            "/static/nul.txt",
            "/static/%4eUL.txt",
        ],
    )
    def test_refused_encoded_urls(self, static_site: Path, url: str) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        response = TestClient(app).get(url)
        assert response.status_code == 404, url
        assert "source code" not in response.text

    def test_double_encoding_is_a_literal_name(self, static_site: Path) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        client = TestClient(app)
        assert client.get("/static/%252e%252e/literal.txt").text == "a folder really named %2e%2e"
        assert client.get("/static/%252e%252e/app.py").status_code == 404

    def test_symlink_inside_the_folder_is_served(self, static_site: Path) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        assert TestClient(app).get("/static/inside.css").text == "body { margin: 0 }"

    @pytest.mark.parametrize("accept_encoding", [None, "gzip", "gzip, br"])
    def test_compressed_variants(self, static_site: Path, accept_encoding: str | None) -> None:
        app = Kettle(__name__, root_path=str(static_site))
        client = TestClient(app)
        headers = {"accept-encoding": accept_encoding} if accept_encoding else {}
        plain = client.get("/static/both.js", headers=headers)
        assert plain.content == b"plain"
        assert "content-encoding" not in plain.headers
        assert plain.headers["content-type"].startswith("text/javascript")
        gz = client.get("/static/app.js.gz", headers=headers)
        assert gz.content == b"compressed bytes"
        assert gz.headers["content-type"] == "application/gzip"
        assert "content-encoding" not in gz.headers
