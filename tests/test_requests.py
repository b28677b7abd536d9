"""The Request object: lazy parsing, limits on every parser, hostile input."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from kettle import Kettle, Limits, Request
from kettle.testing import TestClient


def make_app(**kwargs: Any) -> Kettle:
    app = Kettle(__name__, **kwargs)

    @app.route("/inspect", methods=["GET", "POST"])
    async def inspect_(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "url": str(request.url),
            "base_url": str(request.base_url),
            "query": request.query_params.multi_items(),
            "tags": request.query_params.getlist("tag"),
            "accept": request.headers.get("Accept"),
            "x_multi": request.headers.getlist("x-multi"),
            "cookies": request.cookies,
            "client": list(request.client) if request.client else None,
            "secure": request.is_secure,
        }

    @app.post("/body")
    async def body(request: Request) -> dict[str, Any]:
        data = await request.body()
        again = await request.body()
        return {"size": len(data), "same": data == again}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, Any]:
        sizes = [len(chunk) async for chunk in request.stream()]
        return {"chunks": sizes}

    @app.post("/json")
    async def json_(request: Request) -> Any:
        return {"got": await request.json()}

    @app.post("/json-force")
    async def json_force(request: Request) -> Any:
        return {"got": await request.json(force=True)}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def test_basic_properties(client: TestClient) -> None:
    response = client.get(
        "/inspect?tag=a&tag=b&empty=&x=%20y",
        headers=[
            ("Accept", "text/html"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Cookie", "session=abc"),
        ],
    )
    data = response.json()
    assert data["method"] == "GET"
    assert data["path"] == "/inspect"
    assert data["url"] == "http://testserver/inspect?tag=a&tag=b&empty=&x=%20y"
    assert data["base_url"] == "http://testserver/"
    assert data["query"] == [["tag", "a"], ["tag", "b"], ["empty", ""], ["x", " y"]]
    assert data["tags"] == ["a", "b"]
    assert data["accept"] == "text/html"
    assert data["x_multi"] == ["1", "2"]
    assert data["cookies"] == {"session": "abc"}
    assert data["client"] == ["testclient", 50000]
    assert data["secure"] is False


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "http://example.com/inspect"),
        ("example.com:8080", "http://example.com:8080/inspect"),
        ("[::1]:8000", "http://[::1]:8000/inspect"),
        ("evil.com/path?x=", "http://testserver/inspect"),
        ("user@evil.com", "http://testserver/inspect"),
        ("evil.com:99999999", "http://testserver/inspect"),
        ("", "http://testserver/inspect"),
    ],
)
def test_url_uses_only_a_well_formed_host(client: TestClient, host: str, expected: str) -> None:
    assert client.get("/inspect", headers={"host": host}).json()["url"] == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ('a="quoted"', {"a": "quoted"}),
        ("=nameless; a=1", {"a": "1"}),
        ("nameless; a=1", {"a": "1"}),
        ("a=first; a=second", {"a": "first"}),
        # Unicode whitespace must not be stripped into a __Host- name (cookie tossing).
        ("\u2000__Host-id=evil; __Host-id=good", {"__Host-id": "good"}),
        ("\u00a0session=evil; session=good", {"session": "good"}),
        ("a=1;;; ;b=2", {"a": "1", "b": "2"}),
        ("bad name=1; ok=2", {"ok": "2"}),
        ("a=x=y", {"a": "x=y"}),
    ],
)
def test_cookie_parsing_is_lenient_and_safe(header: str, expected: dict[str, str]) -> None:
    app = make_app()
    client = TestClient(app)
    response = client.get("/inspect", headers={"cookie": header.encode("utf-8")})
    assert response.json()["cookies"] == expected


def test_cookie_count_is_bounded() -> None:
    client = TestClient(make_app(limits=Limits(max_cookies=3)))
    header = "; ".join(f"c{i}={i}" for i in range(1000))
    assert client.get("/inspect", headers={"cookie": header}).json()["cookies"] == {
        "c0": "0",
        "c1": "1",
        "c2": "2",
    }


def test_too_many_query_params_is_400() -> None:
    client = TestClient(make_app(limits=Limits(max_query_params=10)))
    query = "&".join(f"k{i}=v" for i in range(11))
    response = client.get(f"/inspect?{query}")
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many query parameters"}


def test_too_many_headers_is_431() -> None:
    client = TestClient(make_app(limits=Limits(max_headers=20)))
    headers = [(f"x-h{i}", "v") for i in range(30)]
    assert client.get("/inspect", headers=headers).status_code == 431


class TestBody:
    def test_body_is_read_once_and_cached(self, client: TestClient) -> None:
        assert client.post("/body", content=b"x" * 1000).json() == {"size": 1000, "same": True}

    def test_body_limit_from_content_length_refuses_unread(self) -> None:
        client = TestClient(make_app(limits=Limits(max_body_size=100)))
        response = client.post("/body", content=b"x" * 101)
        assert response.status_code == 413
        assert "100 bytes" in response.json()["detail"]

    def test_per_route_limit_overrides_app_limit(self) -> None:
        app = make_app(limits=Limits(max_body_size=10))

        @app.post("/big", limits={"max_body_size": 1000})
        async def big(request: Request) -> int:
            return len(await request.body())

        client = TestClient(app)
        assert client.post("/big", content=b"x" * 500).json() == 500
        assert client.post("/body", content=b"x" * 500).status_code == 413

    @pytest.mark.parametrize("value", ["abc", "-1", "1e3", "99999999999999999999999", " 5"])
    def test_malformed_content_length_is_400(self, client: TestClient, value: str) -> None:
        response = client.post("/body", content=b"", headers={"content-length": value})
        assert response.status_code == 400

    def test_limit_enforced_while_streaming_without_content_length(self) -> None:
        """A chunked body that lies about nothing is still cut off at the limit."""
        app = make_app(limits=Limits(max_body_size=1000))
        received: list[int] = []
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            received.append(1)
            # An endless body: the app must stop reading after the limit.
            return {"type": "http.request", "body": b"x" * 100, "more_body": True}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = _scope("POST", "/body")
        anyio.run(app, scope, receive, send)
        assert sent[0]["status"] == 413
        assert len(received) <= 11

    def test_slow_body_times_out_with_408(self) -> None:
        app = make_app(limits=Limits(body_timeout=0.2))
        sent: list[dict[str, Any]] = []
        calls = 0

        async def receive() -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"x", "more_body": True}
            await anyio.sleep(10)  # slowloris: the rest never comes
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        started = time.monotonic()
        anyio.run(app, _scope("POST", "/body"), receive, send)
        assert sent[0]["status"] == 408
        # the rest of the body may still arrive: the connection is not to be reused
        assert (b"connection", b"close") in sent[0]["headers"]
        assert time.monotonic() - started < 2

    def test_stream_yields_chunks_as_they_arrive(self) -> None:
        app = make_app()
        parts = [b"a" * 10, b"b" * 20, b"", b"c" * 5]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            chunk = parts.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        anyio.run(app, _scope("POST", "/stream"), receive, send)
        assert sent[1]["body"] == b'{"chunks":[10,20,5]}'

    def test_client_disconnect_mid_body_does_not_crash(self) -> None:
        app = make_app()
        sent: list[dict[str, Any]] = []
        messages = [
            {"type": "http.request", "body": b"x", "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        anyio.run(app, _scope("POST", "/body"), receive, send)
        assert sent[0]["status"] == 400


class TestJSON:
    def test_parses_json(self, client: TestClient) -> None:
        assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}

    @pytest.mark.parametrize(
        "content_type",
        [
            "application/json",
            "Application/JSON",
            " application/json ; charset=utf-8",
            "application/problem+json",
            'application/json; charset="utf-8"',
        ],
    )
    def test_json_content_type_variants(self, client: TestClient, content_type: str) -> None:
        response = client.post("/json", content=b"[1]", headers={"content-type": content_type})
        assert response.json() == {"got": [1]}

    @pytest.mark.parametrize(
        "content_type",
        ["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx", "json"],
    )
    def test_json_sent_as_another_type_is_415(self, client: TestClient, content_type: str) -> None:
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/json", content=b'{"a": 1}', headers=headers)
        assert response.status_code == 415

    def test_force_accepts_any_type(self, client: TestClient) -> None:
        response = client.post(
            "/json-force", content=b"[1]", headers={"content-type": "text/plain"}
        )
        assert response.json() == {"got": [1]}

    @pytest.mark.parametrize(
        "body",
        [b"{", b"[1,]", b"NaN", b"\xff\xfe", b"", b"[" * 5000 + b"]" * 5000, b'{"a": 1} trailing'],
    )
    def test_malformed_or_hostile_json_is_400(self, client: TestClient, body: bytes) -> None:
        response = client.post("/json", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Malformed JSON body")


def test_lifespan_state_reaches_request_state() -> None:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Kettle) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "connected"}

    app = Kettle(__name__, lifespan=lifespan)

    @app.get("/")
    async def index(request: Request) -> str:
        request.state.extra = 1  # per request: must not leak into the next one
        return str(request.state.db)

    @app.get("/leak")
    async def leak(request: Request) -> bool:
        return "extra" in request.state

    with TestClient(app) as client:
        assert client.get("/").text == "connected"
        assert client.get("/leak").json() is False


def _scope(
    method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers or [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("kind", ["coroutine", "future"])
def test_body_that_arrives_late_but_in_time_is_read(kind: str) -> None:
    """A receive that has to wait goes through the timed path and still delivers."""
    import asyncio

    app = make_app(limits=Limits(body_timeout=5))
    sent: list[dict[str, Any]] = []
    parts = [b"a" * 10, b"b" * 5]

    async def late() -> dict[str, Any]:
        await asyncio.sleep(0.01)
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    def receive() -> Any:
        if kind == "coroutine":
            return late()
        return asyncio.ensure_future(late())  # a non-coroutine awaitable, as some servers give

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        await app(_scope("POST", "/body"), receive, send)

    asyncio.run(main())
    assert sent[1]["body"] == b'{"size":15,"same":true}'


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "GZIP", "gzip, identity"])
@pytest.mark.parametrize("route", ["/body", "/json", "/form"])
def test_compressed_request_bodies_are_refused(encoding: str, route: str) -> None:
    # Decoding would let a small bomb expand past every size limit (HOSTILE-INPUTS 5).
    import gzip

    app = Kettle(__name__)

    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/json")
    async def json_body(request: Request) -> Any:
        return await request.json()

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    bomb = gzip.compress(b"0" * 1_000_000)
    media = "application/x-www-form-urlencoded" if route == "/form" else "application/json"
    response = TestClient(app).post(
        route, content=bomb, headers={"content-encoding": encoding, "content-type": media}
    )
    assert response.status_code == 415
    assert "Content-Encoding" in response.json()["detail"]


def test_identity_content_encoding_is_the_plain_body() -> None:
    app = Kettle(__name__)

    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    response = TestClient(app).post(
        "/body", content=b"abc", headers={"content-encoding": "identity"}
    )
    assert response.json() == {"size": 3}


# -- the core request and the Flask API on top of it ---------------------------------------------

FLASK_NAMES = [
    "args",
    "files",
    "values",
    "get_data",
    "data",
    "is_json",
    "get_json",
    "mimetype",
    "content_length",
    "endpoint",
    "blueprint",
    "view_args",
    "remote_addr",
    "scheme",
    "host_url",
    "url_root",
    "full_path",
    "user_agent",
]


def _bare(body: bytes, content_type: bytes, cls: type[Request] = Request) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = _scope("POST", "/", [(b"content-type", content_type)])
    return cls(scope, receive)


@pytest.mark.parametrize("name", FLASK_NAMES)
def test_the_core_request_holds_nothing_flask_specific(name: str) -> None:
    from kettle.flaskrequest import FlaskRequest

    assert not hasattr(Request, name)
    assert hasattr(FlaskRequest, name)


def test_flask_request_is_the_core_request_with_no_state_of_its_own() -> None:
    from kettle.flaskrequest import FlaskRequest

    assert FlaskRequest.__mro__[1] is Request
    assert FlaskRequest.__init__ is Request.__init__
    assert "__slots__" not in vars(FlaskRequest)
    # One body reader: the Flask accessors call the core's methods, whatever their names.
    assert Request.parse_json is Request.json
    assert Request.parse_form is Request.form
    assert FlaskRequest.parse_json is Request.json
    assert FlaskRequest.body is Request.body


def test_the_core_request_reads_json_and_forms_on_its_own() -> None:
    async def main() -> tuple[Any, Any, Any]:
        as_json = await _bare(b'{"a": [1, null]}', b"application/json").json()
        null = await _bare(b"null", b"application/json").json()
        form = await _bare(b"a=1&b=two", b"application/x-www-form-urlencoded").form()
        return as_json, null, form.multi_items()

    assert anyio.run(main) == ({"a": [1, None]}, None, [("a", "1"), ("b", "two")])


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b"{", b"application/json", 400), (b"{}", b"text/plain", 415)],
)
def test_the_core_request_refuses_bad_json(body: bytes, content_type: bytes, status: int) -> None:
    from kettle import HTTPException

    async def main() -> None:
        await _bare(body, content_type).json()

    with pytest.raises(HTTPException) as info:
        anyio.run(main)
    assert info.value.status_code == status


def test_json_is_decoded_once_for_both_apis() -> None:
    from kettle.flaskrequest import FlaskRequest

    request = _bare(b'{"n": 1}', b"application/json", FlaskRequest)
    assert isinstance(request, FlaskRequest)

    async def main() -> Any:
        return await request.json()

    first = anyio.run(main)
    assert request.get_json() is first
    assert request.json["n"] == 1


def test_a_handler_annotated_request_gets_both_apis() -> None:
    app = Kettle(__name__)

    @app.post("/typed")
    async def typed(request: Request) -> Any:
        data = await request.json()
        flask: Any = request
        return {"data": data, "again": flask.get_json(), "args": flask.args.get("q")}

    @app.post("/form")
    def flask_view(request: Request) -> Any:
        flask: Any = request
        return {"name": flask.form["name"], "all": dict(flask.values), "files": len(flask.files)}

    @app.post("/form-async")
    async def async_form(request: Request) -> Any:
        form = await request.form()
        flask: Any = request
        return {"name": form["name"], "sync": flask.form["name"]}

    client = TestClient(app)
    typed_response = client.post("/typed?q=x", json={"k": 1})
    assert typed_response.json() == {"data": {"k": 1}, "again": {"k": 1}, "args": "x"}
    form_response = client.post("/form?q=1", data={"name": "ada"})
    assert form_response.json() == {"name": "ada", "all": {"q": "1", "name": "ada"}, "files": 0}
    assert client.post("/form-async", data={"name": "ada"}).json() == {"name": "ada", "sync": "ada"}


def test_the_app_chooses_the_request_class() -> None:
    from kettle.flaskrequest import FlaskRequest

    class AuditedRequest(FlaskRequest):
        @property
        def audited(self) -> bool:
            return True

    class AuditedKettle(Kettle):
        request_class = AuditedRequest

    app = AuditedKettle(__name__)

    @app.get("/typed")
    async def typed(request: Request) -> Any:
        return {"class": type(request).__name__}

    @app.get("/flask")
    def flask_view() -> Any:
        from kettle import request

        return {"class": type(request._get_current_object()).__name__}  # type: ignore[attr-defined]

    client = TestClient(app)
    assert client.get("/typed").json() == {"class": "AuditedRequest"}
    assert client.get("/flask").json() == {"class": "AuditedRequest"}


LOWER_LAYERS = {
    # What each HTTP-objects module may import from kettle: the base layer and, within
    # its own layer, requests -> cookies and forms, websockets -> requests (never back).
    "requests": {
        "cookies",
        "datastructures",
        "exceptions",
        "limits",
        "mediatypes",
        "types",
        "forms",
    },
    "forms": {"datastructures", "exceptions", "limits", "mediatypes"},
    "websockets": {"draining", "exceptions", "limits", "requests", "types"},
}


@pytest.mark.parametrize("module", sorted(LOWER_LAYERS))
def test_http_object_modules_import_only_downward(module: str) -> None:
    import ast
    from pathlib import Path

    import kettle

    source = Path(kettle.__file__).parent / f"{module}.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kettle."):
            imported.add(node.module.removeprefix("kettle.").split(".")[0])
        elif isinstance(node, ast.Import):
            imported |= {
                a.name.removeprefix("kettle.").split(".")[0]
                for a in node.names
                if a.name.startswith("kettle.")
            }
    assert imported <= LOWER_LAYERS[module], f"kettle.{module} imports {imported}"
