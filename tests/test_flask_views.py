"""The Flask half in real apps: class-based views in a blueprint."""

from __future__ import annotations

from typing import Any

from conftest import KEY, unsign

from kettle import Blueprint, Kettle, MethodView, View, g, request, session, url_for
from kettle.testing import TestClient


class TestViews:
    def test_views_in_a_blueprint_with_hooks_and_url_for(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY
        api = Blueprint("api", __name__, url_prefix="/api")
        items = {1: "kettle"}

        @api.before_request
        def who() -> None:
            g.user = request.headers.get("x-user", "anon")

        class ItemAPI(MethodView):
            def get(self, item_id: int) -> dict[str, Any]:
                return {
                    "name": items[item_id],
                    "user": g.user,
                    "self": url_for(".item", item_id=item_id),
                }

            async def delete(self, item_id: int) -> dict[str, Any]:
                items.pop(item_id)
                session["deleted"] = item_id
                return {"deleted": item_id, "user": g.user}

        class Hello(View):
            methods = ("GET", "POST")

            def dispatch_request(self) -> str:
                return f"{request.method} hello {g.user}"

        api.add_url_rule("/items/<int:item_id>", view_func=ItemAPI.as_view("item"))
        api.add_url_rule("/hello", view_func=Hello.as_view("hello"))
        app.register_blueprint(api)
        client = TestClient(app)
        assert client.get("/api/items/1", headers={"x-user": "ada"}).json() == {
            "name": "kettle",
            "user": "ada",
            "self": "/api/items/1",
        }
        deleted = client.delete("/api/items/1")
        assert deleted.json() == {"deleted": 1, "user": "anon"}
        assert unsign(app, deleted.cookies["session"]) == {"deleted": 1}
        assert client.put("/api/items/1").status_code == 405
        assert client.post("/api/hello").text == "POST hello anon"
        with app.test_request_context():
            assert url_for("api.hello") == "/api/hello"
