"""The Flask half working in real apps: what dispatch must do for it, through the test clients.

The pieces (sessions, templating, helpers, static files, views, config, context locals)
have unit tests of their own; these tests check that an app wires them together: context
locals in handlers, hooks, templates and the code they call, sync and async alike;
sessions saved with the right cookie and ``Vary``; blueprints with their own hooks, error
handlers, templates and static files; and the hostile cookie and path inputs of
/work/shared/HOSTILE-INPUTS.md, sent to a real app.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import anyio
import anyio.lowlevel
import itsdangerous
import pytest
from click.testing import CliRunner

from kettle import (
    Blueprint,
    HTTPException,
    Kettle,
    MethodView,
    Response,
    StreamingResponse,
    View,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    send_file,
    send_from_directory,
    session,
    stream_with_context,
    url_for,
)
from kettle.cli import cli
from kettle.globals import has_request_context
from kettle.sessions import SecureCookieSession, SessionInterface
from kettle.templating import render_template_async
from kettle.testing import AsyncTestClient, TestClient

KEY = "integration-test-secret-key"


# -- helpers ---------------------------------------------------------------------------------


def sign(app: Kettle, data: dict[str, Any]) -> str:
    """A session cookie value the app itself would have issued for ``data``."""
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None
    return str(signer.dumps(data))


def unsign(app: Kettle, value: str) -> dict[str, Any]:
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None
    return dict(signer.loads(value))


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def asgi_get(
    app: Kettle,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request with ``path`` exactly as a server hands it over (already decoded).

    httpx normalizes URLs (``/a/../b`` becomes ``/b``); a raw server does not, so the
    hostile paths go in through a scope built by hand.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    anyio.run(app, scope, receive, send)
    start = messages[0]
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], sent, b"".join(m.get("body", b"") for m in messages[1:])


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- context locals ----------------------------------------------------------------------------


class TestContextLocals:
    def test_isolated_between_50_concurrent_sync_and_async_requests(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY

        lock = threading.Lock()
        in_flight = [0, 0]  # now, most at once

        @app.before_request
        def remember() -> None:  # a plain def hook: it runs in a worker thread
            g.rid = request.headers["x-rid"]
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)

        @app.after_request
        async def echo(response: Response) -> Response:
            with lock:
                in_flight[0] -= 1
            response.headers["x-g"] = g.rid
            return response

        def seen() -> dict[str, Any]:
            # Code the handlers call: no arguments, only the context locals.
            return {
                "g": g.rid,
                "arg": request.args["n"],
                "header": request.headers["x-rid"],
                "user": session.get("user"),
                "page": render_template_string(
                    "{{ g.rid }}/{{ request.args.n }}/{{ session.user }}"
                ),
                "app": current_app.config["SECRET_KEY"] == KEY,
            }

        @app.get("/sync")
        def sync_view():
            time.sleep(int(request.args["n"]) % 5 * 0.004)
            session["n"] = request.args["n"]
            return seen()

        @app.get("/async")
        async def async_view():
            await anyio.sleep(int(request.args["n"]) % 5 * 0.004)
            session["n"] = request.args["n"]
            return seen()

        results: dict[int, Any] = {}

        async def main() -> None:
            async with AsyncTestClient(app) as client:

                async def one(i: int) -> None:
                    cookie = sign(app, {"user": f"user{i}"})
                    response = await client.get(
                        "/sync" if i % 2 else "/async",
                        params={"n": str(i)},
                        headers={"x-rid": str(i), "cookie": f"session={cookie}"},
                    )
                    results[i] = response

                async with anyio.create_task_group() as tasks:
                    for i in range(50):
                        tasks.start_soon(one, i)

        anyio.run(main)
        assert len(results) == 50
        assert in_flight[1] >= 10  # the requests really overlapped
        for i, response in results.items():
            assert response.json() == {
                "g": str(i),
                "arg": str(i),
                "header": str(i),
                "user": f"user{i}",
                "page": f"{i}/{i}/user{i}",
                "app": True,
            }
            assert response.headers["x-g"] == str(i)
            saved = unsign(app, response.cookies["session"])
            assert saved == {"user": f"user{i}", "n": str(i)}
            assert response.headers["vary"] == "Cookie"

    def test_g_is_per_request(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> dict[str, Any]:
            before = "count" in g
            g.count = g.get("count", 0) + 1
            return {"had": before, "count": g.count}

        client = TestClient(app)
        assert client.get("/").json() == {"had": False, "count": 1}
        assert client.get("/").json() == {"had": False, "count": 1}

    @pytest.mark.parametrize("is_async", [False, True])
    def test_proxies_are_the_real_objects(self, is_async: bool) -> None:
        app = Kettle(__name__)

        def describe() -> dict[str, Any]:
            return {
                "current_app": current_app._get_current_object() is app,  # type: ignore[attr-defined]
                "request_path": request.path,
                "method": request.method,
                "endpoint": request.endpoint,
                "view_args": request.view_args,
                "has_request": has_request_context(),
            }

        if is_async:

            @app.get("/items/<int:item_id>")
            async def item(item_id: int):
                return describe()

        else:

            @app.get("/items/<int:item_id>")
            def item(item_id: int):
                return describe()

        assert TestClient(app).get("/items/7").json() == {
            "current_app": True,
            "request_path": "/items/7",
            "method": "GET",
            "endpoint": "item",
            "view_args": {"item_id": 7},
            "has_request": True,
        }

    def test_sync_hooks_run_in_worker_threads_and_share_g_with_async_ones(self) -> None:
        app = Kettle(__name__)
        threads: dict[str, int] = {}
        seen: list[Any] = []

        @app.before_request
        def sync_before() -> None:
            threads["hook"] = threading.get_ident()
            g.trail = ["sync before"]

        @app.before_request
        async def async_before() -> None:
            threads["loop"] = threading.get_ident()
            g.trail.append("async before")

        @app.after_request
        def sync_after(response: Response) -> Response:
            g.trail.append("sync after")
            response.headers["x-trail"] = ",".join(g.trail)
            return response

        @app.teardown_request
        def sync_teardown(exc: BaseException | None) -> None:
            seen.append((list(g.trail), request.path))

        @app.get("/")
        def index() -> str:
            g.trail.append("handler")
            return "ok"

        response = TestClient(app).get("/")
        assert response.headers["x-trail"] == "sync before,async before,handler,sync after"
        assert threads["hook"] != threads["loop"]
        assert seen == [(["sync before", "async before", "handler", "sync after"], "/")]

    def test_context_ends_with_the_request(self) -> None:
        app = Kettle(__name__)
        kept: list[Any] = []

        @app.get("/")
        def index() -> str:
            kept.append(request._get_current_object())  # type: ignore[attr-defined]
            return "ok"

        TestClient(app).get("/")
        assert kept[0].path == "/"
        assert not request
        assert not g
        assert not has_request_context()
        with pytest.raises(RuntimeError, match="outside of request context"):
            request.path  # noqa: B018

    def test_app_context_outside_a_request(self, tmp_path: Path) -> None:
        write(tmp_path / "templates" / "mail.txt", "{{ config.SITE }}: {{ url_for('item', id=3) }}")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config.update(SERVER_NAME="shop.example", PREFERRED_URL_SCHEME="https", SITE="Shop")

        @app.get("/items/{id}")
        def item(id: str) -> str:
            return id

        with app.app_context():
            g.user = "cron"
            assert current_app.config["SITE"] == "Shop"
            assert render_template("mail.txt") == "Shop: https://shop.example/items/3"
            assert url_for("item", id=3, _external=False) == "/items/3"
            assert g.user == "cron"
            assert not has_request_context()
        assert not g

    def test_test_request_context_reads_the_session_cookie(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY

        @app.get("/items/{id}")
        def item(id: str) -> str:
            return id

        cookie = sign(app, {"user": "ada"})
        with app.test_request_context("/items/3?sort=asc", headers={"Cookie": f"session={cookie}"}):
            assert session["user"] == "ada"
            assert request.args["sort"] == "asc"
            assert url_for("item", id=4) == "/items/4"
            assert url_for("item", id=4, _external=True) == "http://localhost/items/4"
            g.x = 1
        assert not has_request_context()

    def test_test_request_context_under_a_root_path(self) -> None:
        app = Kettle(__name__)
        with app.test_request_context("/items/3?x=1", base_url="https://h.example/shop"):
            assert request.url == "https://h.example/shop/items/3?x=1"


# -- the Flask-style request API in handlers -----------------------------------------------------


class TestRequestAPI:
    def test_sync_handlers_read_the_body_synchronously(self) -> None:
        app = Kettle(__name__)

        @app.post("/form")
        def form():
            return {
                "name": request.form["name"],
                "tags": request.form.getlist("tag"),
                "q": request.args.get("q"),
                "age": request.form.get("age", type=int),
            }

        @app.post("/json")
        def json_body():
            return {"json": request.get_json(), "raw": request.data.decode()}

        @app.post("/upload")
        def upload():
            upload = request.files["file"]
            return {"name": upload.filename, "title": request.form["title"]}

        @app.post("/missing")
        def missing() -> str:
            return str(request.form["nope"])

        client = TestClient(app)
        sent = {"name": "ada", "tag": ["a", "b"], "age": "x"}
        assert client.post("/form?q=1", data=sent).json() == {
            "name": "ada",
            "tags": ["a", "b"],
            "q": "1",
            "age": None,
        }
        assert client.post("/json", json={"k": 1}).json() == {"json": {"k": 1}, "raw": '{"k":1}'}
        files = {"file": ("notes.txt", b"hello")}
        assert client.post("/upload", files=files, data={"title": "t"}).json() == {
            "name": "notes.txt",
            "title": "t",
        }
        response = client.post("/missing", data={"a": "1"})
        assert response.status_code == 400  # a missing key is a 400, as in Flask

    def test_async_handlers_await_then_index(self, caplog: pytest.LogCaptureFixture) -> None:
        app = Kettle(__name__)

        @app.post("/awaited")
        async def awaited():
            form = await request.form()
            return {"called": form["name"], "indexed": request.form["name"]}

        @app.post("/not-awaited")
        async def not_awaited() -> str:
            return str(request.form["name"])

        client = TestClient(app)
        assert client.post("/awaited", data={"name": "ada"}).json() == {
            "called": "ada",
            "indexed": "ada",
        }
        assert client.post("/not-awaited", data={"name": "ada"}).status_code == 500
        assert "await request.form()" in caplog.text

    def test_max_content_length_limits_the_body(self) -> None:
        app = Kettle(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 10

        @app.post("/json")
        def json_body():
            return request.get_json()

        assert TestClient(app).post("/json", json={"k": "x" * 50}).status_code == 413


# -- templates -------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An app folder with templates and static files, and a blueprint folder beside it."""
    write(tmp_path / "templates" / "base.html", "<title>{% block title %}{% endblock %}</title>")
    write(
        tmp_path / "templates" / "page.html",
        '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}',
    )
    write(tmp_path / "templates" / "shared.html", "app version")
    write(tmp_path / "static" / "css" / "site.css", "body { margin: 0 }")
    write(tmp_path / "admin" / "templates" / "admin" / "index.html", "admin {{ user }}")
    write(tmp_path / "admin" / "templates" / "shared.html", "blueprint version")
    write(tmp_path / "admin" / "static" / "admin.js", "console.log('admin')")
    return tmp_path


class TestTemplates:
    def test_app_and_blueprint_folders(self, site: Path) -> None:
        app = Kettle(__name__, root_path=str(site))
        admin = Blueprint(
            "admin",
            __name__,
            url_prefix="/admin",
            root_path=str(site / "admin"),
            template_folder="templates",
        )

        @app.get("/")
        def index() -> str:
            return render_template("page.html", title="<Home>")

        @admin.get("/")
        def admin_index() -> str:
            return render_template("admin/index.html", user="<ada>")

        @admin.get("/shared")
        def shared() -> str:
            return render_template("shared.html")

        app.register_blueprint(admin)
        client = TestClient(app)
        response = client.get("/")
        assert response.text == "<title>&lt;Home&gt;</title>"
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/admin/").text == "admin &lt;ada&gt;"
        assert client.get("/admin/shared").text == "app version"  # the app's folder wins

    def test_folders_found_beside_the_modules(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        package = tmp_path / "shopapp"
        write(package / "__init__.py", "")
        write(package / "templates" / "hello.html", "hello from the app")
        write(package / "admin" / "__init__.py", "")
        write(package / "admin" / "templates" / "admin" / "hi.html", "hi from admin")
        write(package / "admin" / "static" / "a.txt", "admin static")
        write(package / "static" / "s.txt", "app static")
        write(
            package / "admin" / "views.py",
            textwrap.dedent(
                """
            from kettle import Blueprint, render_template

            bp = Blueprint("admin", __name__, url_prefix="/admin",
                           template_folder="templates", static_folder="static")

            @bp.get("/hi")
            def hi() -> str:
                return render_template("admin/hi.html")
            """
            ),
        )
        write(
            package / "web.py",
            textwrap.dedent(
                """
            from kettle import Kettle, render_template
            from shopapp.admin.views import bp

            app = Kettle(__name__)

            @app.get("/")
            def hello() -> str:
                return render_template("hello.html")

            app.register_blueprint(bp)
            """
            ),
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        try:
            from shopapp.web import app  # type: ignore[import-not-found]

            client = TestClient(app)
            assert client.get("/").text == "hello from the app"
            assert client.get("/admin/hi").text == "hi from admin"
            assert client.get("/static/s.txt").text == "app static"
            assert client.get("/admin/static/a.txt").text == "admin static"
        finally:
            for name in [n for n in sys.modules if n.split(".")[0] == "shopapp"]:
                del sys.modules[name]

    def test_everything_templates_see(self, site: Path) -> None:
        app = Kettle(__name__, root_path=str(site))
        app.config.update(SECRET_KEY=KEY, SITE="Kettle Shop")

        @app.before_request
        def load_user() -> None:
            g.user = "ada"

        @app.post("/flash")
        def add_flash() -> Response:
            flash("Saved", "info")
            flash("Careful", "warning")
            session["cart"] = 2
            return redirect(url_for("page"))

        @app.get("/page")
        def page() -> str:
            return render_template_string(
                "{{ config.SITE }}|{{ request.args.q }}|{{ g.user }}|{{ session.cart }}|"
                "{{ url_for('page', q='x') }}|{{ url_for('static', filename='css/site.css') }}|"
                "{% for c, m in get_flashed_messages(with_categories=true) %}{{ c }}:{{ m }};"
                "{% endfor %}|{{ get_flashed_messages(category_filter=['warning']) }}"
            )

        client = TestClient(app)
        response = client.post("/flash", params={"q": "1"})
        assert response.url.path == "/page"
        assert response.text == (
            "Kettle Shop||ada|2|/page?q=x|/static/css/site.css|"
            "info:Saved;warning:Careful;|[&#39;Careful&#39;]"
        )
        assert client.get("/page?q=again").text.startswith("Kettle Shop|again|ada|2|")
        assert "Saved" not in client.get("/page").text  # shown once

    def test_context_processors_filters_globals_and_tests(self, site: Path) -> None:
        app = Kettle(__name__, root_path=str(site))
        shop = Blueprint("shop", __name__, url_prefix="/shop")

        @app.context_processor
        def site_name() -> dict[str, Any]:
            return {"site": "Kettle", "user": g.get("user", "anon"), "path": request.path}

        @app.template_filter("money")
        def money(value: float) -> str:
            return f"${value:,.2f}"

        @app.template_global()
        def year() -> int:
            return 2025

        @shop.app_template_test("expensive")
        def expensive(value: float) -> bool:
            return value > 1000

        @shop.app_template_filter()
        def shout(text: str) -> str:
            return text.upper()

        @shop.app_context_processor
        def currency() -> dict[str, str]:
            return {"currency": "USD"}

        @shop.get("/item")
        def item() -> str:
            g.user = "ada"
            return render_template_string(
                "{{ site }} {{ user }} {{ path }} {{ price|money }}"
                "{% if price is expensive %} (wow){% endif %} {{ year() }} "
                "{{ 'hi'|shout }} {{ currency }} {{ site }}",
                price=1234.5,
            )

        @app.get("/override")
        def override() -> str:
            return render_template_string("{{ site }}", site="explicit wins")

        app.register_blueprint(shop)
        client = TestClient(app)
        assert client.get("/shop/item").text == (
            "Kettle ada /shop/item $1,234.50 (wow) 2025 HI USD Kettle"
        )
        assert client.get("/override").text == "explicit wins"

    def test_async_rendering_in_a_handler(self, site: Path) -> None:
        write(site / "templates" / "user.html", "{{ load(7) }} {{ g.who }} {{ extra }}")
        app = Kettle(__name__, root_path=str(site))

        async def load(user_id: int) -> str:
            await anyio.lowlevel.checkpoint()
            return f"user {user_id}"

        @app.context_processor
        async def extra() -> dict[str, str]:
            await anyio.lowlevel.checkpoint()
            return {"extra": request.args["x"]}

        @app.get("/user")
        async def user() -> str:
            g.who = "me"
            return await render_template_async("user.html", load=load)

        assert TestClient(app).get("/user?x=1").text == "user 7 me 1"

    @pytest.mark.parametrize(
        ("debug", "auto_reload", "reloads"),
        [(True, None, True), (False, None, False), (False, True, True), (True, False, False)],
    )
    def test_reload_follows_debug(
        self, tmp_path: Path, debug: bool, auto_reload: bool | None, reloads: bool
    ) -> None:
        page = write(tmp_path / "templates" / "page.html", "version 1")
        app = Kettle(__name__, root_path=str(tmp_path), debug=debug)
        app.config["TEMPLATES_AUTO_RELOAD"] = auto_reload

        @app.get("/")
        def index() -> str:
            return render_template("page.html")

        client = TestClient(app)
        assert client.get("/").text == "version 1"
        page.write_text("version 2")
        later = page.stat().st_mtime + 10
        os.utime(page, (later, later))
        assert client.get("/").text == ("version 2" if reloads else "version 1")

    def test_switching_debug_on_turns_reloading_on(self, tmp_path: Path) -> None:
        page = write(tmp_path / "templates" / "page.html", "version 1")
        app = Kettle(__name__, root_path=str(tmp_path))

        @app.get("/")
        def index() -> str:
            return render_template("page.html")

        client = TestClient(app)
        assert client.get("/").text == "version 1"
        app.debug = True
        page.write_text("version 2")
        later = page.stat().st_mtime + 10
        os.utime(page, (later, later))
        assert client.get("/").text == "version 2"


# -- sessions --------------------------------------------------------------------------------


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
        response = TestClient(app).post("/login/ada", headers={"accept": "text/plain"})
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


# -- url_for -------------------------------------------------------------------------------------


class TestUrlFor:
    def test_in_requests(self, site: Path) -> None:
        app = Kettle(__name__, root_path=str(site))
        admin = Blueprint(
            "admin", __name__, url_prefix="/admin", root_path=str(site / "admin"),
            static_folder="static",
        )  # fmt: skip
        reports = Blueprint("reports", __name__, url_prefix="/reports")

        @app.get("/items/<int:item_id>")
        def item(item_id: int) -> str:
            return str(item_id)

        @admin.get("/users/{name}")
        def user(name: str) -> dict[str, str]:
            return {
                "relative": url_for(".user", name="bob"),
                "index": url_for(".index"),
                "app": url_for("item", item_id=3, page=2, tag=["a", "b"], skip=None),
                "external": url_for(".user", name="a b", _external=True, _anchor="top"),
                "scheme": url_for("item", item_id=1, _scheme="https"),
                "static": url_for("static", filename="css/site.css"),
                "own_static": url_for(".static", filename="admin.js"),
                "nested": url_for("admin.reports.daily", day="mon"),
            }

        @admin.get("/")
        def index() -> str:
            return "admin"

        @reports.get("/<day>")
        def daily(day: str) -> dict[str, str]:
            return {"me": url_for(".daily", day=day), "parent": url_for("admin.index")}

        @app.get("/")
        def home() -> dict[str, str]:
            # Outside a blueprint, ".name" is a route of the app.
            return {"me": url_for(".home"), "items": url_for("item", item_id=9)}

        admin.register_blueprint(reports)
        app.register_blueprint(admin)
        client = TestClient(app)
        assert client.get("/admin/users/ada").json() == {
            "relative": "/admin/users/bob",
            "index": "/admin/",
            "app": "/items/3?page=2&tag=a&tag=b",
            "external": "http://testserver/admin/users/a%20b#top",
            "scheme": "https://testserver/items/1",
            "static": "/static/css/site.css",
            "own_static": "/admin/static/admin.js",
            "nested": "/admin/reports/mon",
        }
        assert client.get("/admin/reports/tue").json() == {
            "me": "/admin/reports/tue",
            "parent": "/admin/",
        }
        assert client.get("/").json() == {"me": "/", "items": "/items/9"}
        assert client.get("/admin/static/admin.js").text == "console.log('admin')"

    def test_external_urls_keep_the_request_scheme_and_host(self) -> None:
        app = Kettle(__name__)

        @app.get("/here")
        def here() -> str:
            return url_for("here", _external=True)

        client = TestClient(app, base_url="https://shop.example:8443")
        assert client.get("/here").text == "https://shop.example:8443/here"

    def test_under_a_root_path(self) -> None:
        app = Kettle(__name__)

        @app.get("/here")
        def here() -> dict[str, str]:
            return {"path": url_for("here"), "full": url_for("here", _external=True)}

        client = TestClient(app, root_path="/shop")
        assert client.get("/here").json() == {
            "path": "/shop/here",
            "full": "http://testserver/shop/here",
        }

    def test_unknown_names_are_errors(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> str:
            return url_for("nope")

        response = TestClient(app, raise_server_exceptions=False).get("/")
        assert response.status_code == 500


# -- helpers through an app ------------------------------------------------------------------------


class TestHelpers:
    def test_redirect_abort_make_response_jsonify(self) -> None:
        app = Kettle(__name__)

        @app.after_request
        def stamp(response: Response) -> Response:
            response.headers["x-stamp"] = "1"
            return response

        @app.get("/old")
        def old() -> Response:
            return redirect(url_for("new", q="a b"), 301)

        @app.get("/new")
        def new() -> Response:
            response = make_response(jsonify(q=request.args["q"]), 201, {"x-made": "yes"})
            response.set_cookie("seen", "1")
            return response

        @app.get("/secret")
        async def secret() -> str:
            abort(403, "not for you")

        client = TestClient(app, follow_redirects=False)
        response = client.get("/old")
        assert (response.status_code, response.headers["location"]) == (301, "/new?q=a+b")
        assert response.headers["x-stamp"] == "1"
        made = client.get("/new?q=a+b")
        assert made.status_code == 201
        assert made.json() == {"q": "a b"}
        assert made.headers["x-made"] == "yes"
        assert made.headers["x-stamp"] == "1"
        assert made.headers["set-cookie"].startswith("seen=1;")
        denied = client.get("/secret")
        assert (denied.status_code, denied.json()) == (403, {"detail": "not for you"})
        assert denied.headers["x-stamp"] == "1"  # after_request sees error responses too

    def test_send_file_and_send_from_directory(self, tmp_path: Path) -> None:
        write(tmp_path / "files" / "report.txt", "quarterly")
        write(tmp_path / "secret.txt", "do not serve")
        app = Kettle(__name__, root_path=str(tmp_path))

        @app.get("/report")
        def report() -> Response:
            return send_file("files/report.txt", as_attachment=True)

        @app.get("/files/{name:path}")
        async def files(name: str) -> Response:
            return send_from_directory("files", name)

        client = TestClient(app)
        response = client.get("/report")
        assert response.text == "quarterly"
        assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'
        assert client.get("/files/report.txt").text == "quarterly"
        etag = client.get("/files/report.txt").headers["etag"]
        assert client.get("/files/report.txt", headers={"if-none-match": etag}).status_code == 304
        for name in ("../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "..%5csecret.txt"):
            assert client.get(f"/files/{name}").status_code == 404, name

    @pytest.mark.parametrize("is_async", [False, True])
    def test_stream_with_context(self, is_async: bool) -> None:
        app = Kettle(__name__)

        if is_async:

            @app.get("/stream")
            async def stream() -> StreamingResponse:
                g.name = "async"

                async def pieces() -> Any:
                    yield request.args["a"] + ","
                    await anyio.lowlevel.checkpoint()
                    yield g.name + "," + str(has_request_context())

                return StreamingResponse(stream_with_context(pieces()))

        else:

            @app.get("/stream")
            def stream() -> StreamingResponse:
                g.name = "sync"

                @stream_with_context
                def pieces() -> Iterator[str]:
                    yield request.args["a"] + ","
                    yield g.name + "," + str(has_request_context())

                return StreamingResponse(pieces())

        name = "async" if is_async else "sync"
        assert TestClient(app).get("/stream?a=1").text == f"1,{name},True"


# -- static files --------------------------------------------------------------------------------


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


# -- blueprints, hooks and error handlers ------------------------------------------------------


class TestHooksAndBlueprints:
    @staticmethod
    def make_app(trail: list[str]) -> Kettle:
        app = Kettle(__name__)
        outer = Blueprint("outer", __name__, url_prefix="/outer")
        inner = Blueprint("inner", __name__, url_prefix="/inner")

        def hooks(owner: Any, name: str) -> None:
            @owner.before_request
            def before_1() -> None:
                trail.append(f"{name}.before1")

            @owner.before_request
            async def before_2() -> None:
                trail.append(f"{name}.before2")

            @owner.after_request
            def after_1(response: Response) -> Response:
                trail.append(f"{name}.after1")
                return response

            @owner.after_request
            async def after_2(response: Response) -> Response:
                trail.append(f"{name}.after2")
                return response

            @owner.teardown_request
            def teardown(exc: BaseException | None) -> None:
                trail.append(f"{name}.teardown")

        hooks(app, "app")
        hooks(outer, "outer")
        hooks(inner, "inner")

        @inner.before_app_request
        def everywhere() -> None:
            trail.append("inner.before_app")

        @inner.after_app_request
        def everywhere_after(response: Response) -> Response:
            trail.append("inner.after_app")
            return response

        @inner.teardown_app_request
        def everywhere_teardown(exc: BaseException | None) -> None:
            trail.append("inner.teardown_app")

        @app.get("/")
        def root() -> str:
            trail.append("handler")
            return "root"

        @outer.get("/")
        def outer_index() -> str:
            trail.append("handler")
            return "outer"

        @inner.get("/")
        async def inner_index() -> str:
            trail.append("handler")
            return "inner"

        outer.register_blueprint(inner)
        app.register_blueprint(outer)
        return app

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            (
                "/",
                "app.before1 app.before2 inner.before_app handler "
                "inner.after_app app.after2 app.after1 "
                "inner.teardown_app app.teardown",
            ),
            (
                "/outer/",
                "app.before1 app.before2 inner.before_app outer.before1 outer.before2 handler "
                "outer.after2 outer.after1 inner.after_app app.after2 app.after1 "
                "outer.teardown inner.teardown_app app.teardown",
            ),
            (
                "/outer/inner/",
                "app.before1 app.before2 inner.before_app outer.before1 outer.before2 "
                "inner.before1 inner.before2 handler "
                "inner.after2 inner.after1 outer.after2 outer.after1 inner.after_app "
                "app.after2 app.after1 "
                "inner.teardown outer.teardown inner.teardown_app app.teardown",
            ),
        ],
    )
    def test_order(self, path: str, expected: str) -> None:
        trail: list[str] = []
        response = TestClient(self.make_app(trail)).get(path)
        assert response.status_code == 200
        assert trail == expected.split()

    def test_before_request_can_answer(self) -> None:
        app = Kettle(__name__)
        calls: list[str] = []
        admin = Blueprint("admin", __name__, url_prefix="/admin")

        @admin.before_request
        def require_login() -> Any:
            calls.append("check")
            if "user" not in request.args:
                return redirect("/login")
            g.user = request.args["user"]
            return None

        @admin.before_request
        def never_after_an_answer() -> None:
            calls.append("second")

        @admin.after_request
        def after(response: Response) -> Response:
            response.headers["x-admin"] = "1"
            return response

        @admin.get("/")
        def index() -> str:
            calls.append("handler")
            return f"hello {g.user}"

        app.register_blueprint(admin)
        client = TestClient(app, follow_redirects=False)
        refused = client.get("/admin/")
        assert (refused.status_code, refused.headers["location"]) == (302, "/login")
        assert refused.headers["x-admin"] == "1"
        assert calls == ["check"]
        assert client.get("/admin/?user=ada").text == "hello ada"

    def test_after_request_must_return_the_response(self) -> None:
        app = Kettle(__name__)

        @app.after_request
        def forgot(response: Response) -> None:
            response.headers["x"] = "1"

        @app.get("/")
        def index() -> str:
            return "ok"

        response = TestClient(app, raise_server_exceptions=False).get("/")
        assert response.status_code == 500

    def test_teardown_sees_the_error_and_runs_after_sending(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = Kettle(__name__)
        seen: list[Any] = []

        @app.teardown_request
        async def first(exc: BaseException | None) -> None:
            raise RuntimeError("a failing teardown is logged, not fatal")

        @app.teardown_request
        def record(exc: BaseException | None) -> None:
            seen.append((type(exc).__name__ if exc else None, g.get("step")))

        @app.get("/ok")
        def ok() -> str:
            g.step = "ok"
            return "ok"

        @app.get("/boom")
        def boom() -> str:
            g.step = "boom"
            raise ValueError("boom")

        client = TestClient(app)
        assert client.get("/ok").text == "ok"
        assert client.get("/boom").status_code == 500
        assert seen == [(None, "ok"), ("ValueError", "boom")]
        assert "Error in a teardown_request hook" in caplog.text

    def test_teardown_gets_none_for_handled_errors(self) -> None:
        app = Kettle(__name__)
        seen: list[Any] = []

        @app.teardown_request
        def record(exc: BaseException | None) -> None:
            seen.append(exc)

        @app.get("/missing")
        def missing() -> str:
            abort(404)

        TestClient(app).get("/missing")
        assert seen == [None]

    def test_error_handlers(self) -> None:
        app = Kettle(__name__)
        api = Blueprint("api", __name__, url_prefix="/api")
        v2 = Blueprint("v2", __name__, url_prefix="/v2")

        @app.errorhandler(404)
        def app_not_found(exc: HTTPException) -> tuple[str, int]:
            return f"app 404 at {request.path}", 404

        @app.errorhandler(Exception)
        def app_crash(exc: Exception) -> tuple[dict[str, str], int]:
            return {"app": type(exc).__name__}, 500

        @api.errorhandler(404)
        async def api_not_found(exc: HTTPException) -> tuple[dict[str, str], int]:
            return {"api": "not found", "g": g.get("who", "-")}, 404

        @api.errorhandler(KeyError)
        def api_key_error(exc: KeyError) -> tuple[dict[str, str], int]:
            return {"api": f"missing {exc}"}, 400

        @api.app_errorhandler(PermissionError)
        def anywhere(exc: PermissionError) -> tuple[str, int]:
            return "forbidden everywhere", 403

        @v2.errorhandler(IndexError)
        def v2_index(exc: IndexError) -> tuple[dict[str, str], int]:
            return {"v2": "index"}, 422

        @v2.errorhandler(KeyError)
        def v2_key_error(exc: KeyError) -> tuple[dict[str, str], int]:
            return {"v2": "key"}, 422

        @app.get("/gone")
        def gone() -> str:
            abort(404)

        @app.get("/crash")
        def crash() -> str:
            raise ValueError("x")

        @app.get("/key")
        def app_key() -> str:
            raise KeyError("k")

        @app.get("/perm")
        def perm() -> str:
            raise PermissionError

        @api.get("/gone")
        def api_gone() -> str:
            g.who = "api"
            abort(404)

        @api.get("/key")
        async def api_key() -> str:
            raise KeyError("k")

        @api.get("/crash")
        def api_crash() -> str:
            raise ValueError("x")

        @v2.get("/key")
        def v2_key() -> str:
            raise KeyError("k")

        @v2.get("/index")
        def v2_index_error() -> str:
            raise IndexError("i")

        @api.get("/index")
        def api_index_error() -> str:
            raise IndexError("i")

        @v2.get("/gone")
        def v2_gone() -> str:
            abort(404)

        api.register_blueprint(v2)
        app.register_blueprint(api)
        client = TestClient(app)
        cases = {
            "/gone": (404, "app 404 at /gone"),
            "/crash": (500, '{"app":"ValueError"}'),
            "/key": (500, '{"app":"KeyError"}'),
            "/perm": (403, "forbidden everywhere"),
            "/api/gone": (404, '{"api":"not found","g":"api"}'),
            "/api/key": (400, '{"api":"missing \'k\'"}'),
            "/api/crash": (500, '{"app":"ValueError"}'),
            "/api/v2/key": (422, '{"v2":"key"}'),  # the innermost handler wins
            "/api/v2/index": (422, '{"v2":"index"}'),
            "/api/index": (500, '{"app":"IndexError"}'),  # v2's handler is not api's
            "/api/v2/gone": (404, '{"api":"not found","g":"-"}'),  # inherited from api
        }
        for path, (status, text) in cases.items():
            response = client.get(path)
            assert (response.status_code, response.text) == (status, text), path

    def test_blueprint_handlers_are_searched_before_the_apps(self) -> None:
        app = Kettle(__name__)
        bp = Blueprint("bp", __name__, url_prefix="/bp")

        @app.errorhandler(KeyError)
        def app_key_error(exc: KeyError) -> tuple[str, int]:
            return "app", 500

        @bp.errorhandler(LookupError)
        def bp_lookup_error(exc: LookupError) -> tuple[str, int]:
            return "blueprint", 404

        @bp.get("/x")
        def x() -> str:
            raise KeyError("x")

        app.register_blueprint(bp)
        assert TestClient(app).get("/bp/x").text == "blueprint"

    def test_unmatched_urls_use_the_app_404_handler(self) -> None:
        app = Kettle(__name__)

        @app.errorhandler(404)
        def not_found(exc: HTTPException) -> tuple[dict[str, str], int]:
            return {"custom": "404"}, 404

        assert TestClient(app).get("/nowhere").json() == {"custom": "404"}

    @pytest.mark.parametrize(
        ("method", "path", "status"), [("GET", "/nowhere", 404), ("DELETE", "/only-get", 405)]
    )
    def test_unmatched_urls_go_through_hooks_with_a_request_context(
        self, tmp_path: Path, method: str, path: str, status: int
    ) -> None:
        write(tmp_path / "templates" / "error.html", "{{ code }} for {{ request.path }}")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config["SECRET_KEY"] = KEY
        bp = Blueprint("bp", __name__)
        trail: list[str] = []

        @app.before_request
        def before() -> Any:
            trail.append("before")
            g.user = session.get("user")
            return "maintenance" if request.args.get("closed") else None

        @bp.after_app_request
        def after(response: Response) -> Response:
            trail.append("after")
            response.headers["x-user"] = g.user
            return response

        @app.teardown_request
        def teardown(exc: BaseException | None) -> None:
            trail.append("teardown")

        @app.errorhandler(404)
        @app.errorhandler(405)
        def page(exc: HTTPException) -> tuple[str, int]:
            return render_template("error.html", code=exc.status_code), exc.status_code

        @app.get("/only-get")
        def only_get() -> str:
            return "ok"

        app.register_blueprint(bp)
        client = TestClient(app, cookies={"session": sign(app, {"user": "ada"})})
        response = client.request(method, path)
        assert (response.status_code, response.text) == (status, f"{status} for {path}")
        assert response.headers["x-user"] == "ada"
        assert response.headers["vary"] == "Cookie"
        assert trail == ["before", "after", "teardown"]
        closed = client.request(method, path, params={"closed": "1"})
        assert (closed.status_code, closed.text) == (200, "maintenance")

    def test_response_model_still_filters_when_hooks_exist(self) -> None:
        import pydantic

        class Public(pydantic.BaseModel):
            name: str

        app = Kettle(__name__)

        @app.before_request
        def hook() -> None:
            g.seen = True

        @app.get("/user", response_model=Public)
        def user() -> Any:
            return {"name": "ada", "password_hash": "secret"}

        assert TestClient(app).get("/user").json() == {"name": "ada"}

    def test_blueprint_names_and_prefixes(self) -> None:
        app = Kettle(__name__)
        bp = Blueprint("bp", __name__, url_prefix="/bp")

        @bp.get("/x")
        def x() -> dict[str, Any]:
            return {"endpoint": request.endpoint, "blueprint": request.blueprint}

        app.register_blueprint(bp, url_prefix="/moved")
        assert TestClient(app).get("/moved/x").json() == {"endpoint": "bp.x", "blueprint": "bp"}
        with pytest.raises(ValueError, match="already registered"):
            app.register_blueprint(Blueprint("bp", __name__))


# -- class-based views ------------------------------------------------------------------------


class TestViews:
    def test_views_in_a_blueprint_with_hooks_and_url_for(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY
        api = Blueprint("api", __name__, url_prefix="/api")
        items = {1: "kettle"}

        @api.before_request
        def who() -> None:
            g.user = request.headers.get("x-user", "anon")

        class ItemAPI(MethodView):
            def get(self, item_id: int) -> dict[str, Any]:
                return {
                    "name": items[item_id],
                    "user": g.user,
                    "self": url_for(".item", item_id=item_id),
                }

            async def delete(self, item_id: int) -> dict[str, Any]:
                items.pop(item_id)
                session["deleted"] = item_id
                return {"deleted": item_id, "user": g.user}

        class Hello(View):
            methods = ("GET", "POST")

            def dispatch_request(self) -> str:
                return f"{request.method} hello {g.user}"

        api.add_url_rule("/items/<int:item_id>", view_func=ItemAPI.as_view("item"))
        api.add_url_rule("/hello", view_func=Hello.as_view("hello"))
        app.register_blueprint(api)
        client = TestClient(app)
        assert client.get("/api/items/1", headers={"x-user": "ada"}).json() == {
            "name": "kettle",
            "user": "ada",
            "self": "/api/items/1",
        }
        deleted = client.delete("/api/items/1")
        assert deleted.json() == {"deleted": 1, "user": "anon"}
        assert unsign(app, deleted.cookies["session"]) == {"deleted": 1}
        assert client.put("/api/items/1").status_code == 405
        assert client.post("/api/hello").text == "POST hello anon"
        with app.test_request_context():
            assert url_for("api.hello") == "/api/hello"


# -- configuration drives the app ------------------------------------------------------------------


class TestConfig:
    def test_loaders_feed_the_app(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        write(tmp_path / "settings.py", "SESSION_COOKIE_NAME = 'from_pyfile'\nlower = 1\n")
        write(tmp_path / "settings.json", '{"SESSION_COOKIE_SAMESITE": "Strict"}')
        write(tmp_path / "settings.toml", 'SEND_FILE_MAX_AGE_DEFAULT = 60\nSITE = "toml"\n')
        write(tmp_path / "static" / "a.css", "a")

        class Defaults:
            SITE = "object"
            PERMANENT_SESSION_LIFETIME = timedelta(minutes=5)

        monkeypatch.setenv("SHOP_SECRET_KEY", "from-env")
        monkeypatch.setenv("SHOP_FEATURES__SEARCH", "true")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config.from_object(Defaults)
        assert app.config.from_pyfile("settings.py")
        assert app.config.from_file("settings.json", load=json.load)
        import tomllib

        assert app.config.from_file("settings.toml", load=tomllib.load, text=False)
        assert app.config.from_prefixed_env("SHOP")
        app.config.from_mapping({"GREETING": "hi"}, lower_is_skipped=1)

        @app.post("/in")
        def sign_in() -> dict[str, Any]:
            session.permanent = True
            session["user"] = "ada"
            return {
                "site": current_app.config["SITE"],
                "greeting": current_app.config["GREETING"],
                "search": current_app.config["FEATURES"]["SEARCH"],
                "lower": "lower" in current_app.config,
            }

        client = TestClient(app)
        response = client.post("/in")
        assert response.json() == {"site": "toml", "greeting": "hi", "search": True, "lower": False}
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("from_pyfile=")
        assert "SameSite=Strict" in cookie
        assert "Max-Age=300" in cookie
        assert unsign(app, cookie_value(cookie)) == {"_permanent": True, "user": "ada"}
        assert app.secret_key == "from-env"
        assert client.get("/static/a.css").headers["cache-control"] == "public, max-age=60"

    def test_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("KETTLE_DEBUG", raising=False)
        app = Kettle(__name__)
        assert (app.debug, app.testing, app.secret_key) == (False, False, None)
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["SESSION_COOKIE_SECURE"] is None
        assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
        assert app.config["SECRET_KEY_FALLBACKS"] == []
        other = Kettle(__name__)
        other.config["SECRET_KEY_FALLBACKS"].append("x")
        assert app.config["SECRET_KEY_FALLBACKS"] == []  # not shared between apps


# -- the app's command line ---------------------------------------------------------------------


@pytest.fixture
def cli_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module with an app and its commands, importable as ``shopcli``."""
    write(
        tmp_path / "shopcli.py",
        textwrap.dedent(
            """
            import click
            from kettle import Kettle, current_app, g, url_for

            app = Kettle(__name__)
            app.config.update(GREETING="hello", SERVER_NAME="shop.example")

            @app.get("/items/<int:item_id>")
            def item(item_id: int) -> str:
                return str(item_id)

            @app.cli.command()
            @click.argument("name")
            @click.option("--loud", is_flag=True)
            def greet(name, loud):
                \"\"\"Greet someone.\"\"\"
                g.name = name
                text = f"{current_app.config['GREETING']} {g.name}: {url_for('item', item_id=1)}"
                click.echo(text.upper() if loud else text)

            @app.cli.group()
            def db():
                \"\"\"Database commands.\"\"\"

            @db.command("init")
            def init_db():
                click.echo(f"init {current_app.import_name}")
            """
        ),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KETTLE_APP", raising=False)
    path = sys.path[:]
    yield "shopcli:app"
    sys.path[:] = path
    sys.modules.pop("shopcli", None)


class TestAppCommands:
    @pytest.mark.parametrize(
        ("args", "output"),
        [
            (["greet", "ada"], "hello ada: http://shop.example/items/1\n"),
            (["greet", "ada", "--loud"], "HELLO ADA: HTTP://SHOP.EXAMPLE/ITEMS/1\n"),
            (["db", "init"], "init shopcli\n"),
        ],
    )
    def test_run_in_an_app_context(self, cli_module: str, args: list[str], output: str) -> None:
        result = CliRunner().invoke(cli, ["--app", cli_module, *args])
        assert result.exit_code == 0, result.output
        assert result.output == output

    def test_through_the_environment(self, cli_module: str) -> None:
        result = CliRunner().invoke(cli, ["greet", "bob"], env={"KETTLE_APP": cli_module})
        assert result.exit_code == 0, result.output
        assert result.output.startswith("hello bob")

    def test_listed_in_help(self, cli_module: str) -> None:
        result = CliRunner().invoke(cli, ["--app", cli_module, "--help"])
        assert "greet" in result.output
        assert "db" in result.output


# -- Flask's test client API ----------------------------------------------------------------------


def client_app() -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = KEY

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"user": session.get("user")}

    return app


class TestFlaskTestClient:
    def test_response_api(self) -> None:
        response = client_app().test_client().get("/me")
        assert response.status_code == 200
        assert response.status == "200 OK"
        assert response.headers["content-type"] == "application/json"
        assert response.mimetype == "application/json"
        assert response.data == b'{"user":null}'
        assert response.get_data(as_text=True) == '{"user":null}'
        assert response.get_json() == {"user": None}

    def test_get_json_of_a_page(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> str:
            return "<p>hi</p>"

        response = app.test_client().get("/")
        assert response.get_json(silent=True) is None
        with pytest.raises(ValueError, match="not JSON"):
            response.get_json()

    def test_session_transaction(self) -> None:
        app = client_app()
        client = app.test_client()
        with client.session_transaction() as sess:
            assert "user" not in sess
            sess["user"] = "ada"
        assert client.get("/me").json() == {"user": "ada"}
        with client.session_transaction() as sess:
            assert sess["user"] == "ada"
            sess.clear()
        assert client.get("/me").json() == {"user": None}

    def test_session_transaction_over_https(self) -> None:
        client = TestClient(client_app(), base_url="https://testserver")
        with client.session_transaction() as sess:
            sess["user"] = "ada"
        assert client.get("/me").json() == {"user": "ada"}


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
