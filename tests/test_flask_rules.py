"""Flask's URL rules: rules without a view, ``endpoint()``, ``view_functions``,
Werkzeug's ``Rule``/``Submount``, ``endpoint=`` names and blueprint prefix joining."""

from __future__ import annotations

import pytest

from kettle import Blueprint, Kettle, request, url_for
from kettle.rules import Map, Rule, Submount
from kettle.testing import TestClient


def test_rule_without_view_builds_urls_and_another_route_serves_the_path() -> None:
    # flaskr's layout: the blog's index is at "/", and "index" names the same URL.
    app = Kettle(__name__)
    blog = Blueprint("blog", __name__)

    @blog.route("/")
    def index() -> str:
        return "blog index"

    app.register_blueprint(blog)
    app.add_url_rule("/", endpoint="index")
    assert TestClient(app).get("/").text == "blog index"
    with app.test_request_context():
        assert url_for("index") == "/"


@pytest.mark.parametrize("how", ["decorator", "dict", "blueprint"])
def test_view_given_later_by_name_serves_the_rule(how: str) -> None:
    app = Kettle(__name__)
    app.add_url_rule("/about", endpoint="about")
    client = TestClient(app)
    assert client.get("/about").status_code == 404  # no view yet: builds URLs only

    def about() -> str:
        return f"about via {request.endpoint}"

    if how == "decorator":
        app.endpoint("about")(about)
    elif how == "dict":
        app.view_functions["about"] = about
    else:
        bp = Blueprint("bp", __name__, url_prefix="/bp")
        bp.endpoint("about")(about)  # the app-wide name, as in Flask
        app.register_blueprint(bp)
    assert client.get("/about").text == "about via about"
    assert client.get("/bp/about").status_code == 404


def test_add_url_rule_needs_a_view_or_a_name() -> None:
    with pytest.raises(TypeError):
        Kettle(__name__).add_url_rule("/")


@pytest.mark.parametrize(
    ("factory", "paths"),
    [
        (Rule("/bar", endpoint="bar"), {"/bar": "bar"}),
        (
            Submount("/foo", [Rule("/bar", endpoint="bar"), Rule("/", endpoint="index")]),
            {"/foo/bar": "bar", "/foo/": "index"},
        ),
        (
            Map([Submount("/a", [Submount("/b", [Rule("/c", endpoint="bar")])])]),
            {"/a/b/c": "bar"},
        ),
    ],
)
def test_werkzeug_rules_added_to_the_url_map(factory: Rule, paths: dict[str, str]) -> None:
    app = Kettle(__name__)
    app.url_map.add(factory)
    for name in set(paths.values()):
        app.view_functions[name] = lambda: request.endpoint
    client = TestClient(app)
    for path, endpoint in paths.items():
        assert client.get(path).text == endpoint


def test_rule_methods_and_defaults() -> None:
    app = Kettle(__name__)
    app.url_map.add(Rule("/page", endpoint="page", methods=["post"], defaults={"n": 1}))

    @app.endpoint("page")
    def page(n: int) -> str:
        return str(n)

    client = TestClient(app)
    assert client.post("/page").text == "1"
    assert client.get("/page").status_code == 405


def test_rule_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="slash"):
        Rule("bar", endpoint="bar")


@pytest.mark.parametrize("blueprint", [False, True])
def test_route_endpoint_names_the_route(blueprint: bool) -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__, url_prefix="/py")
    where = bp if blueprint else app

    @where.route("/bar/123", endpoint="123")
    def named() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp)
    path = "/py/bar/123" if blueprint else "/bar/123"
    assert TestClient(app).get(path).text == ("bp.123" if blueprint else "123")


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        ("", "/", "/"),
        ("/", "", "/"),
        ("/", "/", "/"),
        ("/foo", "", "/foo"),
        ("/foo/", "", "/foo/"),
        ("", "/bar", "/bar"),
        ("/foo/", "/bar", "/foo/bar"),
        ("/foo/", "bar", "/foo/bar"),
        ("/foo", "/bar", "/foo/bar"),
        ("/foo/", "//bar", "/foo/bar"),
        ("/foo//", "/bar", "/foo/bar"),
    ],
)
def test_blueprint_prefix_and_rule_join_with_one_slash(prefix: str, rule: str, url: str) -> None:
    app = Kettle(__name__)
    bp = Blueprint("test", __name__, url_prefix=prefix)

    @bp.route(rule)
    def index():  # type: ignore[no-untyped-def]  # a Flask view, unannotated
        return "", 204

    app.register_blueprint(bp)
    assert TestClient(app).get(url).status_code == 204


def test_blueprint_endpoint_names_cannot_have_dots() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="dot"):
        bp.route("/", endpoint="a.b")(lambda: "")
    with pytest.raises(ValueError, match="dot"):
        bp.add_url_rule("/", endpoint="a.b")

    def view() -> str:
        return ""

    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="dot"):
        bp.add_url_rule("/", view_func=view)


def test_one_blueprint_registered_twice_under_two_names() -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__)
    sub = Blueprint("sub", __name__)

    @bp.get("/")
    def index() -> str:
        return request.endpoint or ""

    @sub.get("/")
    def inner() -> str:
        return request.endpoint or ""

    bp.register_blueprint(sub, url_prefix="/a/", name="nested")
    app.register_blueprint(bp, url_prefix="/a")
    app.register_blueprint(bp, url_prefix="/b/", name="alt")
    client = TestClient(app)
    assert [client.get(p).text for p in ("/a/", "/b/", "/a/a/", "/b/a/")] == [
        "bp.index",
        "alt.index",
        "bp.nested.inner",
        "alt.nested.inner",
    ]


@pytest.mark.parametrize(("same", "name"), [(True, None), (False, None), (True, "a.b")])
def test_blueprint_names_are_unique_in_an_app(same: bool, name: str | None) -> None:
    app = Kettle(__name__)
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match=r"registered|dot"):
        app.register_blueprint(bp if same else Blueprint("bp", __name__), name=name)


def test_a_blueprint_is_not_registered_on_itself() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="itself"):
        bp.register_blueprint(bp)


def test_methods_given_as_one_string_are_refused() -> None:
    with pytest.raises(TypeError, match="list of names"):
        Kettle(__name__).add_url_rule("/", methods="GET POST", endpoint="test")
