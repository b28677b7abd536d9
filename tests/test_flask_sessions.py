"""The Flask half in real apps: signed-cookie sessions saved with the right cookie
and ``Vary``, hostile session cookies, and server-side session stores.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import anyio.lowlevel
import itsdangerous
import pytest
from conftest import KEY, asgi_get, cookie_value, header, sign, unsign, write

from kettle import (
    Blueprint,
    HTTPException,
    Kettle,
    Response,
    StreamingResponse,
    abort,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template_string,
    request,
    send_file,
    session,
)
from kettle.sessions import SecureCookieSession, SessionInterface
from kettle.testing import TestClient


def session_app(**config: Any) -> Kettle:
    app = Kettle(__name__)
    app.config.update({"SECRET_KEY": KEY, **config})

    @app.post("/login/<name>")
    def login(name: str) -> dict[str, str]:
        session.clear()
        session["user"] = name
        return {"user": name}

    @app.post("/remember")
    def remember() -> dict[str, bool]:
        session.permanent = True
        session["user"] = "ada"
        return {"ok": True}

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"user": session.get("user")}

    @app.post("/logout")
    def logout() -> dict[str, bool]:
        session.clear()
        return {"ok": True}

    @app.post("/cart")
    async def cart() -> dict[str, Any]:
        items = session.get("cart")
        if items is None:
            items = session["cart"] = []
        items.append(request.args["item"])  # in place: not noticed...
        if request.args.get("mark"):
            session.modified = True  # ...unless said so
        return {"cart": items}

    @app.get("/untouched")
    def untouched() -> dict[str, bool]:
        return {"ok": True}

    return app


class TestSessions:
    def test_login_round_trip_and_cookie_attributes(self) -> None:
        app = session_app()
        client = TestClient(app)
        response = client.post("/login/ada")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("session=")
        attributes = [part.strip() for part in cookie.split(";")[1:]]
        assert sorted(attributes) == ["HttpOnly", "Path=/", "SameSite=Lax"]
        assert response.headers["vary"] == "Cookie"
        assert client.get("/me").json() == {"user": "ada"}

    @pytest.mark.parametrize(
        ("base_url", "configured", "secure"),
        [
            ("http://testserver", None, False),
            ("https://testserver", None, True),
            ("http://testserver", True, True),
            ("https://testserver", False, False),
        ],
    )
    def test_secure_on_https(self, base_url: str, configured: bool | None, secure: bool) -> None:
        app = session_app(SESSION_COOKIE_SECURE=configured)
        cookie = TestClient(app, base_url=base_url).post("/login/ada").headers["set-cookie"]
        assert ("Secure" in cookie.split("; ")) is secure

    def test_configured_cookie(self) -> None:
        app = session_app(
            SESSION_COOKIE_NAME="sid",
            SESSION_COOKIE_SAMESITE="Strict",
            SESSION_COOKIE_PATH="/app",
            SESSION_COOKIE_DOMAIN="example.test",
        )
        cookie = TestClient(app).post("/login/ada").headers["set-cookie"]
        assert cookie.startswith("sid=")
        assert {"SameSite=Strict", "Path=/app", "Domain=example.test"} <= set(cookie.split("; "))

    def test_missing_secret_key(self, caplog: pytest.LogCaptureFixture) -> None:
        app = session_app(SECRET_KEY=None)
        client = TestClient(app)
        assert client.get("/me").json() == {"user": None}  # reading works: it is empty
        assert client.post("/login/ada").status_code == 500
        assert "no secret key was set" in caplog.text
        assert "SECRET_KEY" in caplog.text

    def test_missing_secret_key_explained_on_the_debug_page(self) -> None:
        app = session_app(SECRET_KEY=None)
        app.debug = True
        # The debug page is for the developer's own machine: a loopback client and Host.
        local = TestClient(app, base_url="http://localhost", client=("127.0.0.1", 50000))
        response = local.post("/login/ada", headers={"accept": "text/plain"})
        assert response.status_code == 500
        assert "Set SECRET_KEY in the app's config" in response.text

    @pytest.mark.parametrize(("refresh", "resent"), [(True, True), (False, False)])
    def test_permanent_session_lifetime(self, refresh: bool, resent: bool) -> None:
        app = session_app(
            PERMANENT_SESSION_LIFETIME=timedelta(hours=2), SESSION_REFRESH_EACH_REQUEST=refresh
        )
        client = TestClient(app)
        cookie = client.post("/remember").headers["set-cookie"]
        assert "Max-Age=7200" in cookie
        assert "Expires=" in cookie
        again = client.get("/me")
        assert again.json() == {"user": "ada"}
        assert ("set-cookie" in again.headers) is resent

    def test_browser_session_has_no_expiry(self) -> None:
        cookie = TestClient(session_app()).post("/login/ada").headers["set-cookie"]
        assert "Max-Age" not in cookie
        assert "Expires" not in cookie

    def test_unchanged_session_is_not_resent(self) -> None:
        client = TestClient(session_app())
        client.post("/login/ada")
        read = client.get("/me")
        assert "set-cookie" not in read.headers
        assert read.headers["vary"] == "Cookie"
        untouched = client.get("/untouched")
        assert "set-cookie" not in untouched.headers
        assert "vary" not in untouched.headers

    def test_in_place_changes_need_modified(self) -> None:
        app = session_app()
        client = TestClient(app)
        first = client.post("/cart?item=tea")  # setdefault is a change
        assert unsign(app, first.cookies["session"]) == {"cart": ["tea"]}
        second = client.post("/cart?item=cake")
        assert "set-cookie" not in second.headers
        third = client.post("/cart?item=jam&mark=1")
        assert unsign(app, third.cookies["session"]) == {"cart": ["tea", "jam"]}

    def test_logout_deletes_the_cookie(self) -> None:
        client = TestClient(session_app())
        client.post("/login/ada")
        response = client.post("/logout")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(("session=;", 'session="";'))
        assert "Max-Age=0" in cookie
        assert client.get("/me").json() == {"user": None}

    def test_key_rotation(self) -> None:
        old = session_app(SECRET_KEY="old-key")
        old_cookie = TestClient(old).post("/login/ada").cookies["session"]

        rotated = session_app(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["older", "old-key"])
        client = TestClient(rotated, cookies={"session": old_cookie})
        assert client.get("/me").json() == {"user": "ada"}
        # The next save signs with the new key only.
        resigned = client.post("/cart?item=tea").cookies["session"]
        fresh = session_app(SECRET_KEY="new-key")
        assert TestClient(fresh, cookies={"session": resigned}).get("/me").json() == {"user": "ada"}
        # Without the fallback the old cookie is just ignored.
        assert TestClient(fresh, cookies={"session": old_cookie}).get("/me").json() == {
            "user": None
        }


def _tampered_payload(app: Kettle) -> str:
    value = sign(app, {"user": "ada"})
    forged = sign(app, {"user": "root"}).split(".", 1)[0]
    return forged + "." + value.split(".", 1)[1]


def _tampered_signature(app: Kettle) -> str:
    value = sign(app, {"user": "root"})
    return value[:-2] + ("AA" if not value.endswith("AA") else "BB")


def _other_key(app: Kettle) -> str:
    other = Kettle(__name__)
    other.config["SECRET_KEY"] = "attacker-key"
    return sign(other, {"user": "root"})


def _expired(app: Kettle) -> str:
    past = int(time.time()) - 3 * 3600  # the lifetime is 2 hours
    with mock.patch.object(itsdangerous.TimestampSigner, "get_timestamp", return_value=past):
        return sign(app, {"user": "root"})


def _unsigned(app: Kettle) -> str:
    return json.dumps({"user": "root"})


def _oversized(app: Kettle) -> str:
    # Validly signed, but longer than any cookie a browser keeps (random: no compression).
    value = sign(app, {"user": "root", "pad": base64.b64encode(os.urandom(7000)).decode()})
    assert len(value) > 8192
    return value


class TestHostileCookies:
    """HOSTILE-INPUTS item 7, against a real app: bad cookies are a new, empty session."""

    @pytest.mark.parametrize(
        "make",
        [_tampered_payload, _tampered_signature, _other_key, _expired, _unsigned, _oversized],
    )
    def test_bad_session_cookies_are_ignored(self, make: Callable[[Kettle], str]) -> None:
        app = session_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=2))
        client = TestClient(app, cookies={"session": make(app)})
        response = client.get("/me")
        assert response.status_code == 200
        assert response.json() == {"user": None}
        assert response.headers["vary"] == "Cookie"
        # and the handler can start a clean one
        assert unsign(app, client.post("/cart?item=tea").cookies["session"]) == {"cart": ["tea"]}

    @pytest.mark.parametrize(
        ("cookie_headers", "user"),
        [
            # The first of duplicates wins (browsers send the most specific cookie first).
            ([b"session=%(a)s; session=%(b)s"], "alice"),
            ([b"session=%(b)s; session=%(a)s"], "bob"),
            ([b"session=%(a)s", b"session=%(b)s"], "alice"),  # two header lines
            ([b"session=garbage; session=%(b)s"], None),  # no fallback to the second
            # Nameless cookies: '=session=x' is not a cookie named 'session'.
            ([b"=session=%(b)s; session=%(a)s"], "alice"),
            ([b"=%(b)s; session=%(a)s"], "alice"),
            # Unicode whitespace does not make another name into 'session'.
            ([b"\xa0session=%(b)s; session=%(a)s"], "alice"),
            ([b"\x85session=%(b)s; session=%(a)s"], "alice"),
            ([b"\x0bsession=%(b)s; session=%(a)s"], "alice"),
            ([b"\x1csession=%(b)s; session=%(a)s"], "alice"),
            ([b"\xe2\x80\x80session=%(b)s; session=%(a)s"], "alice"),
            ([b"\xef\xbb\xbfsession=%(b)s; session=%(a)s"], "alice"),
            # ASCII spaces and tabs around names are fine.
            ([b" \tsession=%(a)s ; other=1"], "alice"),
            ([b'session="%(a)s"'], "alice"),
        ],
        ids=[
            "first-wins",
            "first-wins-reversed",
            "two-header-lines",
            "invalid-first-no-fallback",
            "nameless-looking-like-session",
            "nameless",
            "nbsp-prefix",
            "nel-prefix",
            "vt-prefix",
            "fs-prefix",
            "utf8-en-quad-prefix",
            "utf8-bom-prefix",
            "ascii-space-and-tab",
            "quoted-value",
        ],
    )
    def test_which_cookie_is_the_session(
        self, cookie_headers: list[bytes], user: str | None
    ) -> None:
        app = session_app()
        values = {
            b"a": sign(app, {"user": "alice"}).encode(),
            b"b": sign(app, {"user": "bob"}).encode(),
        }
        headers = [(b"cookie", line % values) for line in cookie_headers]
        status, sent, body = asgi_get(app, "/me", headers)
        assert status == 200
        assert json.loads(body) == {"user": user}
        assert header(sent, "vary") == "Cookie"

    @pytest.mark.parametrize(
        "prefix",
        [b"\xa0", b"\x85", b"\xe2\x80\x80", b"\xe3\x80\x80", b"\x1f", b"\x0c"],
    )
    def test_host_prefixed_session_cannot_be_shadowed(self, prefix: bytes) -> None:
        app = session_app(SESSION_COOKIE_NAME="__Host-session")
        client = TestClient(app, base_url="https://testserver")
        issued = client.post("/login/alice").headers["set-cookie"]
        assert issued.startswith("__Host-session=")
        attributes = issued.split("; ")
        assert "Secure" in attributes
        assert "Path=/" in attributes
        assert not any(a.startswith("Domain=") for a in attributes)

        # A sibling subdomain plants a cookie whose name only *looks* prefixed, first.
        planted = sign(app, {"user": "mallory"}).encode()
        real = cookie_value(issued).encode()
        line = prefix + b"__Host-session=" + planted + b"; __Host-session=" + real
        status, _, body = asgi_get(app, "/me", [(b"cookie", line)])
        assert status == 200
        assert json.loads(body) == {"user": "alice"}


class TestVaryCookie:
    """HOSTILE-INPUTS item 7 / default 3: every way of reading the session adds Vary: Cookie."""

    @staticmethod
    def make_app(tmp_path: Path) -> Kettle:
        write(tmp_path / "files" / "report.txt", "numbers")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config["SECRET_KEY"] = KEY
        hooked = Blueprint("hooked", __name__, url_prefix="/hooked")

        @hooked.before_request
        def before() -> None:
            if request.path.endswith("/before"):
                g.user = session.get("user")

        @hooked.after_request
        def after(response: Response) -> Response:
            if request.path.endswith("/after"):
                response.headers["x-user"] = str(session.get("user"))
            return response

        @hooked.errorhandler(418)
        def teapot(exc: HTTPException) -> tuple[str, int]:
            return f"teapot for {session.get('user')}", 418

        @hooked.get("/before")
        def via_before() -> str:
            return "ok"

        @hooked.get("/after")
        def via_after() -> str:
            return "ok"

        @hooked.get("/error-handler")
        def via_error_handler() -> str:
            abort(418)

        app.register_blueprint(hooked)

        reads: dict[str, Callable[[], Any]] = {
            "get": lambda: session.get("user"),
            "contains": lambda: "user" in session,
            "getitem": lambda: session["user"] if session else None,
            "bool": lambda: bool(session),
            "len": lambda: len(session),
            "iter": lambda: list(session),
            "keys": lambda: list(session.keys()),
            "permanent": lambda: session.permanent,
            "template": lambda: render_template_string("{{ session.user }}"),
            "flashes": lambda: get_flashed_messages(),
        }
        for name, read in reads.items():

            def sync_view(read: Callable[[], Any] = read) -> dict[str, str]:
                return {"value": repr(read())}

            async def async_view(read: Callable[[], Any] = read) -> dict[str, str]:
                return {"value": repr(read())}

            app.add_route(f"/sync/{name}", sync_view, name=f"sync_{name}")
            app.add_route(f"/async/{name}", async_view, name=f"async_{name}")

        @app.errorhandler(404)
        def no_page(exc: HTTPException) -> tuple[str, int]:
            return f"no page for {session.get('user')}", 404

        @app.get("/key-error")
        def key_error() -> str:
            return str(session["missing"])  # a 500, which still depended on the cookie

        @app.get("/redirect")
        def to_redirect() -> Response:
            return redirect("/" if "user" in session else "/login")

        @app.get("/stream")
        def stream() -> StreamingResponse:
            user = session.get("user")
            return StreamingResponse(iter([str(user)]))

        @app.get("/file")
        def file() -> Response:
            session.get("user")
            return send_file("files/report.txt")

        @app.get("/json")
        async def json_view() -> Response:
            return jsonify(user=session.get("user"))

        @app.get("/write")
        def write_view() -> str:
            session["seen"] = True
            return "ok"

        return app

    PATHS = (
        [f"/{kind}/{name}" for kind in ("sync", "async") for name in (
            "get", "contains", "getitem", "bool", "len", "iter", "keys", "permanent",
            "template", "flashes",
        )]
        + ["/hooked/before", "/hooked/after", "/hooked/error-handler", "/key-error"]
        + ["/redirect", "/stream", "/file", "/json", "/write", "/no-such-page"]
    )  # fmt: skip

    @pytest.mark.parametrize("with_cookie", [False, True])
    @pytest.mark.parametrize("path", PATHS)
    def test_every_read_path(self, tmp_path: Path, path: str, with_cookie: bool) -> None:
        app = self.make_app(tmp_path)
        headers = [(b"cookie", b"session=" + sign(app, {"user": "ada"}).encode())]
        for method in ("GET", "HEAD"):
            status, sent, _ = asgi_get(app, path, headers if with_cookie else [], method)
            assert status in (200, 302, 404, 418, 500), (path, status)
            assert header(sent, "vary") == "Cookie", (path, method)


# -- server-side session stores -------------------------------------------------------------------


class MemoryStore(SessionInterface):
    """A server-side store with async I/O: only the async hooks are implemented."""

    is_async = True

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {"abc": {"user": "ada"}}

    async def open_session_async(self, app: Any, request: Any) -> SecureCookieSession:
        await anyio.lowlevel.checkpoint()
        sid = request.cookies.get("sid", "new")
        session = SecureCookieSession(self.data.get(sid, {}))
        session.sid = sid  # type: ignore[attr-defined]
        return session

    async def save_session_async(self, app: Any, session: Any, response: Response) -> None:
        await anyio.lowlevel.checkpoint()
        if session.modified:
            self.data[session.sid] = dict(session)
            response.set_cookie("sid", session.sid)
        if session.accessed:
            response.headers.add_vary("Cookie")


@pytest.mark.parametrize("is_async", [False, True])
def test_async_session_store(is_async: bool) -> None:
    app = Kettle(__name__)
    store = MemoryStore()
    app.session_interface = store

    if is_async:

        @app.get("/me")
        async def me() -> dict[str, Any]:
            session["visits"] = session.get("visits", 0) + 1
            return {"user": session.get("user")}

    else:

        @app.get("/me")
        def me() -> dict[str, Any]:
            session["visits"] = session.get("visits", 0) + 1
            return {"user": session.get("user")}

    response = TestClient(app, cookies={"sid": "abc"}).get("/me")
    assert response.json() == {"user": "ada"}
    assert store.data["abc"] == {"user": "ada", "visits": 1}
    assert response.headers["vary"] == "Cookie"
