"""The Flask half in real apps: error handlers on apps and blueprints, by status and
by exception class.
"""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Blueprint, Conflict, HTTPException, Kettle, NotFound, abort, g, request
from kettle.testing import TestClient


class TestErrorHandlers:
    def test_error_handlers(self) -> None:
        app = Kettle(__name__)
        api = Blueprint("api", __name__, url_prefix="/api")
        v2 = Blueprint("v2", __name__, url_prefix="/v2")

        @app.errorhandler(404)
        def app_not_found(exc: HTTPException) -> tuple[str, int]:
            return f"app 404 at {request.path}", 404

        @app.errorhandler(Exception)
        def app_crash(exc: Exception) -> tuple[dict[str, str], int]:
            return {"app": type(exc).__name__}, 500

        @api.errorhandler(404)
        async def api_not_found(exc: HTTPException) -> tuple[dict[str, str], int]:
            return {"api": "not found", "g": g.get("who", "-")}, 404

        @api.errorhandler(KeyError)
        def api_key_error(exc: KeyError) -> tuple[dict[str, str], int]:
            return {"api": f"missing {exc}"}, 400

        @api.app_errorhandler(PermissionError)
        def anywhere(exc: PermissionError) -> tuple[str, int]:
            return "forbidden everywhere", 403

        @v2.errorhandler(IndexError)
        def v2_index(exc: IndexError) -> tuple[dict[str, str], int]:
            return {"v2": "index"}, 422

        @v2.errorhandler(KeyError)
        def v2_key_error(exc: KeyError) -> tuple[dict[str, str], int]:
            return {"v2": "key"}, 422

        @app.get("/gone")
        def gone() -> str:
            abort(404)

        @app.get("/crash")
        def crash() -> str:
            raise ValueError("x")

        @app.get("/key")
        def app_key() -> str:
            raise KeyError("k")

        @app.get("/perm")
        def perm() -> str:
            raise PermissionError

        @api.get("/gone")
        def api_gone() -> str:
            g.who = "api"
            abort(404)

        @api.get("/key")
        async def api_key() -> str:
            raise KeyError("k")

        @api.get("/crash")
        def api_crash() -> str:
            raise ValueError("x")

        @v2.get("/key")
        def v2_key() -> str:
            raise KeyError("k")

        @v2.get("/index")
        def v2_index_error() -> str:
            raise IndexError("i")

        @api.get("/index")
        def api_index_error() -> str:
            raise IndexError("i")

        @v2.get("/gone")
        def v2_gone() -> str:
            abort(404)

        api.register_blueprint(v2)
        app.register_blueprint(api)
        client = TestClient(app)
        cases = {
            "/gone": (404, "app 404 at /gone"),
            "/crash": (500, '{"app":"ValueError"}'),
            "/key": (500, '{"app":"KeyError"}'),
            "/perm": (403, "forbidden everywhere"),
            "/api/gone": (404, '{"api":"not found","g":"api"}'),
            "/api/key": (400, '{"api":"missing \'k\'"}'),
            "/api/crash": (500, '{"app":"ValueError"}'),
            "/api/v2/key": (422, '{"v2":"key"}'),  # the innermost handler wins
            "/api/v2/index": (422, '{"v2":"index"}'),
            "/api/index": (500, '{"app":"IndexError"}'),  # v2's handler is not api's
            "/api/v2/gone": (404, '{"api":"not found","g":"-"}'),  # inherited from api
        }
        for path, (status, text) in cases.items():
            response = client.get(path)
            assert (response.status_code, response.text) == (status, text), path

    def test_blueprint_handlers_are_searched_before_the_apps(self) -> None:
        app = Kettle(__name__)
        bp = Blueprint("bp", __name__, url_prefix="/bp")

        @app.errorhandler(KeyError)
        def app_key_error(exc: KeyError) -> tuple[str, int]:
            return "app", 500

        @bp.errorhandler(LookupError)
        def bp_lookup_error(exc: LookupError) -> tuple[str, int]:
            return "blueprint", 404

        @bp.get("/x")
        def x() -> str:
            raise KeyError("x")

        app.register_blueprint(bp)
        assert TestClient(app).get("/bp/x").text == "blueprint"

    def test_unmatched_urls_use_the_app_404_handler(self) -> None:
        app = Kettle(__name__)

        @app.errorhandler(404)
        def not_found(exc: HTTPException) -> tuple[dict[str, str], int]:
            return {"custom": "404"}, 404

        assert TestClient(app).get("/nowhere").json() == {"custom": "404"}


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [(NotFound(), 404, {"detail": "Not Found"}), (Conflict("taken"), 409, {"detail": "taken"})],
)
def test_a_returned_http_error_is_its_answer(
    error: HTTPException, status: int, body: object
) -> None:
    app = Kettle(__name__)
    app.route("/")(lambda: error)
    response = app.test_client().get("/")
    assert (response.status_code, response.json) == (status, body)


def test_the_generic_http_error_handler_of_flasks_docs() -> None:
    import json

    app = Kettle(__name__)

    @app.errorhandler(HTTPException)
    def as_json(error: HTTPException) -> object:
        response = error.get_response()
        response.data = json.dumps(
            {"code": error.code, "name": error.name, "description": error.description}
        )
        response.content_type = "application/json"
        return response

    @app.route("/taken")
    def taken() -> None:
        abort(409)

    client = app.test_client()
    answer = client.get("/taken")
    assert (answer.status_code, answer.content_type) == (409, "application/json")
    assert answer.json["name"] == "Conflict"
    assert client.get("/nowhere").json["code"] == 404


def test_abort_with_a_response_sends_it_past_every_handler() -> None:
    # Werkzeug: abort(response) raises a code-less HTTPException whose response is the
    # answer; a generic HTTPException handler (on the app or a blueprint) replaced it.
    from kettle import Response

    app = Kettle(__name__)
    bp = Blueprint("bp", __name__)

    @app.errorhandler(HTTPException)
    def generic(error: HTTPException) -> Any:
        return {"code": error.code}, error.code

    @bp.errorhandler(HTTPException)
    def bp_generic(error: HTTPException) -> Any:
        return {"bp": error.code}, error.code

    @app.get("/")
    def view() -> None:
        abort(Response("custom body", 409))

    @bp.get("/bp")
    def in_blueprint() -> None:
        abort(Response("from the blueprint", 410))

    @app.get("/code")
    def by_code() -> None:
        abort(409)

    app.register_blueprint(bp)
    client = app.test_client()
    assert (client.get("/").status_code, client.get("/").text) == (409, "custom body")
    assert client.get("/bp").text == "from the blueprint"
    assert client.get("/code").get_json() == {"code": 409}  # a code still has handlers
