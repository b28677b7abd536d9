"""Where Flask apps' templates and static files come from: blueprint folders in
``jinja_env``, ``create_global_jinja_loader()``, ``EXPLAIN_TEMPLATE_LOADING``, streamed
templates, and ``send_static_file`` with ``get_send_file_max_age``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import write

from kettle.flask import Blueprint, Flask, render_template, stream_template_string


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write(tmp_path / "templates" / "home.html", "home")
    write(tmp_path / "shop" / "templates" / "shop" / "cart.html", "cart")
    write(tmp_path / "static" / "site.css", "body {}")
    write(tmp_path / "shop" / "static" / "shop.css", "p {}")
    return tmp_path


def _app(root: Path, cls: type[Flask] = Flask) -> Flask:
    app = cls(__name__, root_path=str(root))
    shop = Blueprint("shop", __name__, root_path=str(root / "shop"), template_folder="templates")

    @shop.route("/missing")
    def missing() -> str:
        return render_template("nowhere.html")

    app.register_blueprint(shop, url_prefix="/shop")
    return app


class TestTemplates:
    def test_list_templates_includes_blueprint_folders(self, site: Path) -> None:
        assert _app(site).jinja_env.list_templates() == ["home.html", "shop/cart.html"]

    @pytest.mark.parametrize(("source", "body"), [("{{ n }}", b"42"), ("a{{ n }}b", b"a42b")])
    def test_stream_template_returned_from_a_view(self, source: str, body: bytes) -> None:
        app = Flask(__name__)

        @app.route("/")
        def index() -> Any:
            return stream_template_string(source, n=42)

        response = app.test_client().get("/")
        assert response.data == body
        assert response.mimetype == "text/html"

    def test_create_global_jinja_loader_of_a_subclass(self) -> None:
        class App(Flask):
            def create_global_jinja_loader(self) -> jinja2.BaseLoader:
                return jinja2.DictLoader({"index.html": "from a dict"})

        app = App(__name__)

        @app.route("/")
        def index() -> str:
            return render_template("index.html")

        assert app.test_client().get("/").data == b"from a dict"

    @pytest.mark.parametrize(
        "fragment",
        [
            "1: trying loader of application",
            "2: trying loader of blueprint 'shop'",
            "Error: the template could not be found",
            "belongs to the blueprint 'shop'",
        ],
    )
    def test_explain_template_loading(
        self, site: Path, caplog: pytest.LogCaptureFixture, fragment: str
    ) -> None:
        app = _app(site)
        app.config["EXPLAIN_TEMPLATE_LOADING"] = True
        app.logger.setLevel(logging.INFO)
        with caplog.at_level(logging.INFO, logger=app.logger.name):
            response = app.test_client().get("/shop/missing")
        assert response.status_code == 500
        assert fragment in caplog.text


class TestStaticFiles:
    @pytest.mark.parametrize(("config", "max_age"), [(None, None), (3600, 3600)])
    def test_app_send_static_file(self, site: Path, config: int | None, max_age: Any) -> None:
        app = _app(site)
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = config
        with app.test_request_context():
            response = app.send_static_file("site.css")
        assert response.cache_control.max_age == max_age

    def test_subclasses_decide_the_max_age(self, site: Path) -> None:
        class App(Flask):
            def get_send_file_max_age(self, filename: str | None) -> int | None:
                return 10

        class Shop(Blueprint):
            def get_send_file_max_age(self, filename: str | None) -> int | None:
                return 100

        app = App(__name__, root_path=str(site))
        shop = Shop("shop", __name__, root_path=str(site / "shop"), static_folder="static")
        app.register_blueprint(shop)
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
        with app.test_request_context():
            assert app.send_static_file("site.css").cache_control.max_age == 10
            assert shop.send_static_file("shop.css").cache_control.max_age == 100

    def test_without_a_static_folder(self) -> None:
        app = Flask(__name__, static_folder=None)
        with app.test_request_context(), pytest.raises(RuntimeError, match="static_folder"):
            app.send_static_file("x.css")


class _TenSeconds(Flask):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return 10


class _HundredSeconds(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return 100


@pytest.mark.parametrize(
    ("app_class", "blueprint_class", "app_header", "blueprint_header"),
    [
        (Flask, Blueprint, "no-cache", "no-cache"),
        (_TenSeconds, Blueprint, "public, max-age=10", "no-cache"),
        (Flask, _HundredSeconds, "no-cache", "public, max-age=100"),
    ],
)
def test_static_routes_ask_overridden_max_age(
    site: Path,
    app_class: type[Flask],
    blueprint_class: type[Blueprint],
    app_header: str,
    blueprint_header: str,
) -> None:
    app = app_class(__name__, root_path=str(site))
    shop = blueprint_class("shop", __name__, root_path=str(site / "shop"), static_folder="static")
    app.register_blueprint(shop, url_prefix="/shop")
    client = app.test_client()
    assert client.get("/static/site.css").headers["cache-control"] == app_header
    assert client.get("/shop/static/shop.css").headers["cache-control"] == blueprint_header
