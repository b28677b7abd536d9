"""``kettle.fastapi.FastAPI``'s own keyword arguments and FastAPI's method names."""

from typing import Any

import pytest

from kettle.fastapi import APIRouter, FastAPI, Request, WebSocket
from kettle.fastapi.testclient import TestClient


def _items() -> dict[str, str]:
    return {"item": "a"}


@pytest.mark.parametrize(
    ("options", "check"),
    [
        (
            {"openapi_external_docs": {"url": "https://docs.example.com"}},
            lambda doc: doc["externalDocs"] == {"url": "https://docs.example.com"},
        ),
        (
            {"responses": {404: {"description": "Not there"}}},
            lambda doc: (
                doc["paths"]["/items"]["get"]["responses"]["404"]["description"] == "Not there"
            ),
        ),
        ({"deprecated": True}, lambda doc: doc["paths"]["/items"]["get"]["deprecated"] is True),
        ({"include_in_schema": False}, lambda doc: "/items" not in doc.get("paths", {})),
    ],
)
def test_app_wide_options_reach_the_document(options: dict[str, Any], check: Any) -> None:
    app = FastAPI(**options)
    app.add_api_route("/items", _items)
    assert check(app.openapi())
    assert TestClient(app).get("/items").json() == {"item": "a"}


@pytest.mark.parametrize("options", [{"openapi_prefix": "/api"}, {"root_path": "/api"}])
def test_openapi_prefix_is_the_old_name_of_root_path(options: dict[str, str]) -> None:
    app = FastAPI(**options)

    @app.get("/where")
    async def where(request: Request) -> dict[str, str]:
        return {"root_path": request.scope["root_path"]}

    client = TestClient(app)
    assert client.get("/where").json() == {"root_path": "/api"}
    assert client.get("/openapi.json").json()["servers"] == [{"url": "/api"}]


@pytest.mark.parametrize(
    ("methods", "allowed", "refused"),
    [(None, "GET", "POST"), (["POST"], "POST", "GET"), (["PUT", "GET"], "PUT", "DELETE")],
)
def test_add_api_route_registers_for_its_methods(
    methods: list[str] | None, allowed: str, refused: str
) -> None:
    app = FastAPI()
    app.add_api_route("/items", _items, methods=methods)
    client = TestClient(app)
    assert client.request(allowed, "/items").status_code == 200
    assert client.request(refused, "/items").status_code == 405


def test_webhooks_router_may_be_given() -> None:
    hooks = APIRouter()

    @hooks.post("new-item")
    async def new_item(body: dict[str, str]) -> None: ...

    app = FastAPI(webhooks=hooks)
    assert app.webhooks is hooks
    assert "new-item" in app.openapi()["webhooks"]


@pytest.mark.parametrize("register", ["websocket_route", "add_api_websocket_route"])
def test_websocket_route_names(register: str) -> None:
    app = FastAPI()

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())
        await ws.close()

    if register == "websocket_route":
        app.websocket_route("/ws")(echo)
    else:
        app.add_api_websocket_route("/ws", echo)
    with TestClient(app).websocket_connect("/ws") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
