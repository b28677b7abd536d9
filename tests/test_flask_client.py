"""Flask's test client (``app.test_client()``): its calling conventions, the kept
context of ``with client:``, and Werkzeug's response and request names."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from conftest import KEY

from kettle import JSONResponse, Kettle, RedirectResponse, Response, g, redirect, request, session
from kettle.environbuilder import EnvironBuilder
from kettle.flasktesting import FlaskClient
from kettle.testing import TestClient


def echo_app() -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = KEY

    @app.route("/echo", methods=["GET", "POST", "PUT"])
    def echo() -> dict[str, Any]:
        files = {name: request.files[name].filename for name in request.files}
        form = request.mimetype.endswith(("form-data", "urlencoded"))
        return {
            "method": request.method,
            "url": request.url,
            "root": request.root_path,
            "args": dict(request.args),
            "form": request.form.to_dict(),
            "files": files,
            "type": request.mimetype,
            "body": "" if form else request.get_data(as_text=True),
            "agent": request.user_agent.string,
            "addr": request.remote_addr,
            "x": request.headers.get("x-tag"),
        }

    @app.route("/login", methods=["POST"])
    def login() -> Any:
        session["user"] = request.form["user"]
        g.seen = "login"
        return redirect("/me")

    @app.route("/me")
    def me() -> str:
        g.seen = "me"
        return str(session.get("user", "nobody"))

    return app


@pytest.fixture
def client() -> FlaskClient:
    client = echo_app().test_client()
    assert isinstance(client, FlaskClient)
    return client


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": {"a": "1"}}, {"form": {"a": "1"}, "type": "application/x-www-form-urlencoded"}),
        ({"data": "raw text", "content_type": "text/plain"}, {"body": "raw text"}),
        ({"data": b"\x00\x01", "content_type": "application/octet-stream"}, {"body": "\x00\x01"}),
        ({"json": {"a": [1]}}, {"type": "application/json", "body": json.dumps({"a": [1]})}),
        ({"query_string": {"q": "tea"}}, {"args": {"q": "tea"}}),
        ({"query_string": "q=tea"}, {"args": {"q": "tea"}}),
        ({"headers": {"X-Tag": "t"}}, {"x": "t"}),
        ({"headers": [("X-Tag", "t")]}, {"x": "t"}),
        ({"environ_base": {"REMOTE_ADDR": "10.0.0.1"}}, {"addr": "10.0.0.1"}),
        ({"environ_overrides": {"HTTP_USER_AGENT": "bot/1"}}, {"agent": "bot/1"}),
        (
            {"data": {"f": (io.BytesIO(b"x"), "a.txt"), "n": "1"}},
            {"files": {"f": "a.txt"}, "form": {"n": "1"}, "type": "multipart/form-data"},
        ),
        (
            {"base_url": "https://example.com:8443/root"},
            {"url": "https://example.com:8443/root/echo"},
        ),
        ({"url_scheme": "https"}, {"url": "https://localhost/echo"}),
    ],
)
def test_request_arguments(
    client: FlaskClient, kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    method = "put" if "data" in kwargs or "json" in kwargs else "get"
    body = getattr(client, method)("/echo", **kwargs).json
    for key, value in expected.items():
        assert body[key] == value, key


def test_defaults_from_config_and_environ_base(client: FlaskClient) -> None:
    assert client.get("/echo").json["url"] == "http://localhost/echo"
    client.app.config.update(SERVER_NAME="example.com:1234", APPLICATION_ROOT="/foo")  # type: ignore[attr-defined]
    client.environ_base["REMOTE_ADDR"] = "192.168.0.22"
    body = client.get("/echo").json
    assert (body["url"], body["root"], body["addr"]) == (
        "http://example.com:1234/foo/echo",
        "/foo",
        "192.168.0.22",
    )
    assert body["agent"].startswith("kettle/")


@pytest.mark.parametrize(
    "args",
    [("http://other.test/echo?q=1",), ("/echo?q=1", "http://other.test")],
)
def test_whole_url_or_base_url_positional(client: FlaskClient, args: tuple[str, ...]) -> None:
    body = client.get(*args).json
    assert body["url"] == "http://other.test/echo?q=1"
    assert body["args"] == {"q": "1"}


def test_redirects_are_not_followed_unless_asked(client: FlaskClient) -> None:
    response = client.post("/login", data={"user": "ada"})
    assert (response.status_code, response.headers["Location"], response.location) == (
        302,
        "/me",
        "/me",
    )
    assert client.post("/login", data={"user": "ada"}, follow_redirects=True).data == b"ada"
    # kettle's own client keeps FastAPI's default: redirects followed.
    assert TestClient(echo_app()).post("/login", data={"user": "ada"}).text == "ada"


def test_with_client_keeps_the_last_context(client: FlaskClient) -> None:
    with client:
        client.post("/login", data={"user": "ada"}, follow_redirects=True)
        assert (request.path, session["user"], g.seen) == ("/me", "ada", "me")
        client.post("/echo?q=1", data={"a": "2"})
        assert (request.args["q"], request.form["a"]) == ("1", "2")
    with pytest.raises(RuntimeError):
        request.path  # noqa: B018
    with client:  # the client is reusable after its block
        assert client.get("/me").data == b"ada"


def test_open_takes_a_builder_or_an_environ(client: FlaskClient) -> None:
    builder = EnvironBuilder(client.app, "/echo", method="POST", data={"a": "1"})
    assert client.open(builder).json["form"] == {"a": "1"}
    environ = builder.get_environ()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert client.open(environ).json["addr"] == "127.0.0.2"


def test_environ_builder_describes_the_request() -> None:
    app = Kettle(__name__)
    builder = EnvironBuilder(app, "https://example.com/a?b=1")
    assert (builder.url_scheme, builder.host, builder.script_root, builder.path) == (
        "https",
        "example.com",
        "",
        "/a",
    )
    assert builder.query_string == "b=1"
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    assert EnvironBuilder(app, json="\u20ac").input_stream.read().decode() == '"\u20ac"'


def test_session_transaction(client: FlaskClient) -> None:
    with client.session_transaction() as sess:
        assert len(sess) == 0
        sess["user"] = "ada"
    assert client.get("/me").data == b"ada"
    with client.session_transaction() as sess:
        assert sess["user"] == "ada"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Kettle(__name__).test_client(), RuntimeError, "did not open a session"),
        (lambda: echo_app().test_client(use_cookies=False), TypeError, "Cookies are disabled"),
    ],
)
def test_session_transaction_refusals(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message), make().session_transaction():
        pass


def test_without_cookies_nothing_is_kept() -> None:
    client = echo_app().test_client(use_cookies=False)
    client.post("/login", data={"user": "ada"})
    assert client.get("/me").data == b"nobody"


def test_response_names(client: FlaskClient) -> None:
    response = client.get("/echo")
    assert response.json()["method"] == response.json["method"] == "GET"  # both spellings
    assert response.json == response.get_json()
    assert "method" in response.json
    assert response.headers.getlist("content-type") == response.headers.get_all("Content-Type")
    assert response.get_data(as_text=True).startswith("{")


@pytest.mark.parametrize(
    ("response", "data", "mimetype", "status"),
    [
        (Response("hi", media_type="text/html"), b"hi", "text/html", "200 OK"),
        (JSONResponse({"a": 1}, status_code=201), b'{"a":1}', "application/json", "201 Created"),
        (RedirectResponse("/x", 302), b"", None, "302 Found"),
    ],
)
def test_werkzeug_response_attributes(
    response: Response, data: bytes, mimetype: str | None, status: str
) -> None:
    assert (response.data, response.mimetype, response.status) == (data, mimetype, status)
    response.data = "changed"
    assert (response.get_data(), response.headers["content-length"]) == (b"changed", "7")
    response.status = 404
    response.mimetype = "text/plain"
    assert (response.status_code, response.content_type) == (404, "text/plain; charset=utf-8")
    assert response.mimetype_params == {"charset": "utf-8"}
    assert response.headers.get_all("content-type") == ["text/plain; charset=utf-8"]


def test_request_limits_are_assignable() -> None:
    app = Kettle(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.route("/", methods=["POST"])
    def index() -> str:
        seen = request.max_content_length
        request.max_content_length = 3
        return f"{seen} {len(request.get_data())}"

    client = app.test_client()
    assert client.post("/", data="ab").data == b"100 2"
    assert client.post("/", data="abcd").status_code == 413


def test_vary_is_a_header_set() -> None:
    app = Kettle(__name__)
    app.secret_key = KEY

    @app.route("/")
    def index() -> Response:
        response = Response("")
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        response.vary.add("accept-encoding")  # listed already, whatever its case
        session["seen"] = True
        return response

    response = app.test_client().get("/")
    assert response.headers.get_all("Vary") == ["Accept-Encoding, Accept-Language, Cookie"]
    assert "cookie" in response.vary
    assert sorted(response.vary) == ["Accept-Encoding", "Accept-Language", "Cookie"]


@pytest.mark.parametrize(
    ("returned", "status"),
    [
        ((Response("x", 404), {"X-A": "1"}), 404),  # headers only: the response's status
        ((Response("x", 404), 500), 500),
        ((Response("x", 404), 201, {"X-A": "1"}), 201),
    ],
)
def test_a_response_in_a_tuple_keeps_its_status_unless_given(returned: Any, status: int) -> None:
    app = Kettle(__name__)
    app.add_url_rule("/", "index", lambda: returned)
    assert app.test_client().get("/").status_code == status


def test_non_ascii_paths() -> None:
    app = Kettle(__name__)

    @app.route("/кофе/<name>")
    def coffee(name: str) -> str:
        return f"{request.path} {name}"

    assert app.test_client().get("/кофе/лате").get_data(as_text=True) == "/кофе/лате лате"
