"""The hello example (examples/hello/app.py): the quickstart's small routes."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kettle.testing import TestClient

APP_FILE = Path(__file__).resolve().parent.parent / "examples" / "hello" / "app.py"


def _import_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kettle_example_hello", APP_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(_import_example().app) as client:
        yield client


def test_index_is_html_listing_the_routes(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for path in ("/hello", "/items/42", "/greet/Ada", "/api/status", "/api/echo", "/ws"):
        assert path in response.text


def test_hello_returns_json(client: TestClient) -> None:
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, kettle!"}


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/items/42", 200, {"item_id": 42}),
        ("/items/0", 404, {"detail": "item ids start at 1"}),
        ("/items/forty-two", 404, None),
    ],
)
def test_items_take_an_int(client: TestClient, path: str, status: int, body: object) -> None:
    response = client.get(path)
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


def test_flask_style_route(client: TestClient) -> None:
    response = client.get("/greet/Ada")
    assert response.status_code == 200
    assert response.text == "Hello, Ada!"


def test_router_under_api(client: TestClient) -> None:
    assert client.get("/api/status").json() == {"ok": True}
    assert client.get("/status").status_code == 404


def test_echo_returns_the_json_body(client: TestClient) -> None:
    payload = {"name": "kettle", "tags": ["fast", "typed"], "n": 3}
    response = client.post("/api/echo", json=payload)
    assert response.status_code == 200
    assert response.json() == {"received": payload}
    assert client.get("/api/echo").status_code == 405


def test_websocket_echo(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text("one")
        assert ws.receive_text() == "echo: one"
        ws.send_text("two")
        assert ws.receive_text() == "echo: two"


def test_route_table() -> None:
    app = _import_example().app
    paths = {route.path: sorted(route.methods) for route in app.compiled_routes}
    assert paths == {
        "/": ["GET"],
        "/hello": ["GET"],
        "/items/{item_id:int}": ["GET"],
        "/greet/<name>": ["GET"],
        "/api/status": ["GET"],
        "/api/echo": ["POST"],
        "/ws": ["WEBSOCKET"],
    }
