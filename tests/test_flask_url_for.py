"""The Flask half in real apps: ``url_for`` in requests, external URLs, root paths
and unknown names.
"""

from __future__ import annotations

from pathlib import Path

from kettle import Blueprint, Kettle, url_for
from kettle.testing import TestClient


class TestUrlFor:
    def test_in_requests(self, site: Path) -> None:
        app = Kettle(__name__, root_path=str(site))
        admin = Blueprint(
            "admin", __name__, url_prefix="/admin", root_path=str(site / "admin"),
            static_folder="static",
        )  # fmt: skip
        reports = Blueprint("reports", __name__, url_prefix="/reports")

        @app.get("/items/<int:item_id>")
        def item(item_id: int) -> str:
            return str(item_id)

        @admin.get("/users/{name}")
        def user(name: str) -> dict[str, str]:
            return {
                "relative": url_for(".user", name="bob"),
                "index": url_for(".index"),
                "app": url_for("item", item_id=3, page=2, tag=["a", "b"], skip=None),
                "external": url_for(".user", name="a b", _external=True, _anchor="top"),
                "scheme": url_for("item", item_id=1, _scheme="https"),
                "static": url_for("static", filename="css/site.css"),
                "own_static": url_for(".static", filename="admin.js"),
                "nested": url_for("admin.reports.daily", day="mon"),
            }

        @admin.get("/")
        def index() -> str:
            return "admin"

        @reports.get("/<day>")
        def daily(day: str) -> dict[str, str]:
            return {"me": url_for(".daily", day=day), "parent": url_for("admin.index")}

        @app.get("/")
        def home() -> dict[str, str]:
            # Outside a blueprint, ".name" is a route of the app.
            return {"me": url_for(".home"), "items": url_for("item", item_id=9)}

        admin.register_blueprint(reports)
        app.register_blueprint(admin)
        client = TestClient(app)
        assert client.get("/admin/users/ada").json() == {
            "relative": "/admin/users/bob",
            "index": "/admin/",
            "app": "/items/3?page=2&tag=a&tag=b",
            "external": "http://testserver/admin/users/a%20b#top",
            "scheme": "https://testserver/items/1",
            "static": "/static/css/site.css",
            "own_static": "/admin/static/admin.js",
            "nested": "/admin/reports/mon",
        }
        assert client.get("/admin/reports/tue").json() == {
            "me": "/admin/reports/tue",
            "parent": "/admin/",
        }
        assert client.get("/").json() == {"me": "/", "items": "/items/9"}
        assert client.get("/admin/static/admin.js").text == "console.log('admin')"

    def test_external_urls_keep_the_request_scheme_and_host(self) -> None:
        app = Kettle(__name__)

        @app.get("/here")
        def here() -> str:
            return url_for("here", _external=True)

        client = TestClient(app, base_url="https://shop.example:8443")
        assert client.get("/here").text == "https://shop.example:8443/here"

    def test_under_a_root_path(self) -> None:
        app = Kettle(__name__)

        @app.get("/here")
        def here() -> dict[str, str]:
            return {"path": url_for("here"), "full": url_for("here", _external=True)}

        client = TestClient(app, root_path="/shop")
        assert client.get("/here").json() == {
            "path": "/shop/here",
            "full": "http://testserver/shop/here",
        }

    def test_unknown_names_are_errors(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> str:
            return url_for("nope")

        response = TestClient(app, raise_server_exceptions=False).get("/")
        assert response.status_code == 500
