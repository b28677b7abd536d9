"""Flask helpers: safe_join and sending files, redirects, responses, flashing, streaming."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import pytest

from kettle import Kettle, StreamingResponse
from kettle.config import DEFAULT_CONFIG, Config
from kettle.exceptions import HTTPException
from kettle.globals import AppContext, RequestContext, g, request
from kettle.helpers import (
    build_url,
    flash,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    safe_join,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
)
from kettle.requests import Request
from kettle.responses import HTMLResponse, JSONResponse, Response
from kettle.sessions import SecureCookieSessionInterface
from kettle.testing import TestClient

SECRET = b"top secret\n"
PUBLIC = b"public file\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``static/`` with files, a sibling ``static1/`` and a secret next to both.

    tmp/
      secret.txt
      static1/secret.txt          sibling sharing the prefix "static"
      static/
        public.txt  sub/inner.txt  ...  (weird but legal names)
        link_out -> ../secret.txt         symlink leaving the root
        link_sibling -> ../static1        symlink into the sibling
        link_in -> public.txt             symlink staying inside
    """
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "static1").mkdir()
    (tmp_path / "static1" / "secret.txt").write_bytes(SECRET)
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "public.txt").write_bytes(PUBLIC)
    (static / "sub" / "inner.txt").write_bytes(b"inner\n")
    (static / "%2e%2e").mkdir()
    (static / "%2e%2e" / "secret.txt").write_bytes(b"literal name\n")
    (static / "...").write_bytes(b"three dots\n")
    (static / "link_out").symlink_to(tmp_path / "secret.txt")
    (static / "link_sibling").symlink_to(tmp_path / "static1")
    (static / "link_in").symlink_to(static / "public.txt")
    return static


# Every name from HOSTILE-INPUTS item 1 that safe_join must refuse, as it arrives after
# the server decoded the URL once.
REFUSED = [
    "..",
    "../secret.txt",
    "sub/../../secret.txt",
    "./../secret.txt",
    "../static1/secret.txt",
    "/etc/passwd",
    "//etc/passwd",
    "\\..\\secret.txt",
    "..\\secret.txt",
    "sub\\inner.txt",
    "c:\\windows\\win.ini",
    "c:/windows/win.ini",
    "C:",
    "\\\\host\\share\\x",
    "//host/share/x",
    "CON",
    "con",
    "NUL.txt",
    "nul.tar.gz",
    "AUX",
    "aux.html",
    "PRN",
    "COM1",
    "com9.log",
    "LPT1",
    "lpt9.txt",
    "COM\u00b9",
    "CONIN$",
    "sub/CON",
    "sub/con.txt/x",
    "CON /x",
    "a\x00b",
    "public.txt\x00.png",
    "sub/\nx",
    "link_out",
    "link_sibling/secret.txt",
]

ALLOWED = {
    "public.txt": "public.txt",
    "sub/inner.txt": "sub/inner.txt",
    "sub//inner.txt": "sub/inner.txt",
    "./sub/./inner.txt": "sub/inner.txt",
    "%2e%2e/secret.txt": "%2e%2e/secret.txt",  # a literal name: never decoded twice
    "...": "...",
    "console.txt": "console.txt",  # only exact device names are refused
    "missing.txt": "missing.txt",  # existence is the caller's business
    "": "",
}


class TestSafeJoin:
    @pytest.mark.parametrize("name", REFUSED)
    def test_refused(self, tree: Path, name: str) -> None:
        assert safe_join(tree, name) is None

    @pytest.mark.parametrize(("name", "inside"), ALLOWED.items())
    def test_allowed(self, tree: Path, name: str, inside: str) -> None:
        expected = os.path.realpath(tree / inside) if inside else os.path.realpath(tree)
        assert safe_join(tree, name) == expected

    def test_symlink_inside_resolves_to_its_target(self, tree: Path) -> None:
        assert safe_join(tree, "link_in") == os.path.realpath(tree / "public.txt")

    def test_root_given_through_a_symlink_or_with_a_slash(self, tree: Path) -> None:
        alias = tree.parent / "alias"
        alias.symlink_to(tree)
        assert safe_join(alias, "public.txt") == str(tree / "public.txt")
        assert safe_join(str(tree) + "/", "public.txt") == str(tree / "public.txt")
        assert safe_join(alias, "../secret.txt") is None

    def test_sibling_prefix_is_not_inside(self, tree: Path) -> None:
        # realpath("static/link_sibling") is ".../static1", which starts with ".../static".
        assert safe_join(tree, "link_sibling") is None

    def test_several_parts(self, tree: Path) -> None:
        assert safe_join(tree, "sub", "inner.txt") == str(tree / "sub" / "inner.txt")
        assert safe_join(tree, "sub", "../../secret.txt") is None
        assert safe_join(tree, "sub", "/etc") is None

    def test_only_strings(self, tree: Path) -> None:
        with pytest.raises(TypeError):
            safe_join(tree, b"public.txt")  # type: ignore[arg-type]


def client_for(root: Path, **kwargs: Any) -> TestClient:
    app = Kettle(__name__)

    @app.get("/files/{name:path}")
    def files(name: str) -> Response:
        return send_from_directory(root, name, **kwargs)

    return TestClient(app)


class TestSendFromDirectory:
    def test_serves_files_with_validators(self, tree: Path) -> None:
        client = client_for(tree)
        response = client.get("/files/public.txt")
        assert response.status_code == 200
        assert response.content == PUBLIC
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "etag" in response.headers
        assert "last-modified" in response.headers
        assert response.headers["cache-control"] == "no-cache"
        assert "content-disposition" not in response.headers
        again = client.get("/files/public.txt", headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert client.get("/files/sub/inner.txt").content == b"inner\n"
        head = client.head("/files/public.txt")
        assert head.status_code == 200
        assert head.content == b""

    @pytest.mark.parametrize(
        "url",
        [
            "/files/%2e%2e/secret.txt",
            "/files/%2E%2E/secret.txt",
            "/files/..%2fsecret.txt",
            "/files/sub/..%2f..%2fsecret.txt",
            "/files/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/files/%2fetc%2fpasswd",
            "/files//etc/passwd",
            "/files/%5c..%5csecret.txt",
            "/files/..%5csecret.txt",
            "/files/c%3a%5cwindows%5cwin.ini",
            "/files/%5c%5chost%5cshare",
            "/files/CON",
            "/files/nul.txt",
            "/files/AUX/public.txt",
            "/files/com1.log",
            "/files/public.txt%00.png",
            "/files/link_out",
            "/files/link_sibling/secret.txt",
            "/files/..%2fstatic1%2fsecret.txt",
            "/files/sub",
            "/files/sub/",
            "/files/missing.txt",
        ],
    )
    def test_hostile_and_missing_names_are_404(self, tree: Path, url: str) -> None:
        response = client_for(tree).get(url)
        assert response.status_code == 404
        assert SECRET not in response.content

    def test_double_encoding_is_a_literal_name(self, tree: Path) -> None:
        response = client_for(tree).get("/files/%252e%252e/secret.txt")
        assert response.status_code == 200
        assert response.content == b"literal name\n"

    def test_symlink_inside_the_root_is_served(self, tree: Path) -> None:
        assert client_for(tree).get("/files/link_in").content == PUBLIC

    def test_relative_directory_uses_the_app_root(self, tree: Path) -> None:
        class App:
            root_path = str(tree.parent)
            config: ClassVar[dict[str, Any]] = {}

        with AppContext(App()):
            response = send_from_directory("static", "public.txt")
        assert isinstance(response, Response)
        with pytest.raises(HTTPException) as info:
            send_from_directory(tree, "../secret.txt")
        assert info.value.status_code == 404

    def test_options_reach_send_file(self, tree: Path) -> None:
        response = client_for(tree, as_attachment=True, max_age=60).get("/files/public.txt")
        assert response.headers["content-disposition"] == 'attachment; filename="public.txt"'
        assert response.headers["cache-control"] == "public, max-age=60"


class TestSendFile:
    def serve(self, **kwargs: Any) -> TestClient:
        app = Kettle(__name__)

        @app.get("/f")
        def f() -> Response:
            return send_file(**kwargs)

        return TestClient(app)

    def test_download_name_and_type(self, tree: Path) -> None:
        path = tree / "public.txt"
        r = self.serve(path_or_file=path, download_name="report.csv").get("/f")
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == 'inline; filename="report.csv"'
        r = self.serve(path_or_file=path, mimetype="application/x-custom").get("/f")
        assert r.headers["content-type"] == "application/x-custom"

    def test_conditional_off_ignores_validators_and_ranges(self, tree: Path) -> None:
        client = self.serve(path_or_file=tree / "public.txt", conditional=False)
        first = client.get("/f")
        assert "accept-ranges" not in first.headers
        r = client.get("/f", headers={"If-None-Match": first.headers["etag"], "Range": "bytes=0-1"})
        assert r.status_code == 200
        assert r.content == PUBLIC

    def test_ranges_when_conditional(self, tree: Path) -> None:
        r = self.serve(path_or_file=tree / "public.txt").get("/f", headers={"Range": "bytes=0-5"})
        assert r.status_code == 206
        assert r.content == b"public"

    def test_etag_options(self, tree: Path) -> None:
        path = tree / "public.txt"
        assert "etag" not in self.serve(path_or_file=path, etag=False).get("/f").headers
        assert self.serve(path_or_file=path, etag="v1").get("/f").headers["etag"] == '"v1"'
        assert self.serve(path_or_file=path, etag='W/"v2"').get("/f").headers["etag"] == 'W/"v2"'

    @pytest.mark.parametrize(
        "value",
        [
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            datetime(2024, 1, 2, 3, 4, 5),  # naive: taken as UTC
            1704164645,
            1704164645.0,
        ],
    )
    def test_last_modified(self, tree: Path, value: Any) -> None:
        r = self.serve(path_or_file=tree / "public.txt", last_modified=value).get("/f")
        assert r.headers["last-modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"

    @pytest.mark.parametrize(
        ("max_age", "config", "expected"),
        [
            (None, None, "no-cache"),
            (3600, None, "public, max-age=3600"),
            (timedelta(minutes=1), None, "public, max-age=60"),
            (0, None, "no-cache, max-age=0"),
            (lambda path: 5, None, "public, max-age=5"),
            (None, 120, "public, max-age=120"),
            (None, timedelta(hours=1), "public, max-age=3600"),
            (10, 120, "public, max-age=10"),
        ],
    )
    def test_max_age(self, tree: Path, max_age: Any, config: Any, expected: str) -> None:
        class App:
            root_path = str(tree)

            def __init__(self) -> None:
                self.config = Config(".", DEFAULT_CONFIG)
                self.config["SEND_FILE_MAX_AGE_DEFAULT"] = config

        with AppContext(App()):
            response = send_file("public.txt", max_age=max_age)  # relative to root_path
        assert response.headers["cache-control"] == expected

    def test_bytes_io(self) -> None:
        r = self.serve(
            path_or_file=io.BytesIO(b"a,b\n"), download_name="x.csv", as_attachment=True
        ).get("/f")
        assert r.content == b"a,b\n"
        assert r.headers["content-length"] == "4"
        assert r.headers["content-disposition"] == 'attachment; filename="x.csv"'

    def test_open_file_is_streamed_and_closed(self, tree: Path) -> None:
        file = (tree / "public.txt").open("rb")
        response = send_file(file, mimetype="text/plain")
        assert isinstance(response, StreamingResponse)
        assert response.headers["content-length"] == str(len(PUBLIC))
        app = Kettle(__name__)

        @app.get("/f")
        async def f() -> Response:
            return response

        assert TestClient(app).get("/f").content == PUBLIC
        assert file.closed

    def test_unsized_file_object(self) -> None:
        class Pipe(io.RawIOBase):
            def __init__(self) -> None:
                self.chunks = [b"ab", b"cd"]

            def readable(self) -> bool:
                return True

            def read(self, size: int = -1) -> bytes:
                return self.chunks.pop(0) if self.chunks else b""

        response = send_file(Pipe(), mimetype="application/octet-stream")  # type: ignore[arg-type]
        assert "content-length" not in response.headers

    def test_file_objects_need_binary_mode_and_a_type(self, tree: Path) -> None:
        with pytest.raises(ValueError, match="binary mode"):
            send_file(io.StringIO("x"), mimetype="text/plain")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="MIME type"):
            send_file(io.BytesIO(b"x"))


class TestRedirect:
    @pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
    def test_status_and_body(self, code: int) -> None:
        response = redirect('/next?a="1"&b=<2>', code)
        assert response.status_code == code
        location = response.headers["location"]
        assert location == "/next?a=%221%22&b=%3C2%3E"
        assert 'href="/next?a=%221%22&amp;b=%3C2%3E"' in response.body.decode()
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-length"] == str(len(response.body))

    @pytest.mark.parametrize(
        ("target", "location"),
        [
            ("/a\r\nSet-Cookie: x=1", "/a%0D%0ASet-Cookie:%20x=1"),
            ("/a\nLocation: //evil", "/a%0ALocation:%20//evil"),
            ("/\\evil.com", "/%5Cevil.com"),  # a browser would read /\ as //
            ("https://example.com/é", "https://example.com/%C3%A9"),
        ],
    )
    def test_location_cannot_inject(self, target: str, location: str) -> None:
        response = redirect(target)
        assert response.headers["location"] == location
        assert [k for k, _ in response.raw_headers].count(b"location") == 1
        assert b"set-cookie" not in dict(response.raw_headers)

    def test_through_the_app(self) -> None:
        app = Kettle(__name__)

        @app.get("/old")
        async def old() -> Response:
            return redirect("/new")

        r = TestClient(app, follow_redirects=False).get("/old")
        assert r.status_code == 302
        assert r.headers["location"] == "/new"


class TestResponses:
    def test_make_response(self) -> None:
        empty = make_response()
        assert empty.status_code == 200
        assert empty.body == b""
        html = make_response("<p>x</p>")
        assert isinstance(html, HTMLResponse)
        made = make_response("created", 201, {"X-A": "1"})
        assert made.status_code == 201
        assert made.headers["x-a"] == "1"
        data = make_response({"a": 1})
        assert isinstance(data, JSONResponse)
        assert data.body == b'{"a":1}'
        existing = Response("r")
        assert make_response(existing) is existing

    def test_make_response_from_generators(self) -> None:
        def pieces() -> Iterator[str]:
            yield "a"

        streamed = make_response(pieces())
        assert isinstance(streamed, StreamingResponse)
        with_status = make_response(pieces(), 202, {"X-B": "2"})
        assert isinstance(with_status, StreamingResponse)
        assert with_status.status_code == 202
        assert with_status.headers["x-b"] == "2"

    @pytest.mark.parametrize(
        ("args", "kwargs", "body"),
        [
            (({"a": 1},), {}, b'{"a":1}\n'),
            ((1, 2), {}, b"[1,2]\n"),
            ((), {"user": "ada"}, b'{"user":"ada"}\n'),
            ((), {}, b"{}\n"),
            (([1],), {}, b"[1]\n"),
            ((None,), {}, b"null\n"),
        ],
    )
    def test_jsonify(self, args: tuple[Any, ...], kwargs: dict[str, Any], body: bytes) -> None:
        response = jsonify(*args, **kwargs)
        assert response.body == body
        assert response.headers["content-type"] == "application/json"

    def test_jsonify_refuses_both(self) -> None:
        with pytest.raises(TypeError):
            jsonify(1, a=2)


class TestUrls:
    @pytest.mark.parametrize(
        ("kwargs", "url"),
        [
            ({"path": "/a"}, "/a"),
            ({"path": "/a", "query": {"q": "x y", "n": 1}}, "/a?q=x+y&n=1"),
            ({"path": "/a", "query": {"t": ["1", None, "2"], "skip": None}}, "/a?t=1&t=2"),
            ({"path": "/a", "query": {"skip": None}}, "/a"),
            ({"path": "/a", "anchor": "sec 1"}, "/a#sec%201"),
            ({"path": "/a", "base_url": "https://h.test/root/"}, "https://h.test/root/a"),
        ],
    )
    def test_build_url(self, kwargs: dict[str, Any], url: str) -> None:
        assert build_url(**kwargs) == url

    def test_url_for_delegates_to_the_app(self) -> None:
        class App:
            config: ClassVar[dict[str, Any]] = {}

            def url_for(self, endpoint: str, **values: Any) -> str:
                return f"{endpoint}:{sorted(values.items())}"

        with AppContext(App()):
            assert url_for("item", id=1, _external=True) == "item:[('_external', True), ('id', 1)]"


class FlashApp:
    def __init__(self) -> None:
        self.config = Config(".", DEFAULT_CONFIG)
        self.config["SECRET_KEY"] = "flash-secret"
        self.session_interface = SecureCookieSessionInterface()


def make_request(cookie: str | None = None) -> Request:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


class TestFlash:
    def test_round_trip_through_the_session_cookie(self) -> None:
        app = FlashApp()
        response = Response("")
        with RequestContext(app, make_request()) as ctx:
            flash("saved")
            flash("careful", "warning")
            flash("failed", "error")
            ctx.save_session(response)
        cookie = response.headers["set-cookie"].split(";", 1)[0]

        consumed = Response("")
        with RequestContext(app, make_request(cookie)) as ctx:
            assert get_flashed_messages() == ["saved", "careful", "failed"]
            # Every call in the same request sees the same messages.
            assert get_flashed_messages(with_categories=True) == [
                ("message", "saved"),
                ("warning", "careful"),
                ("error", "failed"),
            ]
            assert get_flashed_messages(category_filter=["error", "warning"]) == [
                "careful",
                "failed",
            ]
            assert get_flashed_messages(True, ["error"]) == [("error", "failed")]
            ctx.save_session(consumed)
        # Shown once: the session without them is sent back (emptied: cookie deleted).
        assert "Max-Age=0" in consumed.headers["set-cookie"]
        assert consumed.headers["vary"] == "Cookie"

    def test_no_flashes(self) -> None:
        with RequestContext(FlashApp(), make_request()):
            assert get_flashed_messages() == []

    def test_no_secret_key(self) -> None:
        app = FlashApp()
        app.config["SECRET_KEY"] = None
        with RequestContext(app, make_request()):
            assert get_flashed_messages() == []
            with pytest.raises(RuntimeError, match="secret key"):
                flash("lost")

    def test_outside_a_request(self) -> None:
        with pytest.raises(RuntimeError, match="request context"):
            get_flashed_messages()

    def test_flash_across_requests_through_the_app(self) -> None:
        app: Any = Kettle(__name__)
        app.config["SECRET_KEY"] = "s"

        @app.post("/save")
        def save() -> Response:
            flash("saved", "info")
            return redirect("/show")

        @app.get("/show")
        def show() -> dict[str, Any]:
            return {"messages": get_flashed_messages(with_categories=True)}

        client = TestClient(app, follow_redirects=False)
        saved = client.post("/save")
        assert saved.status_code == 302
        assert saved.headers["vary"] == "Cookie"
        assert client.get("/show").json() == {"messages": [["info", "saved"]]}
        assert client.get("/show").json() == {"messages": []}


class TestStreamWithContext:
    def app_ctx(self) -> RequestContext:
        class App:
            config: ClassVar[dict[str, Any]] = {}

        return RequestContext(App(), Request({"type": "http", "path": "/s", "headers": []}))

    def test_sync_generator_runs_in_the_request_context(self) -> None:
        closed: list[bool] = []

        def pieces() -> Iterator[str]:
            try:
                yield request.path
                yield g.tag
            finally:
                closed.append(True)

        with self.app_ctx():
            g.tag = "tagged"
            stream = stream_with_context(pieces())
        assert list(stream) == ["/s", "tagged"]
        assert closed == [True]

    def test_early_close_closes_the_generator_in_context(self) -> None:
        seen: list[str] = []

        def pieces() -> Iterator[int]:
            try:
                yield 1
                yield 2
            finally:
                seen.append(request.path)

        with self.app_ctx():
            stream = stream_with_context(pieces())
        assert next(stream) == 1
        stream.close()  # type: ignore[attr-defined]
        assert seen == ["/s"]

    def test_plain_iterable(self) -> None:
        with self.app_ctx():
            assert list(stream_with_context(["a", "b"])) == ["a", "b"]

    def test_async_generator_and_decorator(self) -> None:
        async def pieces() -> AsyncIterator[str]:
            yield request.path
            await anyio.lowlevel.checkpoint()
            yield g.tag

        @stream_with_context
        def decorated(n: int) -> Iterator[str]:
            yield f"{request.path}:{n}"

        with self.app_ctx():
            g.tag = "async"
            stream = stream_with_context(pieces())
            later = decorated(3)
        assert decorated.__name__ == "decorated"

        async def drain() -> list[str]:
            return [piece async for piece in stream]

        assert anyio.run(drain) == ["/s", "async"]
        assert list(later) == ["/s:3"]

    def test_async_generator_closed_early(self) -> None:
        closed: list[str] = []

        async def pieces() -> AsyncIterator[int]:
            try:
                yield 1
                yield 2
            finally:
                closed.append(request.path)

        with self.app_ctx():
            stream = stream_with_context(pieces())

        async def first() -> int:
            value = await stream.__anext__()
            await stream.aclose()  # type: ignore[attr-defined]
            return value

        assert anyio.run(first) == 1
        assert closed == ["/s"]

    def test_through_a_streaming_response(self) -> None:
        app = Kettle(__name__)

        @app.get("/stream")
        async def stream() -> StreamingResponse:
            # Stands in for dispatch: the context is gone before the body is produced.
            with self.app_ctx():

                def body() -> Iterator[str]:
                    yield request.path

                pieces = stream_with_context(body())
            return StreamingResponse(pieces)

        assert TestClient(app).get("/stream").text == "/s"

    def test_needs_a_context(self) -> None:
        with pytest.raises(RuntimeError, match="stream_with_context"):
            stream_with_context(iter(()))
