"""Routing: path syntax, converters, 404/405, HEAD/OPTIONS, trailing slashes, names, routers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kettle import ConfigurationError, Converter, Kettle, NoMatchFound, Request, Router, WebSocket
from kettle.testing import TestClient


def make_app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> str:
        return "home"

    @app.get("/items/{item_id:int}")
    async def item_int(item_id: int) -> dict[str, Any]:
        return {"kind": "int", "value": item_id}

    @app.get("/items/{slug}")
    async def item_str(slug: str) -> dict[str, Any]:
        return {"kind": "str", "value": slug}

    @app.get("/items/me")
    async def item_me() -> dict[str, Any]:
        return {"kind": "static"}

    @app.get("/prices/<float:price>")
    async def price(price: float) -> dict[str, Any]:
        return {"value": price}

    @app.get("/ids/{ident:uuid}")
    async def ident(ident: uuid.UUID) -> dict[str, Any]:
        return {"value": str(ident), "type": type(ident).__name__}

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> dict[str, Any]:
        return {"value": rest}

    @app.get("/flask/<name>/<int:n>")
    def flask_style(name: str, n: int) -> dict[str, Any]:
        return {"name": name, "n": n}

    @app.get("/docs/{stem}.{ext}")
    async def doc(stem: str, ext: str) -> dict[str, Any]:
        return {"stem": stem, "ext": ext}

    @app.route("/multi", methods=["GET", "POST"])
    async def multi(request: Request) -> dict[str, Any]:
        return {"method": request.method}

    @app.put("/multi")
    async def multi_put() -> dict[str, Any]:
        return {"method": "PUT!"}

    @app.get("/slash/")
    async def slash() -> str:
        return "slash"

    @app.post("/noslash")
    async def noslash() -> str:
        return "noslash"

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app(), follow_redirects=False)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/42", {"kind": "int", "value": 42}),
        ("/items/abc", {"kind": "str", "value": "abc"}),
        ("/items/me", {"kind": "static"}),
        ("/items/-1", {"kind": "str", "value": "-1"}),
        ("/items/%D9%A3", {"kind": "str", "value": "٣"}),  # non-ASCII digit is not an int
        ("/items/" + "9" * 30, {"kind": "str", "value": "9" * 30}),  # too long for int
        ("/prices/2.5", {"value": 2.5}),
        ("/prices/3", {"value": 3.0}),
        (
            "/ids/12345678-1234-5678-1234-567812345678",
            {"value": "12345678-1234-5678-1234-567812345678", "type": "UUID"},
        ),
        ("/files/a/b/c.txt", {"value": "a/b/c.txt"}),
        ("/flask/bob/7", {"name": "bob", "n": 7}),
        ("/docs/readme.md", {"stem": "readme", "ext": "md"}),
    ],
)
def test_match_and_convert(client: TestClient, path: str, expected: dict[str, Any]) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.json() == expected


@pytest.mark.parametrize(
    "path",
    [
        "/prices/nan",
        "/prices/inf",
        "/prices/1e400",
        "/ids/not-a-uuid",
        "/files",
        "/flask/bob/x",
        "/nope",
        "/items/1/extra",
        "/docs/readme",
    ],
)
def test_unmatched_is_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "status", "body"),
    [
        ("GET", 200, {"method": "GET"}),
        ("POST", 200, {"method": "POST"}),
        ("PUT", 200, {"method": "PUT!"}),
    ],
)
def test_methods_on_one_path(client: TestClient, method: str, status: int, body: Any) -> None:
    response = client.request(method, "/multi")
    assert (response.status_code, response.json()) == (status, body)


def test_405_lists_allowed_methods(client: TestClient) -> None:
    response = client.delete("/multi")
    assert response.status_code == 405
    # OPTIONS is answered automatically, so the 405 lists it too (as Flask does).
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST, PUT"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_head_is_automatic_for_get_and_has_no_body(client: TestClient) -> None:
    get = client.get("/items/5")
    head = client.head("/items/5")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_options_is_automatic(client: TestClient) -> None:
    response = client.options("/multi")
    assert response.status_code == 200
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST, PUT"


class TestTrailingSlash:
    @pytest.mark.parametrize(
        ("path", "location"),
        [
            ("/slash", "/slash/"),
            ("/slash?x=1&y=%2F", "/slash/?x=1&y=%2F"),
            ("/items/5/", "/items/5"),
        ],
    )
    def test_redirects_with_308_and_a_relative_location(
        self, client: TestClient, path: str, location: str
    ) -> None:
        response = client.get(path)
        assert response.status_code == 308
        # Path-absolute: the browser keeps its scheme and host (no http downgrade).
        assert response.headers["location"] == location

    def test_redirect_keeps_method_for_post(self, client: TestClient) -> None:
        response = client.post("/noslash/")
        assert response.status_code == 308
        assert response.headers["location"] == "/noslash"

    def test_redirect_includes_root_path(self) -> None:
        client = TestClient(make_app(), root_path="/mounted", follow_redirects=False)
        response = client.get("/slash")
        assert response.headers["location"] == "/mounted/slash/"

    @pytest.mark.parametrize("path", ["//evil.com", "//evil.com/", "/\\evil.com", "/\\evil.com/"])
    def test_never_an_open_redirect(self, path: str) -> None:
        app = Kettle(__name__)

        @app.get("/{rest:path}")
        async def catch_all(rest: str) -> str:
            return rest

        @app.get("/{a}/")
        async def dir_(a: str) -> str:
            return a

        raw = TestClient(app, follow_redirects=False)
        response = raw.get("http://testserver" + path.replace("\\", "%5C"))
        location = response.headers.get("location", "")
        assert not location.startswith(("//", "/\\")), location

    def test_can_be_disabled(self) -> None:
        app = Kettle(__name__, redirect_slashes=False)

        @app.get("/a/")
        async def a() -> str:
            return "a"

        assert TestClient(app, follow_redirects=False).get("/a").status_code == 404


class TestHostilePaths:
    @pytest.mark.parametrize(
        "raw_path",
        [
            "/files/..%2F..%2Fetc%2Fpasswd",
            "/files/%2e%2e/%2e%2e/etc/passwd",
            "/files/..%5c..%5cwindows",
            "/files/c%3a%5cwindows",
            "/files/%00",
            "/files/CON.txt",
            "/files/" + "a/" * 2000,
        ],
    )
    def test_path_values_are_data_not_filesystem_paths(
        self, client: TestClient, raw_path: str
    ) -> None:
        # The router matches on the decoded path; what a handler does with the value is
        # its business (static files are checked separately). It must never 500.
        response = client.get(raw_path)
        assert response.status_code == 200

    @pytest.mark.parametrize("path", ["*", "http://evil.com/items/1", "", "items/1"])
    def test_request_target_not_starting_with_slash_is_400(self, path: str) -> None:
        app = make_app()
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
        import anyio

        anyio.run(app, scope, receive, send)
        assert messages[0]["status"] == 400


def test_static_route_falls_through_to_parametrized_for_other_methods() -> None:
    app = Kettle(__name__)

    @app.post("/users/me")
    async def me() -> str:
        return "me"

    @app.get("/users/{name}")
    async def user(name: str) -> str:
        return name

    client = TestClient(app)
    assert client.get("/users/me").text == "me"
    assert client.post("/users/me").text == "me"
    assert client.put("/users/me").headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_backtracking_between_converters() -> None:
    app = Kettle(__name__)

    @app.get("/a/{n:int}/x")
    async def ax(n: int) -> str:
        return f"int {n}"

    @app.get("/a/{s}/y")
    async def ay(s: str) -> str:
        return f"str {s}"

    client = TestClient(app)
    assert client.get("/a/1/x").text == "int 1"
    assert client.get("/a/1/y").text == "str 1"


def test_thousand_routes_each_reachable() -> None:
    app = Kettle(__name__)
    for i in range(1000):

        async def handler(x: int, i: int = i) -> dict[str, int]:
            return {"route": i, "x": x}

        app.add_route(f"/r{i}/{{x:int}}", handler, name=f"r{i}")
    client = TestClient(app)
    for i in (0, 1, 500, 999):
        assert client.get(f"/r{i}/7").json() == {"route": i, "x": 7}


class TestUrlPathFor:
    def test_builds_paths_with_converters_and_quoting(self) -> None:
        app = make_app()
        assert app.url_path_for("item_int", item_id=3) == "/items/3"
        assert app.url_path_for("item_str", slug="a b/c") == "/items/a%20b%2Fc"
        assert app.url_path_for("files", rest="a/b c") == "/files/a/b%20c"
        assert app.url_path_for("doc", stem="x", ext="md") == "/docs/x.md"
        assert app.url_path_for("index") == "/"

    @pytest.mark.parametrize(
        ("name", "params"),
        [
            ("nope", {}),
            ("item_int", {}),
            ("item_int", {"item_id": 1, "extra": 2}),
            ("item_int", {"item_id": -1}),
        ],
    )
    def test_misfits_raise(self, name: str, params: dict[str, Any]) -> None:
        with pytest.raises(NoMatchFound):
            make_app().url_path_for(name, **params)

    def test_request_url_for_is_absolute(self) -> None:
        app = Kettle(__name__)

        @app.get("/here")
        async def here(request: Request) -> str:
            return str(request.url_for("here"))

        assert TestClient(app).get("/here").text == "http://testserver/here"


class TestRouters:
    def test_prefixes_nest_and_routes_added_after_include_are_seen(self) -> None:
        app = Kettle(__name__)
        api = Router(prefix="/api")
        users = Router(prefix="/users")

        @users.get("/{user_id:int}")
        async def get_user(user_id: int) -> dict[str, int]:
            return {"id": user_id}

        api.include_router(users, prefix="/v1")
        app.include_router(api)
        client = TestClient(app)
        assert client.get("/api/v1/users/3").json() == {"id": 3}

        @users.get("/")
        async def list_users() -> list[int]:
            return [1, 2]

        assert client.get("/api/v1/users/").json() == [1, 2]
        assert app.url_path_for("get_user", user_id=9) == "/api/v1/users/9"

    def test_named_routers_qualify_names(self) -> None:
        app = Kettle(__name__)
        auth = Router(prefix="/auth", name="auth")

        @auth.get("/login")
        async def login() -> str:
            return "login"

        app.include_router(auth)
        assert app.url_path_for("auth.login") == "/auth/login"

    @pytest.mark.parametrize("prefix", ["api", "/api/"])
    def test_bad_prefix_rejected(self, prefix: str) -> None:
        with pytest.raises(ValueError, match="prefix"):
            Router(prefix=prefix)

    def test_router_cycle_rejected(self) -> None:
        a, b = Router(prefix="/a"), Router(prefix="/b")
        a.include_router(b)
        with pytest.raises(ValueError, match="cycle"):
            b.include_router(a)
        with pytest.raises(ValueError, match="cycle"):
            a.include_router(a)


class Hex(Converter):
    python_type = int

    def convert(self, value: str) -> int:
        return int(value, 16)

    def to_url(self, value: Any) -> str:
        return format(value, "x")


def test_custom_converter() -> None:
    app = Kettle(__name__)
    app.register_converter("hex", Hex)

    @app.get("/color/{value:hex}")
    async def color(value: int) -> int:
        return value

    client = TestClient(app)
    assert client.get("/color/ff").json() == 255
    assert client.get("/color/zz").status_code == 404
    assert app.url_path_for("color", value=255) == "/color/ff"


def _handler(x: int) -> None:  # pragma: no cover - never called
    pass


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/x/{x:nope}", "unknown converter 'nope'"),
        ("/x/{x}/{x}", "appears twice"),
        ("/x/{x:path}/y", "last segment"),
        ("/x/{1x}", "invalid parameter name"),
        ("x/{x}", "must start with '/'"),
        ("/x/{x", "unbalanced"),
        ("/x/{y}", "no parameter of that name"),
    ],
)
def test_bad_declarations_fail_at_compile_naming_the_handler(path: str, match: str) -> None:
    app = Kettle(__name__)
    app.add_route(path, _handler)
    with pytest.raises(ConfigurationError, match=match) as info:
        app.compile()
    assert "_handler" in str(info.value)


class Opaque:
    """A type pydantic cannot validate: no parameter can be bound to it."""


def test_unbindable_parameter_is_a_configuration_error() -> None:
    app = Kettle(__name__)

    @app.get("/x")
    async def needs(thing: Opaque) -> str:  # pragma: no cover - never called
        return "x"

    with pytest.raises(ConfigurationError, match="needs"):
        TestClient(app).get("/x")


def test_shared_route_names_compile_and_only_their_lookup_fails() -> None:
    # As in FastAPI: two routers may each have a handler called read_all.
    app = Kettle(__name__)

    async def a() -> str:
        return "a"

    app.add_route("/a", a)
    app.add_route("/a2", a)  # one view, two URLs: fine (as in Flask)
    assert app.url_path_for("a") == "/a"

    async def b() -> str:
        return "b"

    app.add_route("/b", b, name="a")
    client = TestClient(app)
    assert (client.get("/a").text, client.get("/b").text) == ("a", "b")
    # _external=False: outside a request, an absolute URL would first ask for SERVER_NAME.
    for lookup in (lambda: app.url_path_for("a"), lambda: app.url_for("a", _external=False)):
        with pytest.raises(
            NoMatchFound,
            match=r"route name 'a' is ambiguous: .*\ba\b.* and .*\bb\b.*paths: /a, /a2, /b\)",
        ):
            lookup()


def test_same_path_and_method_twice_rejected() -> None:
    app = Kettle(__name__)

    @app.get("/x")
    async def one() -> str:  # pragma: no cover - never called
        return "1"

    @app.get("/x", name="two")
    async def two() -> str:  # pragma: no cover - never called
        return "2"

    with pytest.raises(ConfigurationError, match="already routed"):
        app.compile()


def test_unknown_method_rejected_at_declaration() -> None:
    with pytest.raises(ValueError, match="unknown HTTP method"):
        Kettle(__name__).add_route("/", _handler, methods=["FETCH"])


def test_routes_added_after_first_request_are_served() -> None:
    app = Kettle(__name__)
    client = TestClient(app)
    assert client.get("/late").status_code == 404

    @app.get("/late")
    async def late() -> str:
        return "here"

    assert client.get("/late").text == "here"


def test_kwargs_handlers_receive_every_path_value() -> None:
    app = Kettle(__name__)

    @app.get("/<a>/<int:b>")
    def view(**values: Any) -> dict[str, Any]:
        return values

    assert TestClient(app).get("/x/2").json() == {"a": "x", "b": 2}


@pytest.mark.parametrize(
    ("option", "value"),
    [("response_modle", int), ("satus_code", 201), ("owners", ()), ("blueprint", "x")],
)
def test_unknown_route_options_name_the_option_and_the_handler(option: str, value: Any) -> None:
    app = Kettle(__name__)

    def handler() -> str:  # pragma: no cover - never routed
        return "x"

    with pytest.raises(ConfigurationError, match=rf"handler \(.*test_routing.py:\d+\).*'{option}'"):
        app.add_route("/x", handler, **{option: value})


def test_known_extra_options_are_kept() -> None:
    app = Kettle(__name__)
    route = app.add_route("/x", lambda: "x", response_model_exclude_none=True)
    assert route.options == {"response_model_exclude_none": True}


def test_router_and_include_responses_and_deprecation_reach_every_route() -> None:
    """FastAPI's ``APIRouter(responses=..., deprecated=...)`` and the same arguments of
    ``include_router``: the outermost first, the route's own win."""
    from kettle import Kettle, Router

    items = Router(prefix="/items", responses={404: {"description": "Not found"}})

    @items.get("/{item_id:int}", responses={404: {"description": "No such item"}})
    async def read_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @items.get("/")
    async def read_items() -> list[int]:
        return []

    app = Kettle(__name__)
    app.include_router(
        items, responses={418: {"description": "Teapot"}, 404: {"description": "?"}},
        deprecated=True,
    )  # fmt: skip
    paths = app.openapi()["paths"]
    one, many = paths["/items/{item_id}"]["get"], paths["/items/"]["get"]
    assert one["responses"]["404"]["description"] == "No such item"
    assert many["responses"]["404"]["description"] == "Not found"
    assert one["responses"]["418"]["description"] == "Teapot"
    assert one["deprecated"] is True
    assert many["deprecated"] is True
    plain = Router()

    @plain.get("/other")
    async def other() -> str:
        return "x"

    app.include_router(plain)
    other_op = app.openapi()["paths"]["/other"]["get"]
    assert "deprecated" not in other_op
    assert "418" not in other_op["responses"]


class TestMount:
    @staticmethod
    def raw(tag: str) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            body = f"{tag} {scope['root_path']} {scope['path']}".encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

        return app

    def make(self) -> Any:
        sub = Kettle(__name__)

        @sub.get("/ping")
        async def ping(request: Request) -> dict[str, str]:
            return {"root_path": request.scope["root_path"], "url": str(request.url)}

        app = Kettle(__name__)
        app.mount("/api", sub)
        app.mount("/files", self.raw("files"), name="files")
        app.mount("/files/deep", self.raw("deep"))

        @app.get("/files/routed")
        async def routed() -> str:
            return "a route wins"

        return app

    def test_a_mounted_kettle_app_sees_its_root_path(self) -> None:
        with TestClient(self.make()) as client:
            answer = client.get("/api/ping").json()
        assert answer == {"root_path": "/api", "url": "http://testserver/api/ping"}

    @pytest.mark.parametrize(
        ("path", "text"),
        [
            ("/files", "files /files /files"),
            ("/files/a.txt", "files /files /files/a.txt"),
            ("/files/deep/x", "deep /files/deep /files/deep/x"),
            ("/files/routed", "a route wins"),
        ],
    )
    def test_the_longest_mount_takes_what_no_route_does(self, path: str, text: str) -> None:
        with TestClient(self.make()) as client:
            assert client.get(path).text == text

    @pytest.mark.parametrize("path", ["/filesx", "/apix/ping", "/nothing"])
    def test_only_whole_segments_reach_a_mount(self, path: str) -> None:
        with TestClient(self.make()) as client:
            assert client.get(path).status_code == 404

    def test_a_named_mount_builds_urls(self) -> None:
        app = self.make()
        assert app.url_path_for("files", path="css/site.css") == "/files/css/site.css"
        # Starlette users write the leading slash.
        assert app.url_path_for("files", path="/css/site.css") == "/files/css/site.css"

    def test_mounts_inside_an_included_router_get_its_prefix(self) -> None:
        inner = Router(prefix="/v1")
        inner.mount("/static", self.raw("static"))
        app = Kettle(__name__)
        app.include_router(inner, prefix="/api")
        with TestClient(app) as client:
            assert client.get("/api/v1/static/x").text == "static /api/v1/static /api/v1/static/x"

    @pytest.mark.parametrize("path", ["static", "/static/", "/a/../b/"])
    def test_bad_mount_paths_are_refused(self, path: str) -> None:
        with pytest.raises(ValueError, match="mount path"):
            Kettle(__name__).mount(path, self.raw("x"))

    def test_a_websocket_reaches_a_mounted_app(self) -> None:
        sub = Kettle(__name__)

        @sub.websocket("/echo")
        async def echo(ws: WebSocket) -> None:
            await ws.accept()
            await ws.send_text(await ws.receive_text())
            await ws.close()

        app = Kettle(__name__)
        app.mount("/live", sub)
        with TestClient(app) as client, client.websocket_connect("/live/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"


@pytest.mark.parametrize(("fastapi", "status"), [(False, 308), (True, 307)])
def test_trailing_slash_redirect_status(fastapi: bool, status: int) -> None:
    from kettle.fastapi import FastAPI

    app = FastAPI() if fastapi else Kettle(__name__)

    @app.post("/items/")
    async def create() -> dict[str, bool]:
        return {"ok": True}

    response = TestClient(app, follow_redirects=False).post("/items?x=1", json={})
    assert response.status_code == status
    assert response.headers["location"] == "/items/?x=1"


def test_flask_route_defaults_and_any_converter() -> None:
    app = Kettle(__name__)

    @app.route("/", defaults={"kind": "fetch"})
    @app.route("/<any(xhr, jquery, fetch):kind>")
    def index(kind: str) -> dict[str, Any]:
        from kettle import request

        return {"kind": kind, "view_args": request.view_args}

    client = TestClient(app)
    assert client.get("/").json() == {"kind": "fetch", "view_args": {"kind": "fetch"}}
    assert client.get("/xhr").json()["kind"] == "xhr"
    assert client.get("/other").status_code == 404
    assert app.url_for("index", _external=False) == "/"
    assert app.url_for("index", kind="jquery", _external=False) == "/jquery"


def test_route_defaults_are_not_documented_as_path_parameters() -> None:
    app = Kettle(__name__)

    @app.route("/page", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(n: int) -> dict[str, int]:
        return {"n": n}

    paths = app.openapi()["paths"]
    assert "parameters" not in paths["/page"]["get"]
    assert [p["name"] for p in paths["/page/{n}"]["get"]["parameters"]] == ["n"]
    client = TestClient(app)
    assert client.get("/page").json() == {"n": 1}
    assert client.get("/page/3").json() == {"n": 3}


class TestAutomaticOptions:
    @staticmethod
    def app_with(**route_options: Any) -> TestClient:
        app = Kettle(__name__)

        def view() -> str:
            return "view"

        for key, value in route_options.pop("attr", {}).items():
            setattr(view, key, value)
        app.add_url_rule("/", view_func=view, **route_options)
        return TestClient(app)

    @pytest.mark.parametrize(
        ("options", "status", "allow"),
        [
            ({}, 200, "GET, HEAD, OPTIONS"),
            ({"provide_automatic_options": False}, 405, "GET, HEAD"),
            ({"attr": {"provide_automatic_options": False}}, 405, "GET, HEAD"),
            # Asked for, the automatic answer beats the route's own OPTIONS.
            ({"methods": ["OPTIONS"], "provide_automatic_options": True}, 200, "OPTIONS"),
        ],
    )
    def test_options_answer(self, options: dict[str, Any], status: int, allow: str) -> None:
        response = self.app_with(**options).options("/")
        assert (response.status_code, response.headers["allow"]) == (status, allow)
        assert response.text != "view"

    def test_a_routed_options_is_the_routes_own(self) -> None:
        response = self.app_with(methods=["GET", "OPTIONS"]).options("/")
        assert (response.status_code, response.text) == (200, "view")

    @pytest.mark.parametrize(
        ("automatic", "allow"), [(True, "GET, HEAD, OPTIONS"), (False, "GET, HEAD")]
    )
    def test_the_405_lists_options_when_it_is_answered(self, automatic: bool, allow: str) -> None:
        response = self.app_with(provide_automatic_options=automatic).post("/")
        assert (response.status_code, response.headers["allow"]) == (405, allow)


@pytest.mark.parametrize("method", ["PROPFIND", "MKCOL", "REPORT"])
def test_webdav_extension_methods_are_routable(method: str) -> None:
    app = Kettle(__name__)

    def echo(request: Request) -> str:
        return request.method

    app.add_route("/echo", echo, methods=[method])
    assert TestClient(app).request(method, "/echo").text == method
