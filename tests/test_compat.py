"""Flask and FastAPI code runs on kettle by changing its imports."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel

from kettle.fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, status
from kettle.fastapi.responses import ORJSONResponse
from kettle.fastapi.testclient import TestClient
from kettle.flask import Blueprint, Flask, Response, jsonify, request, session, url_for
from kettle.flask.views import MethodView


class Item(BaseModel):
    name: str
    price: float


def test_fastapi_style_app() -> None:
    app = FastAPI(title="Shop")
    router = APIRouter(prefix="/items", tags=["items"])
    items: dict[int, Item] = {}

    def store() -> dict[int, Item]:
        return items

    @router.post("/{item_id}", status_code=status.HTTP_201_CREATED, response_model=Item)
    async def create(item_id: int, item: Item, db: dict[int, Item] = Depends(store)) -> Item:
        db[item_id] = item
        return item

    @router.get("/{item_id}")
    async def read(item_id: int, q: Annotated[str | None, Query(max_length=5)] = None) -> Item:
        if item_id not in items:
            raise HTTPException(status_code=404, detail="Item not found")
        return items[item_id]

    @app.get("/raw", response_class=ORJSONResponse)
    async def raw() -> ORJSONResponse:
        return ORJSONResponse({"ok": True})

    app.include_router(router)
    client = TestClient(app)
    assert client.post("/items/1", json={"name": "tea", "price": 2}).status_code == 201
    assert client.get("/items/1").json() == {"name": "tea", "price": 2.0}
    assert client.get("/items/2").json() == {"detail": "Item not found"}
    assert client.get("/items/1?q=toolong").status_code == 422
    assert client.get("/raw").json() == {"ok": True}


def test_flask_style_app() -> None:
    app = Flask(__name__)
    app.secret_key = "test"
    bp = Blueprint("shop", __name__, url_prefix="/shop")

    @bp.route("/cart", methods=["GET", "POST"])
    def cart():
        if request.method == "POST":
            session["items"] = [*session.get("items", []), request.form["item"]]
        return jsonify(items=session.get("items", []), url=url_for(".cart"))

    class Ping(MethodView):
        def get(self):
            return Response("pong", status=200, mimetype="text/plain")

    app.register_blueprint(bp)
    app.add_url_rule("/ping", view_func=Ping.as_view("ping"))
    client = app.test_client()
    client.post("/shop/cart", data={"item": "tea"})
    assert client.get("/shop/cart").get_json() == {"items": ["tea"], "url": "/shop/cart"}
    ping = client.get("/ping")
    assert (ping.data, ping.mimetype) == (b"pong", "text/plain")


@pytest.mark.parametrize(
    ("name", "value"),
    [("HTTP_200_OK", 200), ("HTTP_404_NOT_FOUND", 404), ("HTTP_418_IM_A_TEAPOT", 418)],
)
def test_status_constants(name: str, value: int) -> None:
    assert getattr(status, name) == value


CSV = "text/csv; charset=latin-1"


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, (200, "text/html; charset=utf-8")),
        ((), {"status": "404 NOT FOUND"}, (404, "text/html; charset=utf-8")),
        ((201,), {"mimetype": "text/plain"}, (201, "text/plain; charset=utf-8")),
        ((), {"mimetype": "text/plain", "content_type": CSV}, (200, CSV)),
    ],
    ids=["defaults", "status-line", "positional-status", "content-type-wins"],
)
def test_flask_response_takes_flasks_arguments(
    args: tuple[int, ...], kwargs: dict[str, str], expected: tuple[int, str]
) -> None:
    response = Response("x", *args, headers={"X-Tag": "1"}, **kwargs)
    assert (response.status_code, response.headers["content-type"]) == expected
    assert (response.body, response.headers["x-tag"]) == (b"x", "1")
