"""The Flask half in real apps: ``redirect``, ``abort``, ``make_response``,
``jsonify``, ``send_file`` and ``stream_with_context`` through an app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.lowlevel
import pytest
from conftest import write

from kettle import (
    Kettle,
    Response,
    StreamingResponse,
    abort,
    g,
    jsonify,
    make_response,
    redirect,
    request,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
)
from kettle.globals import has_request_context
from kettle.testing import TestClient


class TestHelpers:
    def test_redirect_abort_make_response_jsonify(self) -> None:
        app = Kettle(__name__)

        @app.after_request
        def stamp(response: Response) -> Response:
            response.headers["x-stamp"] = "1"
            return response

        @app.get("/old")
        def old() -> Response:
            return redirect(url_for("new", q="a b"), 301)

        @app.get("/new")
        def new() -> Response:
            response = make_response(jsonify(q=request.args["q"]), 201, {"x-made": "yes"})
            response.set_cookie("seen", "1")
            return response

        @app.get("/secret")
        async def secret() -> str:
            abort(403, "not for you")

        client = TestClient(app, follow_redirects=False)
        response = client.get("/old")
        assert (response.status_code, response.headers["location"]) == (301, "/new?q=a+b")
        assert response.headers["x-stamp"] == "1"
        made = client.get("/new?q=a+b")
        assert made.status_code == 201
        assert made.json() == {"q": "a b"}
        assert made.headers["x-made"] == "yes"
        assert made.headers["x-stamp"] == "1"
        assert made.headers["set-cookie"].startswith("seen=1;")
        denied = client.get("/secret")
        assert (denied.status_code, denied.json()) == (403, {"detail": "not for you"})
        assert denied.headers["x-stamp"] == "1"  # after_request sees error responses too

    def test_send_file_and_send_from_directory(self, tmp_path: Path) -> None:
        write(tmp_path / "files" / "report.txt", "quarterly")
        write(tmp_path / "secret.txt", "do not serve")
        app = Kettle(__name__, root_path=str(tmp_path))

        @app.get("/report")
        def report() -> Response:
            return send_file("files/report.txt", as_attachment=True)

        @app.get("/files/{name:path}")
        async def files(name: str) -> Response:
            return send_from_directory("files", name)

        client = TestClient(app)
        response = client.get("/report")
        assert response.text == "quarterly"
        assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'
        assert client.get("/files/report.txt").text == "quarterly"
        etag = client.get("/files/report.txt").headers["etag"]
        assert client.get("/files/report.txt", headers={"if-none-match": etag}).status_code == 304
        for name in ("../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "..%5csecret.txt"):
            assert client.get(f"/files/{name}").status_code == 404, name

    @pytest.mark.parametrize("is_async", [False, True])
    def test_stream_with_context(self, is_async: bool) -> None:
        app = Kettle(__name__)

        if is_async:

            @app.get("/stream")
            async def stream() -> StreamingResponse:
                g.name = "async"

                async def pieces() -> Any:
                    yield request.args["a"] + ","
                    await anyio.lowlevel.checkpoint()
                    yield g.name + "," + str(has_request_context())

                return StreamingResponse(stream_with_context(pieces()))

        else:

            @app.get("/stream")
            def stream() -> StreamingResponse:
                g.name = "sync"

                @stream_with_context
                def pieces() -> Iterator[str]:
                    yield request.args["a"] + ","
                    yield g.name + "," + str(has_request_context())

                return StreamingResponse(pieces())

        name = "async" if is_async else "sync"
        assert TestClient(app).get("/stream?a=1").text == f"1,{name},True"


def test_response_class_is_what_flask_code_builds_and_make_response_returns() -> None:
    from kettle import Kettle, Response, make_response

    class TaggedResponse(Response):
        tag = "tagged"

    app = Kettle(__name__)
    assert app.response_class is Response
    app.response_class = TaggedResponse

    @app.route("/built")
    def built() -> Response:
        return app.response_class("Hello world", 400)

    @app.route("/made")
    def made() -> str:
        response = make_response({"ok": True}, 201)
        return f"{type(response).__name__} {response.tag} {response.status_code}"  # type: ignore[attr-defined]

    client = app.test_client()
    assert (client.get("/built").status_code, client.get("/built").data) == (400, b"Hello world")
    assert client.get("/made").data == b"TaggedResponse tagged 201"
    assert type(make_response("outside any app")) is not TaggedResponse


def test_make_default_options_response_lists_the_urls_methods() -> None:
    from kettle import Kettle, request

    app = Kettle(__name__)

    @app.route("/items", methods=["GET", "POST", "OPTIONS"])
    def items() -> object:
        if request.method == "OPTIONS":
            response = app.make_default_options_response()
            response.headers["X-Custom"] = "yes"
            return response
        return "listed"

    @app.route("/items", methods=["DELETE"], endpoint="clear")
    def clear() -> str:
        return "cleared"

    answer = app.test_client().options("/items")
    assert answer.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, POST"
    assert answer.headers["X-Custom"] == "yes"


def test_app_make_response_converts_what_a_view_returns() -> None:
    from kettle import Kettle

    app = Kettle(__name__)
    with app.app_context():
        response = app.make_response(("gone", 410, {"X-Reason": "moved"}))
    assert (response.status_code, response.headers["x-reason"], response.body) == (
        410,
        "moved",
        b"gone",
    )
