"""The Flask half in real apps: templates from app and blueprint folders, what they
see, async rendering and reloading.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio.lowlevel
import pytest
from conftest import KEY, write

from kettle import (
    Blueprint,
    Kettle,
    Response,
    flash,
    g,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from kettle.templating import render_template_async
from kettle.testing import TestClient


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


@pytest.mark.parametrize("kind", ["filter", "test", "global"])
@pytest.mark.parametrize("form", ["decorator", "add"])
def test_blueprint_app_template_functions_are_there_once_registered(kind: str, form: str) -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__)

    def fn(value: Any = "x") -> Any:
        return value

    if form == "decorator":
        getattr(bp, f"app_template_{kind}")("named")(fn)
    else:
        getattr(bp, f"add_app_template_{kind}")(fn, "named")
    app.register_blueprint(bp, url_prefix="/py")
    table = {"filter": app.jinja_env.filters, "test": app.jinja_env.tests}
    assert table.get(kind, app.jinja_env.globals)["named"] is fn


def test_blueprint_context_processor_serves_only_its_requests() -> None:
    app = Kettle(__name__)
    bp = Blueprint("answer", __name__)
    page = "{{ answer|default('-') }} {{ notanswer|default('-') }}"

    @bp.app_context_processor
    def everywhere() -> dict[str, int]:
        return {"notanswer": 43}

    @bp.context_processor
    def here() -> dict[str, int]:
        return {"answer": 42}

    @bp.route("/bp")
    def bp_page() -> str:
        return render_template_string(page)

    @app.route("/")
    def app_page() -> str:
        return render_template_string(page)

    app.register_blueprint(bp)
    client = TestClient(app)
    assert client.get("/").text == "- 43"
    assert client.get("/bp").text == "42 43"


def test_jinja_environment_class_is_the_apps_choice() -> None:
    from kettle.templating import Environment

    class Custom(Environment):
        pass

    class CustomApp(Kettle):
        jinja_environment = Custom

    assert isinstance(CustomApp(__name__).jinja_env, Custom)
