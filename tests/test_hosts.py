"""Routing on the host: subdomain matching, host matching, SERVER_NAME and url_for."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from kettle import Blueprint, ConfigurationError, Kettle
from kettle.routing.hosts import HostRouting, request_host
from kettle.testing import TestClient


def _scope(host: bytes | None, scheme: str = "http") -> dict[str, Any]:
    headers = [] if host is None else [(b"host", host)]
    return {"type": "http", "scheme": scheme, "headers": headers, "server": ("10.0.0.1", 8000)}


@pytest.mark.parametrize(
    ("host", "scheme", "expected"),
    [
        (b"Example.TEST", "http", "example.test"),
        (b"example.test:80", "http", "example.test"),
        (b"example.test:443", "https", "example.test"),
        (b"example.test:443", "http", "example.test:443"),
        (b"[::1]:8000", "http", "[::1]:8000"),
        (None, "http", "10.0.0.1:8000"),
    ],
)
def test_request_host_is_normalised(host: bytes | None, scheme: str, expected: str) -> None:
    assert request_host(_scope(host, scheme)) == expected


@pytest.mark.parametrize(
    "host",
    [b"evil.test/../admin", b"a b", b"ex\xe4mple.test", b"x%2f.test", b"a\r\nb", b"@x", b"a" * 400],
)
def test_a_host_that_is_no_host_name_is_refused(host: bytes) -> None:
    assert request_host(_scope(host)) is None


def _subdomain_app() -> Kettle:
    app = Kettle(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test:8000"

    @app.route("/")
    def home() -> str:
        return "home"

    @app.route("/", subdomain="<user>")
    def user_home(user: str) -> str:
        return f"home of {user}"

    @app.route("/items/<int:item_id>", subdomain="api")
    def item(item_id: int) -> str:
        return f"item {item_id}"

    return app


@pytest.mark.parametrize(
    ("base_url", "path", "status", "text"),
    [
        ("http://example.test:8000", "/", 200, "home"),
        ("http://ada.example.test:8000", "/", 200, "home of ada"),
        ("http://api.example.test:8000", "/items/3", 200, "item 3"),
        ("http://ada.example.test:8000", "/items/3", 404, None),
        ("http://example.test:8000", "/items/3", 404, None),
    ],
)
def test_subdomain_routes(base_url: str, path: str, status: int, text: str | None) -> None:
    response = TestClient(_subdomain_app(), base_url=base_url).get(path)
    assert response.status_code == status
    if text is not None:
        assert response.text == text


def test_a_host_outside_server_name_matches_no_literal_subdomain() -> None:
    client = TestClient(_subdomain_app(), base_url="http://other.test:8000")
    with pytest.warns(UserWarning, match="SERVER_NAME"):
        assert client.get("/items/3").status_code == 404


@pytest.mark.parametrize("host", ["evil.test/x", "a b.example.test", "%00.example.test"])
def test_a_hostile_host_header_is_a_clean_400(host: str) -> None:
    client = TestClient(_subdomain_app())
    response = client.get("/", headers={"host": host})
    assert response.status_code == 400


def test_blueprint_subdomains_join_innermost_first() -> None:
    app = Kettle(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, subdomain="api")

    @child.route("/")
    def index() -> str:
        return "child"

    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="v1")
    assert TestClient(app, base_url="http://api.v1.example.test").get("/").text == "child"
    assert TestClient(app, base_url="http://v1.example.test").get("/").status_code == 404


def test_one_blueprint_registered_under_two_subdomains_serves_both() -> None:
    # The subdomain given to register_blueprint is this registration's, not the
    # blueprint's: registered twice (two names), it answers on both, each URL its own.
    app = Kettle(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"
    shop = Blueprint("shop", __name__, subdomain="shop")

    @shop.route("/")
    def index() -> str:
        return "shop"

    app.register_blueprint(shop, subdomain="eu", name="eu")
    app.register_blueprint(shop, subdomain="us", name="us")
    app.register_blueprint(shop)  # under its own subdomain
    for sub in ("eu", "us", "shop"):
        assert TestClient(app, base_url=f"http://{sub}.example.test").get("/").text == "shop"
    assert TestClient(app, base_url="http://example.test").get("/").status_code == 404
    assert shop.subdomain == "shop"
    with app.app_context():
        assert app.url_for("eu.index") == "http://eu.example.test/"
        assert app.url_for("us.index") == "http://us.example.test/"
        assert app.url_for("shop.index") == "http://shop.example.test/"


def test_a_nested_registration_subdomain_is_that_registrations() -> None:
    app = Kettle(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__, subdomain="v1")
    child = Blueprint("child", __name__)

    @child.route("/")
    def index() -> str:
        return "child"

    parent.register_blueprint(child, subdomain="api")
    app.register_blueprint(parent)
    assert TestClient(app, base_url="http://api.v1.example.test").get("/").text == "child"
    assert child.subdomain is None


def test_without_subdomain_matching_subdomain_routes_only_build_urls() -> None:
    app = Kettle(__name__, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="docs")
    def docs() -> str:
        return "docs"

    assert TestClient(app, base_url="http://docs.example.test").get("/").status_code == 404
    with app.app_context():
        assert app.url_for("docs") == "http://docs.example.test/"


def test_url_for_names_the_subdomain() -> None:
    app = _subdomain_app()
    with app.app_context():
        assert app.url_for("user_home", user="ada") == "http://ada.example.test:8000/"
        assert app.url_for("item", item_id=2) == "http://api.example.test:8000/items/2"
    with app.test_request_context("/", base_url="http://api.example.test:8000"):
        # the same subdomain as the request's: a relative URL, unless asked otherwise
        assert app.url_for("item", item_id=2) == "/items/2"
        assert app.url_for("home") == "http://example.test:8000/"


def test_host_matching() -> None:
    app = Kettle(__name__, host_matching=True, static_folder=None)

    @app.route("/", host="<tenant>.shop.test")
    def shop(tenant: str) -> str:
        return f"shop {tenant}"

    @app.route("/", host="admin.test")
    def admin() -> str:
        return "admin"

    assert TestClient(app, base_url="http://ada.shop.test").get("/").text == "shop ada"
    assert TestClient(app, base_url="http://admin.test").get("/").text == "admin"
    assert TestClient(app, base_url="http://other.test").get("/").status_code == 404
    with app.test_request_context("/", base_url="http://admin.test"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert app.url_for("shop", tenant="bo") == "http://bo.shop.test/"
        assert app.url_for("admin") == "/"


def test_static_host_needs_host_matching() -> None:
    with pytest.raises(ConfigurationError, match="static_host"):
        Kettle(__name__, static_host="static.test")
    with pytest.raises(ConfigurationError, match="static_host"):
        Kettle(__name__, host_matching=True)


def test_an_app_without_host_matching_routes_on_the_path_alone() -> None:
    routing = HostRouting.for_app(Kettle(__name__, static_folder=None))
    assert routing.key_function() is None


def test_test_request_context_knows_the_route_of_its_host_and_path() -> None:
    app = _subdomain_app()
    with app.test_request_context("/items/7", base_url="http://api.example.test:8000") as ctx:
        assert ctx.request.endpoint == "item"
        assert ctx.request.view_args == {"item_id": 7}
    with app.test_request_context("/items/7", base_url="http://ada.example.test:8000") as ctx:
        assert ctx.request.endpoint is None


@pytest.mark.parametrize(
    ("method", "path", "status", "header", "value"),
    [
        ("GET", "/items/3/", 308, "location", "/items/3"),
        ("POST", "/items/3", 405, "allow", "GET, HEAD, OPTIONS"),
        ("OPTIONS", "/items/3", 200, "allow", "GET, HEAD, OPTIONS"),
    ],
)
def test_slash_redirects_405_and_options_see_the_subdomain(
    method: str, path: str, status: int, header: str, value: str
) -> None:
    client = TestClient(_subdomain_app(), base_url="http://api.example.test:8000")
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status
    assert response.headers[header] == value
    # the same path on another subdomain has no route at all
    other = TestClient(_subdomain_app(), base_url="http://ada.example.test:8000")
    assert other.request(method, path, follow_redirects=False).status_code == 404
