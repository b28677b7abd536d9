"""URL processors (``url_value_preprocessor``, ``url_defaults``), blueprints'
``url_defaults``, URL build error handlers and ``url_for``'s ``_method``/``_scheme``.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from kettle import Blueprint, Kettle, g, redirect, url_for
from kettle.exceptions import ConfigurationError
from kettle.helpers import plain_redirect
from kettle.routing.converters import DEFAULT_CONVERTERS
from kettle.routing.patterns import parse_pattern
from kettle.routing.urls import NoMatchFound, URLMap
from kettle.testing import TestClient
from kettle.urlprocessing import handle_url_build_error


def _lang_app(on: str) -> Kettle:
    """An app whose views never take ``lang``: a preprocessor pops it into ``g`` and a
    default function puts it back in ``url_for``; registered on the app or a blueprint."""
    app = Kettle(__name__)
    bp = Blueprint("site", __name__, url_prefix="/<lang>" if on == "blueprint" else "")
    owner: Any = {"app": app, "blueprint": bp}.get(on, bp)
    register: Any = {"app-wide": (bp.app_url_value_preprocessor, bp.app_url_defaults)}.get(
        on, (owner.url_value_preprocessor, owner.url_defaults)
    )

    @register[0]
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = (values or {}).pop("lang", None)

    @register[1]
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" in g:
            values.setdefault("lang", g.lang)

    routes = bp if on == "blueprint" else app
    prefix = "" if on == "blueprint" else "/<lang>"

    @routes.route(f"{prefix}/")
    def index() -> str:
        return f"{g.lang} {url_for('.about')}"

    @routes.route(f"{prefix}/about")
    def about() -> str:
        return f"{g.lang} {url_for('.index')}"

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("on", ["app", "blueprint", "app-wide"])
def test_preprocessor_pops_a_path_value_that_url_defaults_put_back(on: str) -> None:
    client = TestClient(_lang_app(on))
    assert client.get("/de/").text == "de /de/about"
    assert client.get("/fr/about").text == "fr /fr/"


def test_preprocessors_run_only_for_the_routes_they_cover() -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    seen: list[tuple[str | None, dict[str, Any] | None]] = []
    bp.url_value_preprocessor(lambda endpoint, values: seen.append((endpoint, dict(values))))

    @bp.route("/<int:n>")
    def inside(n: int) -> str:
        return str(n)

    @app.route("/<int:n>")
    def outside(n: int) -> str:
        return str(n)

    app.register_blueprint(bp)
    client = TestClient(app)
    assert client.get("/bp/3").text == "3"
    assert client.get("/4").text == "4"
    assert seen == [("bp.inside", {"n": 3})]


def test_a_handler_must_take_its_path_values_without_a_preprocessor() -> None:
    app = Kettle(__name__)

    @app.route("/hello/<name>")
    def hello() -> str:
        return "hi"

    with pytest.raises(ConfigurationError, match="declares 'name'"):
        TestClient(app).get("/hello/x")


def test_inject_url_defaults_runs_the_app_and_blueprint_functions() -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__)
    app.url_defaults(lambda endpoint, values: values.setdefault("a", 1))
    bp.url_defaults(lambda endpoint, values: values.setdefault("b", 2))
    bp.route("/<a>/<b>")(lambda a, b: "")
    app.register_blueprint(bp)
    on_app: dict[str, Any] = {}
    app.inject_url_defaults("index", on_app)
    on_bp: dict[str, Any] = {}
    app.inject_url_defaults("bp.view", on_bp)
    assert (on_app, on_bp) == ({"a": 1}, {"a": 1, "b": 2})


def test_blueprint_url_defaults_per_registration() -> None:
    app = Kettle(__name__)
    bp = Blueprint("items", __name__, url_defaults={"page": 1, "size": 10})

    @bp.route("/list")
    def listing(page: int, size: int) -> str:
        return f"{page}/{size}"

    app.register_blueprint(bp, url_prefix="/a")
    app.register_blueprint(bp, url_prefix="/b", name="b", url_defaults={"page": 7})
    client = TestClient(app)
    assert [client.get(p).text for p in ("/a/list", "/b/list")] == ["1/10", "7/10"]


class TestBuildErrors:
    def test_handlers_are_tried_in_turn_with_the_special_values(self) -> None:
        app = Kettle(__name__)
        calls: list[tuple[str, dict[str, Any]]] = []

        def record(error: Exception, endpoint: str, values: dict[str, Any]) -> None:
            calls.append((endpoint, dict(values)))

        app.url_build_error_handlers.extend([record, lambda error, endpoint, values: "/elsewhere"])
        with app.test_request_context():
            assert url_for("missing", q=1) == "/elsewhere"
        assert calls == [
            (
                "missing",
                {"q": 1, "_anchor": None, "_method": None, "_scheme": None, "_external": False},
            )
        ]

    def test_without_a_url_the_error_is_raised(self) -> None:
        app = Kettle(__name__)
        app.url_build_error_handlers.append(lambda error, endpoint, values: None)
        with app.test_request_context(), pytest.raises(NoMatchFound, match="missing"):
            url_for("missing")

    def test_a_handler_may_raise_another_build_error(self) -> None:
        first, second = NoMatchFound("first"), NoMatchFound("second")

        def reraise(error: Exception, endpoint: str, values: dict[str, Any]) -> str:
            raise second

        with pytest.raises(NoMatchFound, match="second"):
            handle_url_build_error([reraise], first, "x", {})


class TestUrlForOptions:
    def test_method_picks_the_rule_answering_it(self) -> None:
        app = Kettle(__name__)

        def items(item_id: int | None = None) -> str:
            return ""

        app.add_url_rule("/items/", "items", items, methods=["GET"])
        app.add_url_rule("/items/<int:item_id>", "items", items, methods=["GET"])
        app.add_url_rule("/items/new", "items", items, methods=["POST"])
        with app.test_request_context():
            assert url_for("items", _method="GET") == "/items/"
            assert url_for("items", _method="post") == "/items/new"
            assert url_for("items", item_id=2, _method="GET") == "/items/2"
            with pytest.raises(NoMatchFound, match="method PUT"):
                url_for("items", _method="PUT")

    def test_a_scheme_needs_an_absolute_url(self) -> None:
        app = Kettle(__name__)
        app.add_url_rule("/", "index", lambda: "")
        with app.test_request_context():
            assert url_for("index", _scheme="https") == "https://localhost/"
            with pytest.raises(ValueError, match="_scheme"):
                url_for("index", _scheme="https", _external=False)

    def test_outside_a_request_server_name_is_asked_for_first(self) -> None:
        app = Kettle(__name__)
        with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
            url_for("anything")


def test_url_map_build_by_method() -> None:
    urls = URLMap()
    urls.add("v", parse_pattern("/v/", DEFAULT_CONVERTERS), methods=["GET"])
    urls.add("v", parse_pattern("/v/new", DEFAULT_CONVERTERS), methods=["POST"])
    assert urls.build("v", {}) == ("/v/", {})
    assert urls.build("v", {}, method="POST") == ("/v/new", {})


def test_redirect_uses_the_apps_redirect() -> None:
    app: Any = Kettle(__name__)
    app.redirect = lambda location, code=302: plain_redirect(location, 307)
    assert redirect("/x").status_code == 302
    with app.app_context():
        assert redirect("/x").status_code == 307


def test_root_static_folder(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body{}")
    app = Kettle(__name__, root_path=str(tmp_path), static_folder="")
    client = TestClient(app)
    assert client.get("/static/site.css").text == "body{}"
    with app.test_request_context():
        assert url_for("static", filename="site.css") == "/site.css"


@pytest.mark.parametrize("on", ["app", "blueprint"])
def test_url_defaults_registered_after_a_url_was_built_apply(on: str) -> None:
    # url_for keeps each route name's default functions in the compiled app: adding one
    # later must recompile, or the new function would never run.
    app = Kettle(__name__)
    bp = Blueprint("docs", __name__)

    @bp.route("/<lang>/page")
    def page(lang: str) -> str:
        return lang

    app.register_blueprint(bp)
    with app.test_request_context("/"):
        assert url_for("docs.page", lang="de") == "/de/page"
        owner = app if on == "app" else bp

        @owner.url_defaults
        def default_lang(endpoint: str, values: dict[str, Any]) -> None:
            values.setdefault("lang", "en")

    with app.test_request_context("/"):
        assert url_for("docs.page") == "/en/page"


def test_url_for_keeps_default_functions_only_for_route_names() -> None:
    app = Kettle(__name__)

    @app.get("/")
    def home() -> str:
        return "home"

    with app.test_request_context("/"):
        for name in ("nope", "also.nope", "home"):
            with pytest.raises(NoMatchFound) if name != "home" else nullcontext():
                url_for(name)
    assert set(app.ensure_compiled().url_defaults) == {"home"}
