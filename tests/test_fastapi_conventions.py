"""How a ``kettle.fastapi.FastAPI`` app reads requests and reports their errors, beside a
``kettle.Kettle`` app declaring the same routes: FastAPI's shapes in one, kettle's own in
the other, decided when the app compiles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, HttpUrl

from kettle import Kettle
from kettle.fastapi import Body, Depends, FastAPI, Header, Request, WebSocket, WebSocketDisconnect
from kettle.fastapi.exceptions import RequestValidationError
from kettle.fastapi.responses import JSONResponse
from kettle.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


class Tags(BaseModel):
    tags: list[str]


class Headers(BaseModel):
    save_data: bool
    x_tag: list[str] = []


def make(kind: type[Kettle]) -> Kettle:
    app = kind() if kind is FastAPI else kind(__name__)

    @app.post("/items")
    async def create(item: Item) -> Any:
        return item

    @app.post("/tags")
    async def tags(body: Tags) -> Any:
        return body

    @app.post("/pair")
    async def pair(item: Item, importance: Annotated[int, Body()]) -> Any:
        return {"item": item, "importance": importance}

    @app.post("/text")
    async def text(note: Annotated[str, Body()]) -> Any:
        return note

    @app.get("/headers")
    async def headers(h: Annotated[Headers, Header()]) -> Any:
        return h

    return app


@pytest.fixture(params=[FastAPI, Kettle], ids=["fastapi", "kettle"])
def client(request: pytest.FixtureRequest) -> TestClient:
    return TestClient(make(request.param))


def is_fastapi(client: TestClient) -> bool:
    return isinstance(client.app, FastAPI)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_of_another_type(client: TestClient, content_type: str) -> None:
    body = '{"name": "Tea", "price": 2}'
    response = client.post("/items", content=body, headers={"content-type": content_type})
    if not is_fastapi(client):
        assert response.status_code == 415
        return
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"], error["input"]) == (
        "model_attributes_type",
        ["body"],
        body,
    )


def test_text_a_fastapi_app_would_accept_is_still_refused(client: TestClient) -> None:
    # FastAPI reads text/plain into a str body; kettle never reads a non-JSON body.
    response = client.post("/text", content="hello", headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/items", content=b"{oops}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    if is_fastapi(client):
        assert error["loc"] == ["body", 1]
        assert error["msg"] == "JSON decode error"
        assert "property name" in error["ctx"]["error"]
    else:
        assert error["loc"] == ["body"]


def test_several_body_parameters_sent_as_a_list(client: TestClient) -> None:
    response = client.post("/pair", json=[])
    assert response.status_code == 422
    detail = response.json()["detail"]
    if is_fastapi(client):
        assert [(e["type"], e["loc"]) for e in detail] == [
            ("missing", ["body", "item"]),
            ("missing", ["body", "importance"]),
        ]
    else:
        assert [e["type"] for e in detail] == ["dict_type"]


def test_python_mode_messages(client: TestClient) -> None:
    response = client.post("/tags", json={"tags": {"a": 1}})
    (error,) = response.json()["detail"]
    assert error["type"] == "list_type"
    word = "list" if is_fastapi(client) else "array"
    assert error["msg"] == f"Input should be a valid {word}"


def test_a_header_model_error_echoes(client: TestClient) -> None:
    response = client.get("/headers", headers={"x-other": "1"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["header", "save_data"]
    if is_fastapi(client):
        # every header, as FastAPI hands them all to the model, and the field's default
        assert error["input"]["x-other"] == "1"
        assert error["input"]["x_tag"] == []
    else:
        assert "x-other" not in error["input"]


def test_a_header_model_still_validates(client: TestClient) -> None:
    response = client.get(
        "/headers", headers=[("save-data", "yes"), ("x-tag", "a"), ("x-tag", "b")]
    )
    assert response.json() == {"save_data": True, "x_tag": ["a", "b"]}


@pytest.mark.parametrize("kind", [FastAPI, Kettle])
def test_the_error_carries_the_body_and_fastapi_locs(kind: type[Kettle]) -> None:
    app = make(kind)
    seen: list[RequestValidationError] = []

    @app.exception_handler(RequestValidationError)
    async def keep(request: Request, exc: RequestValidationError) -> JSONResponse:
        seen.append(exc)
        return JSONResponse({"ok": False}, status_code=400)

    TestClient(app).post("/items", json={"name": "Tea", "price": "cheap"})
    (exc,) = seen
    assert exc.body == {"name": "Tea", "price": "cheap"}
    loc = exc.errors()[0]["loc"]
    assert loc == (("body", "price") if kind is FastAPI else ["body", "price"])


def test_a_failing_decoder_is_a_400() -> None:
    from unittest import mock

    client = TestClient(make(FastAPI))
    with mock.patch("json.loads", side_effect=RuntimeError):
        response = client.post("/items", json={"name": "Tea"})
    assert response.status_code == 400


# -- unhandled errors ---------------------------------------------------------------------


class Boom(Exception):
    pass


def swallowing() -> Iterator[str]:
    try:
        yield "x"
    except Boom:
        print("forgets to raise again")


def passing_on() -> Iterator[str]:
    try:
        yield "x"
    except Boom:
        raise


def errors_app(kind: type[Kettle]) -> Kettle:
    app = kind() if kind is FastAPI else kind(__name__)

    @app.get("/swallowed")
    def swallowed(value: Annotated[str, Depends(swallowing)]) -> Any:
        raise Boom("handler")

    @app.get("/passed-on")
    def passed_on(value: Annotated[str, Depends(passing_on)]) -> Any:
        raise Boom("handler")

    return app


@pytest.mark.parametrize("path", ["/swallowed", "/passed-on"])
def test_a_kettle_app_answers_500_as_json(path: str) -> None:
    response = TestClient(errors_app(Kettle)).get(path)
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})


def test_a_fastapi_app_raises_in_the_test_client() -> None:
    from kettle.fastapi.exceptions import FastAPIError

    client = TestClient(errors_app(FastAPI))
    with pytest.raises(Boom, match="handler"):
        client.get("/passed-on")
    with pytest.raises(FastAPIError, match="dependency with yield") as info:
        client.get("/swallowed")
    assert isinstance(info.value.__cause__, Boom)


@pytest.mark.parametrize("path", ["/swallowed", "/passed-on"])
def test_a_fastapi_app_answers_500_as_text(path: str) -> None:
    response = TestClient(errors_app(FastAPI), raise_server_exceptions=False).get(path)
    assert (response.status_code, response.text) == (500, "Internal Server Error")


# -- WebSockets -----------------------------------------------------------------------------


def socket_app(kind: type[Kettle]) -> Kettle:
    app = kind() if kind is FastAPI else kind(__name__)

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        while True:  # the disconnect escapes the handler
            await ws.send_text(await ws.receive_text())

    return app


def test_a_fastapi_test_client_raises_the_escaped_disconnect() -> None:
    session = TestClient(socket_app(FastAPI)).websocket_connect("/echo")
    ws = session.__enter__()
    ws.send_text("tea")
    assert ws.receive_text() == "tea"
    with pytest.raises(WebSocketDisconnect):
        session.__exit__(None, None, None)


def test_a_kettle_test_client_ends_the_socket_quietly() -> None:
    with TestClient(socket_app(Kettle)).websocket_connect("/echo") as ws:
        ws.send_text("tea")
        assert ws.receive_text() == "tea"


def test_the_test_client_raises_what_an_app_hands_over() -> None:
    from kettle.errorhandlers import hand_to_test_client

    class Handing:
        conventions = "fastapi"

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            scope["app"] = self
            await receive()
            await send({"type": "websocket.accept"})
            message = await receive()
            hand_to_test_client(scope, WebSocketDisconnect(message.get("code", 1000)))

    with pytest.raises(WebSocketDisconnect), TestClient(Handing()).websocket_connect("/"):
        pass
    # raise_server_exceptions=False: nothing is handed over, nothing raised
    with TestClient(Handing(), raise_server_exceptions=False).websocket_connect("/"):
        pass


# -- what handlers return -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (FastAPI, {"wait": 3900.5, "whole": 3, "part": 2.5}),
        (Kettle, {"wait": "PT1H5M0.5S", "whole": 3.0, "part": 2.5}),
    ],
)
def test_plain_data_is_written_by_the_apps_encoder(
    kind: type[Kettle], expected: dict[str, Any]
) -> None:
    import datetime
    import decimal

    app = kind() if kind is FastAPI else kind(__name__)

    @app.get("/wait")
    async def wait() -> Any:
        return {
            "wait": datetime.timedelta(hours=1, minutes=5, seconds=0.5),
            "whole": decimal.Decimal("3"),
            "part": decimal.Decimal("2.5"),
        }

    assert TestClient(app).get("/wait").json() == expected


def test_a_url_parameter_is_a_query_parameter_beside_a_body() -> None:
    app = FastAPI()

    @app.post("/invoices")
    def create(item: Item, callback_url: HttpUrl | None = None) -> Any:
        return {"name": item.name, "callback": str(callback_url)}

    response = TestClient(app).post(
        "/invoices?callback_url=https://example.com/hook", json={"name": "Tea", "price": 1}
    )
    assert response.json() == {"name": "Tea", "callback": "https://example.com/hook"}
