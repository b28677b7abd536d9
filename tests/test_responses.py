"""Responses: return-value coercion, JSON encoding, cookies, redirects, streaming."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from kettle import (
    HTMLResponse,
    JSONResponse,
    Kettle,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from kettle.responses import content_length_header, to_response
from kettle.testing import TestClient


def serve(value: Any, **route_options: Any) -> TestClient:
    app = Kettle(__name__)

    @app.get("/", **route_options)
    async def handler() -> Any:
        return value if isinstance(value, Response) or not callable(value) else value()

    return TestClient(app, follow_redirects=False)


@pytest.mark.parametrize(
    ("value", "status", "content_type", "body"),
    [
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, "two"], 200, "application/json", b'[1,"two"]'),
        ("<b>hi</b>", 200, "text/html; charset=utf-8", b"<b>hi</b>"),
        (b"raw", 200, "text/html; charset=utf-8", b"raw"),
        (("made", 201), 201, "text/html; charset=utf-8", b"made"),
        (({"ok": True}, 202), 202, "application/json", b'{"ok":true}'),
        (("x", {"X-Extra": "1"}), 200, "text/html; charset=utf-8", b"x"),
        (("x", 418, {"X-Extra": "1"}), 418, "text/html; charset=utf-8", b"x"),
        (("x", 418, [("X-Extra", "1")]), 418, "text/html; charset=utf-8", b"x"),
        (42, 200, "application/json", b"42"),
        (None, 200, "application/json", b"null"),
        (PlainTextResponse("plain", 203), 203, "text/plain; charset=utf-8", b"plain"),
        ((PlainTextResponse("p"), 201), 201, "text/plain; charset=utf-8", b"p"),
    ],
)
def test_return_values_are_coerced(value: Any, status: int, content_type: str, body: bytes) -> None:
    response = serve(value).get("/")
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == body
    assert response.headers["content-length"] == str(len(body))
    if isinstance(value, tuple) and len(value) >= 2 and not isinstance(value[-1], int):
        assert response.headers["x-extra"] == "1"


def test_bad_tuple_is_a_500_not_a_crash() -> None:
    assert serve((1, 2, 3, 4)).get("/").status_code == 500


class TestNone:
    def test_declared_none_is_204(self) -> None:
        app = Kettle(__name__)

        @app.delete("/items/{item_id:int}")
        async def delete(item_id: int) -> None:
            return None

        response = TestClient(app).delete("/items/1")
        assert response.status_code == 204
        assert response.content == b""
        assert "content-length" not in response.headers

    def test_status_code_204_route(self) -> None:
        response = serve(None, status_code=204).get("/")
        assert response.status_code == 204
        assert response.content == b""

    def test_custom_status_with_none(self) -> None:
        app = Kettle(__name__)

        @app.post("/accepted", status_code=202)
        def accept() -> None:
            pass

        response = TestClient(app).post("/accepted")
        assert (response.status_code, response.content) == (202, b"")


def test_route_status_code_applies_to_plain_values() -> None:
    response = serve({"id": 1}, status_code=201).get("/")
    assert response.status_code == 201


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"when": dt.datetime(2024, 1, 2, 3, 4, 5)}, {"when": "2024-01-02T03:04:05"}),
        ({"day": dt.date(2024, 1, 2)}, {"day": "2024-01-02"}),
        ({"id": uuid.UUID(int=1)}, {"id": "00000000-0000-0000-0000-000000000001"}),
        ({"price": decimal.Decimal("1.50")}, {"price": 1.5}),
        ({"color": Color.RED}, {"color": "red"}),
        ({"point": Point(1, 2)}, {"point": {"x": 1, "y": 2}}),
        ({"tags": {"a"}}, {"tags": ["a"]}),
        ({1: "int key"}, {"1": "int key"}),
        ({"nan": float("nan")}, {"nan": None}),
    ],
)
def test_json_encodes_common_types(value: Any, expected: Any) -> None:
    assert serve(value).get("/").json() == expected


def test_unencodable_value_is_a_500() -> None:
    assert serve({"x": object()}).get("/").status_code == 500


class TestCookies:
    def test_safe_defaults(self) -> None:
        response = Response()
        response.set_cookie("sid", "abc")
        assert response.headers["set-cookie"] == "sid=abc; Path=/; HttpOnly; SameSite=Lax"

    @pytest.mark.parametrize(
        ("base_url", "secure"),
        [("http://testserver", False), ("https://testserver", True)],
    )
    def test_secure_is_automatic_over_https(self, base_url: str, secure: bool) -> None:
        app = Kettle(__name__)

        @app.get("/")
        async def index() -> Response:
            response = Response("ok")
            response.set_cookie("sid", "abc")
            response.set_cookie("plain", "1", secure=False)
            return response

        response = TestClient(app, base_url=base_url).get("/")
        cookies = response.headers.get_list("set-cookie")
        assert ("Secure" in cookies[0]) is secure
        assert "Secure" not in cookies[1]

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"max_age": 60}, "Max-Age=60"),
            ({"expires": 0}, "Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
            ({"domain": "example.com"}, "Domain=example.com"),
            ({"samesite": "strict"}, "SameSite=Strict"),
            ({"samesite": "none"}, "Secure"),
            ({"httponly": False, "samesite": None}, "sid=v; Path=/"),
            ({"partitioned": True}, "Partitioned"),
        ],
    )
    def test_options(self, kwargs: dict[str, Any], expected: str) -> None:
        response = Response()
        response.set_cookie("sid", "v", **kwargs)
        assert expected in response.headers["set-cookie"]

    def test_values_are_quoted_and_names_checked(self) -> None:
        response = Response()
        response.set_cookie("sid", "a b;c")
        assert response.headers["set-cookie"].startswith("sid=a%20b%3Bc;")
        with pytest.raises(ValueError, match="cookie name"):
            response.set_cookie("bad name", "x")
        with pytest.raises(ValueError, match="cookie attribute"):
            response.set_cookie("ok", "x", path="/\r\nX-Evil: 1")

    def test_delete_cookie(self) -> None:
        response = Response()
        response.delete_cookie("sid")
        header = response.headers["set-cookie"]
        assert header.startswith("sid=; Max-Age=0; Expires=Thu, 01 Jan 1970")


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\0b"])
def test_header_injection_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="invalid character"):
        Response(headers={"X-Test": value})
    with pytest.raises(ValueError, match="invalid character"):
        Response().headers["X-Test"] = value


def test_mutable_headers() -> None:
    response = HTMLResponse("x")
    response.headers["X-A"] = "1"
    response.headers["x-a"] = "2"
    response.headers.append("Set-Cookie", "a=1")
    response.headers.append("Set-Cookie", "b=2")
    response.headers.add_vary("Cookie")
    response.headers.add_vary("cookie")
    response.headers.add_vary("Accept")
    assert response.headers.getlist("x-a") == ["2"]
    assert response.headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert response.headers["vary"] == "Cookie, Accept"
    del response.headers["x-a"]
    assert "x-a" not in response.headers


@pytest.mark.parametrize(
    ("response", "status", "location"),
    [
        (RedirectResponse("/login"), 307, "/login"),
        (RedirectResponse("/a b?q=ü", status_code=302), 302, "/a%20b?q=%C3%BC"),
        (RedirectResponse("https://example.com/x", 301), 301, "https://example.com/x"),
    ],
)
def test_redirects(response: Response, status: int, location: str) -> None:
    client = serve(response)
    result = client.get("/")
    assert result.status_code == status
    assert result.headers["location"] == location


def test_redirect_location_cannot_inject_headers() -> None:
    response = RedirectResponse("/x\r\nSet-Cookie: evil=1")
    assert "\r" not in response.headers["location"]
    assert "\n" not in response.headers["location"]


class TestStreaming:
    def test_async_iterator(self) -> None:
        async def numbers() -> AsyncIterator[str]:
            for i in range(3):
                yield f"{i}\n"

        response = serve(lambda: StreamingResponse(numbers(), media_type="text/plain")).get("/")
        assert response.text == "0\n1\n2\n"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers

    def test_sync_iterator_runs_in_a_thread(self) -> None:
        import threading

        main = threading.get_ident()
        seen: list[int] = []

        def chunks() -> Iterator[bytes]:
            for part in (b"a", b"b"):
                seen.append(threading.get_ident())
                yield part

        response = serve(lambda: StreamingResponse(chunks())).get("/")
        assert response.content == b"ab"
        assert seen
        assert main not in seen

    def test_head_sends_no_body(self) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield b"data"

        client = serve(lambda: StreamingResponse(body()))
        assert client.head("/").content == b""


def test_json_response_class_and_custom_status() -> None:
    response = serve(JSONResponse({"a": 1}, status_code=201, headers={"X-A": "b"})).get("/")
    assert (response.status_code, response.json(), response.headers["x-a"]) == (201, {"a": 1}, "b")


def test_background_runs_after_the_response() -> None:
    order: list[str] = []

    async def after() -> None:
        order.append("background")

    app = Kettle(__name__)

    @app.get("/")
    async def index() -> Response:
        order.append("handler")
        return PlainTextResponse("ok", background=after)

    assert TestClient(app).get("/").text == "ok"
    assert order == ["handler", "background"]


class Indented(JSONResponse):
    """A response class of the app's own: it renders what the handler returned."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, indent=1).encode()


class Out(BaseModel):
    name: str


def test_return_values_go_through_the_routes_response_class() -> None:
    app = Kettle(__name__)

    @app.get("/go", response_class=RedirectResponse)
    async def go() -> str:
        return "https://example.com/docs"

    @app.get("/go-now", response_class=RedirectResponse, status_code=302)
    async def go_now() -> str:
        return "/elsewhere"

    @app.get("/pretty", response_class=Indented)
    async def pretty() -> Out:
        return {"name": "tea", "secret": "filtered out"}  # type: ignore[return-value]

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "plain"

    client = TestClient(app, follow_redirects=False)
    go_response = client.get("/go")
    assert go_response.status_code == 307  # the class's own default status
    assert go_response.headers["location"] == "https://example.com/docs"
    assert client.get("/go-now").status_code == 302
    assert client.get("/pretty").text == '{\n "name": "tea"\n}'
    assert client.get("/text").headers["content-type"].startswith("text/plain")


def test_the_apps_default_response_class_applies_where_a_route_names_none() -> None:
    app = Kettle(__name__, default_response_class=Indented)

    @app.get("/a")
    async def a() -> dict[str, int]:
        return {"a": 1}

    @app.get("/b", response_class=JSONResponse)
    async def b() -> dict[str, int]:
        return {"b": 2}

    client = TestClient(app)
    assert client.get("/a").text == '{\n "a": 1\n}'
    assert client.get("/b").text == '{"b":2}'


class JSONOnly(Kettle):
    """FastAPI's convention (``kettle.fastapi.FastAPI`` sets it): everything is JSON."""

    returns_pages = False


@pytest.mark.parametrize(
    ("value", "body"),
    [("Rick", '"Rick"'), (("a", 1), '["a",1]'), (None, "null"), ({"a": 1}, '{"a":1}')],
)
def test_an_app_without_pages_answers_json_for_every_return_value(value: Any, body: str) -> None:
    app = JSONOnly(__name__)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        return value

    @app.get("/none")
    def none() -> None:
        return None

    client = TestClient(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == body
    assert (client.get("/none").status_code, client.get("/none").text) == (200, "null")


class CSVResponse(Response):
    media_type = "text/csv"
    charset = "latin-1"


class TeaResponse(Response):
    media_type = "application/vnd.tea+json"


@pytest.mark.parametrize(
    ("response", "content_type"),
    [
        (PlainTextResponse("hi"), "text/plain; charset=utf-8"),
        (CSVResponse("é,1"), "text/csv; charset=latin-1"),
        (TeaResponse(b"{}"), "application/vnd.tea+json"),
        (PlainTextResponse("hi", media_type="text/markdown"), "text/markdown; charset=utf-8"),
        (Response(b"raw"), None),
    ],
)
def test_a_response_class_sends_its_own_media_type_and_charset(
    response: Response, content_type: str | None
) -> None:
    assert response.headers.get("content-type") == content_type
    assert response.headers["content-length"] == str(len(response.body))


@pytest.mark.parametrize("length", [0, 1, 1023, 1024, 1025, 70_000])
def test_content_length_is_exact_on_both_sides_of_the_prebuilt_lengths(length: int) -> None:
    assert content_length_header(length) == (b"content-length", str(length).encode())
    response = PlainTextResponse("x" * length)
    assert response.raw_headers[0] == (b"content-length", str(length).encode())
    answer = serve({"k": "x" * length}).get("/")
    assert int(answer.headers["content-length"]) == len(answer.content) == length + len(b'{"k":""}')


@pytest.mark.parametrize(
    ("returned", "status", "cookies"),
    [
        (("x", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]), 200, ["a=1", "b=2"]),
        (("x", 201, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]), 201, ["a=1", "b=2"]),
        (("stout", "418 I'm a teapot"), 418, []),
        (("stout", "418"), 418, []),
        ((Response("r"), "202 Accepted", [("Set-Cookie", "c=3")]), 202, ["c=3"]),
    ],
)
def test_returned_tuples_as_flask_takes_them(
    returned: Any, status: int, cookies: list[str]
) -> None:
    # A list of header pairs keeps repeated names (it became a dict: the last won), and a
    # status may be a status line (it was a 500).
    answer = serve(returned).get("/")
    assert answer.status_code == status
    assert answer.headers.get_list("set-cookie") == cookies


def test_a_returned_status_line_must_start_with_a_code() -> None:
    with pytest.raises(ValueError, match="three-digit code"):
        to_response(("x", "teapot"))
