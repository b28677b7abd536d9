"""The Flask half in real apps: Flask's request API (``request.form``, ``files``,
``get_json``...) in sync and async handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, Request, request
from kettle.fastapi import FastAPI
from kettle.testing import TestClient


class TestRequestAPI:
    def test_sync_handlers_read_the_body_synchronously(self) -> None:
        app = Kettle(__name__)

        @app.post("/form")
        def form():
            return {
                "name": request.form["name"],
                "tags": request.form.getlist("tag"),
                "q": request.args.get("q"),
                "age": request.form.get("age", type=int),
            }

        @app.post("/json")
        def json_body():
            return {"json": request.get_json(), "raw": request.data.decode()}

        @app.post("/upload")
        def upload():
            upload = request.files["file"]
            return {"name": upload.filename, "title": request.form["title"]}

        @app.post("/missing")
        def missing() -> str:
            return str(request.form["nope"])

        client = TestClient(app)
        sent = {"name": "ada", "tag": ["a", "b"], "age": "x"}
        assert client.post("/form?q=1", data=sent).json() == {
            "name": "ada",
            "tags": ["a", "b"],
            "q": "1",
            "age": None,
        }
        assert client.post("/json", json={"k": 1}).json() == {"json": {"k": 1}, "raw": '{"k":1}'}
        files = {"file": ("notes.txt", b"hello")}
        assert client.post("/upload", files=files, data={"title": "t"}).json() == {
            "name": "notes.txt",
            "title": "t",
        }
        response = client.post("/missing", data={"a": "1"})
        assert response.status_code == 400  # a missing key is a 400, as in Flask

    @pytest.mark.parametrize(
        ("send", "read", "expected"),
        [
            ({"data": {"name": "ada"}}, lambda: request.form["name"], "ada"),
            ({"data": {"name": "ada"}}, lambda: request.values["name"], "ada"),
            ({"json": {"name": "ada"}}, lambda: request.get_json()["name"], "ada"),
            ({"json": {"name": "ada"}}, lambda: request.json["name"], "ada"),
            ({"content": b"raw bytes"}, lambda: request.get_data(as_text=True), "raw bytes"),
            ({"files": {"up": ("a.txt", b"hi")}}, lambda: request.files["up"].filename, "a.txt"),
            ({}, lambda: request.form.get("name", "none"), "none"),
            # Werkzeug's request.data parses a form first: what is left is b"" (a 500
            # before, the read-ahead having parsed the form)
            ({"data": {"name": "ada"}}, lambda: request.data.decode(), ""),
        ],
        ids=["form", "values", "get_json", "json", "data", "files", "no-body", "data-of-a-form"],
    )
    def test_an_async_flask_view_reads_the_body_synchronously(
        self, send: dict[str, Any], read: Callable[[], Any], expected: str
    ) -> None:
        # As under Flask: the view never awaits the body; kettle reads it before the view
        # runs (the view takes no body, form or Request parameter).
        app = Kettle(__name__)

        @app.route("/view", methods=["POST", "PUT"])
        async def view() -> dict[str, Any]:
            return {"read": read()}

        client = TestClient(app)
        assert client.post("/view", **send).json() == {"read": expected}
        assert client.put("/view", **send).json() == {"read": expected}

    def test_an_async_method_view_reads_the_body_synchronously(self) -> None:
        # Regression: MethodView's dispatcher took the Request as a parameter, so its
        # async methods had no body read ahead and request.form was a 500.
        from kettle.views import MethodView

        app = Kettle(__name__)

        class Notes(MethodView):
            async def post(self) -> dict[str, Any]:
                return {"title": request.form["title"]}

            async def patch(self) -> dict[str, Any]:
                return {"title": request.get_json()["title"]}

            def put(self) -> dict[str, Any]:  # a sync method of a mixed view
                return {"title": request.form["title"]}

        app.add_url_rule("/notes", view_func=Notes.as_view("notes"))
        client = app.test_client()
        assert client.post("/notes", data={"title": "tea"}).get_json() == {"title": "tea"}
        assert client.patch("/notes", json={"title": "tea"}).get_json() == {"title": "tea"}
        assert client.put("/notes", data={"title": "tea"}).get_json() == {"title": "tea"}

    def test_an_async_view_taking_the_request_awaits_it(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        # A handler that takes the Request reads the body itself (it may stream it): the
        # sync accessors work once it was awaited, and say what to do otherwise.
        app = Kettle(__name__)

        @app.post("/awaited")
        async def awaited(req: Request) -> dict[str, Any]:
            form = await req.form()
            return {"called": form["name"], "indexed": request.form["name"]}

        @app.post("/not-awaited")
        async def not_awaited(req: Request) -> str:
            return str(req.form["name"])

        client = TestClient(app)
        assert client.post("/awaited", data={"name": "ada"}).json() == {
            "called": "ada",
            "indexed": "ada",
        }
        assert client.post("/not-awaited", data={"name": "ada"}).status_code == 500
        assert "await request.form()" in caplog.text

    @pytest.mark.parametrize(
        ("send", "status"),
        [
            ({"content": b"x" * 100}, 413),  # over MAX_CONTENT_LENGTH, never read by the view
            (
                {
                    "content": b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--",
                    "headers": {"content-type": "multipart/form-data; boundary=b"},
                },
                400,
            ),
            ({"content": b"{}", "headers": {"content-encoding": "gzip"}}, 415),
        ],
        ids=["too-large", "malformed-multipart", "compressed"],
    )
    def test_a_body_read_ahead_has_the_limits_of_any_body(
        self, send: dict[str, Any], status: int
    ) -> None:
        app = Kettle(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 80
        called: list[bool] = []

        @app.post("/view")
        async def view() -> str:
            called.append(True)
            return "ok"

        response = TestClient(app).post("/view", **send)
        assert response.status_code == status
        assert "Traceback" not in response.text
        assert called == []

    def test_no_read_ahead_where_the_view_reads_the_body_itself_or_has_none(self) -> None:
        # Not for: a view taking the Request (it may stream the body), a body or form
        # parameter, a GET, a plain def (run in a thread, it reads synchronously), or a
        # FastAPI app (whose handlers have no global request to read).
        app = Kettle(__name__)

        @app.post("/streams")
        async def streams(req: Request) -> str:
            return "ok"

        @app.post("/model")
        async def model(item: dict[str, int]) -> str:
            return "ok"

        @app.get("/page")
        async def page() -> str:
            return "ok"

        @app.post("/sync")
        def sync_view() -> str:
            return "ok"

        api = FastAPI()

        @api.post("/items")
        async def create() -> dict[str, bool]:
            return {"ok": True}

        plans = {entry[0].path: entry[2] for entry in app.ensure_compiled().plans}
        plans |= {entry[0].path: entry[2] for entry in api.ensure_compiled().plans}
        assert not any(plan.arguments.__name__ == "read_then_bind" for plan in plans.values())
        assert TestClient(api).post("/items", content=b"x" * 100).json() == {"ok": True}

    def test_max_content_length_limits_the_body(self) -> None:
        app = Kettle(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 10

        @app.post("/json")
        def json_body():
            return request.get_json()

        assert TestClient(app).post("/json", json={"k": "x" * 50}).status_code == 413


def test_environ_is_a_wsgi_view_of_the_request_kept_for_the_request() -> None:
    from kettle import Kettle, request

    app = Kettle(__name__)

    @app.post("/shop/<item>")
    def buy(item: str) -> dict[str, object]:
        environ = request.environ
        environ["app.note"] = "kept"
        return {
            "same": request.environ is environ and request.environ["app.note"] == "kept",
            "request": environ["werkzeug.request"] is request._get_current_object(),
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "agent": environ["HTTP_USER_AGENT"],
            "type": environ["CONTENT_TYPE"],
        }

    response = app.test_client().post(
        "/shop/tea?n=2", data={"a": "1"}, headers={"User-Agent": "probe/1"}
    )
    assert response.get_json() == {
        "same": True,
        "request": True,
        "method": "POST",
        "path": "/shop/tea",
        "query": "n=2",
        "agent": "probe/1",
        "type": "application/x-www-form-urlencoded",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("page=3", {"page": 3, "pages": [3]}),
        ("page=three", {"page": 1, "pages": []}),  # a failed conversion: the default
        ("", {"page": 1, "pages": []}),
        ("page=2&page=x&page=5", {"page": 2, "pages": [2, 5]}),
    ],
)
def test_args_get_and_getlist_convert_with_type(query: str, expected: dict[str, object]) -> None:
    from kettle import Kettle, request

    app = Kettle(__name__)

    @app.route("/list")
    def listing() -> dict[str, object]:
        return {
            "page": request.args.get("page", 1, type=int),
            "pages": request.args.getlist("page", type=int),
        }

    assert app.test_client().get(f"/list?{query}").get_json() == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic YWRhOnMzY3JldA==", ("basic", "ada", "s3cret", None)),
        ("Bearer abc.def==", ("bearer", None, None, "abc.def==")),
        ("Basic not-base64!", None),
        ("Basic YWRh", None),  # no colon: no password
        ("Basic " + "A" * 40000, None),  # large, decodes to NULs without a colon
        ("Basic /w==", None),  # not UTF-8
        ("", None),
        ("Ba sic x", ("ba", None, None, "sic x")),
    ],
)
def test_authorization(header: str, expected: tuple[object, ...] | None) -> None:
    from kettle import Kettle, request

    app = Kettle(__name__)

    @app.route("/who")
    def who() -> dict[str, object]:
        auth = request.authorization
        if auth is None:
            return {"auth": None}
        return {"auth": [auth.type, auth.username, auth.password, auth.token]}

    answer = app.test_client().get("/who", headers={"Authorization": header}).json
    assert answer["auth"] == (list(expected) if expected else None)


@pytest.mark.parametrize(
    ("accept", "json", "html", "best"),
    [
        ("application/json", True, False, "application/json"),
        ("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", True, True, "text/html"),
        ("text/*;q=0.5, application/json;q=0.4", True, True, "text/html"),
        ("image/png", False, False, None),
        ("application/json;q=nonsense", False, False, None),
        ("application/json;q=nan, text/html;q=0.1", False, True, "text/html"),
        ("application/json;q=inf, text/html;q=0.5", False, True, "text/html"),
        ("application/json;q=-3", False, False, None),
        (",,;;q=,*/;*" * 200, True, True, "text/html"),  # junk, long: no error
        ("", False, False, None),
    ],
)
def test_accept_mimetypes(accept: str, json: bool, html: bool, best: str | None) -> None:
    from kettle import Kettle, request

    app = Kettle(__name__)

    @app.route("/neg")
    def neg() -> dict[str, object]:
        mimetypes = request.accept_mimetypes
        return {
            "json": mimetypes.accept_json,
            "html": mimetypes.accept_html,
            "best": mimetypes.best_match(["text/html", "application/json"]),
            "count": request.headers.get("X-Count", type=int),
        }

    answer = app.test_client().get("/neg", headers={"Accept": accept, "X-Count": "x"}).json
    assert answer == {"json": json, "html": html, "best": best, "count": None}


class TestWerkzeugNames:
    """The Werkzeug request and header names Flask views reach for (a new user's list:
    each was an AttributeError, a 500)."""

    @pytest.mark.parametrize(
        ("read", "expected"),
        [
            (lambda: request.args.to_dict(), {"a": "1", "b": "3"}),
            (lambda: request.args.to_dict(flat=False), {"a": ["1", "2"], "b": ["3"]}),
            (lambda: request.args.lists(), [["a", ["1", "2"]], ["b", ["3"]]]),
            (lambda: request.args.copy().getlist("a"), ["1", "2"]),
            (lambda: request.query_string.decode(), "a=1&a=2&b=3"),
            (lambda: request.referrer, "https://example.test/from"),
            (lambda: request.origin, "https://example.test"),
            (lambda: request.script_root, ""),
            (lambda: request.access_route, ["127.0.0.1"]),
            (lambda: [request.url_rule.rule, request.url_rule.endpoint], ["/items/{n}", "item"]),
            (lambda: sorted(request.url_rule.arguments), ["n"]),
        ],
    )
    def test_request_names(self, read: Callable[[], Any], expected: Any) -> None:
        app = Kettle(__name__)

        @app.get("/items/{n}", name="item")
        def item(n: str) -> dict[str, Any]:
            return {"value": read()}

        headers = {"Referer": "https://example.test/from", "Origin": "https://example.test"}
        answer = app.test_client().get("/items/7?a=1&a=2&b=3", headers=headers)
        assert answer.get_json() == {"value": expected}

    def test_the_body_after_the_form_is_empty_as_in_flask(self) -> None:
        # The form parser reads the body as a stream: what is left is b"" (it raised).
        app = Kettle(__name__)

        @app.post("/")
        def view() -> dict[str, Any]:
            return {"name": request.form["name"], "rest": request.get_data(as_text=True)}

        answer = app.test_client().post("/", data={"name": "ada"})
        assert answer.get_json() == {"name": "ada", "rest": ""}

    def test_response_header_and_json_names(self) -> None:
        from kettle import make_response

        app = Kettle(__name__)

        @app.get("/")
        def view() -> Any:
            response = make_response({"ok": True})
            response.headers.add("Link", "</a>; rel=next")
            response.headers.add("Link", "</b>; rel=prev")
            response.headers.set("X-Mode", "one")
            response.headers.set("X-Mode", "two")
            response.headers.extend([("X-Extra", "1")])
            assert response.get_json() == {"ok": True} == response.json
            assert response.is_json
            assert response.content_length == len(response.get_data())
            assert make_response("<p>").get_json() is None
            return response

        answer = app.test_client().get("/")
        assert answer.headers.get_all("link") == ["</a>; rel=next", "</b>; rel=prev"]
        assert (answer.headers["x-mode"], answer.headers["x-extra"]) == ("two", "1")


class TestJSONValues:
    """request.json is the parsed body where Flask code treats it as one (a new user's
    jsonify(echo=request.json) was a 500: "JSONAccessor is not JSON serializable")."""

    def test_in_a_plain_def_view_it_is_the_parsed_body(self) -> None:
        from kettle import jsonify

        app = Kettle(__name__)

        @app.post("/jsonify")
        def echo() -> Any:
            return jsonify(echo=request.json, is_dict=isinstance(request.json, dict))

        @app.post("/returned")
        def returned() -> dict[str, Any]:
            return {"got": request.json}

        client = app.test_client()
        assert client.post("/jsonify", json={"a": 1}).get_json() == {
            "echo": {"a": 1},
            "is_dict": True,
        }
        assert client.post("/returned", json=[1, 2]).get_json() == {"got": [1, 2]}

    def test_in_an_async_view_the_accessor_encodes_as_its_data(self) -> None:
        from kettle import jsonify

        app = Kettle(__name__)

        @app.post("/")
        async def echo() -> dict[str, Any]:
            return {"json": request.json, "key": request.json["k"]}

        @app.post("/form")
        async def form() -> Any:
            return jsonify(form=request.form)  # a MultiDict: each key's first value

        client = app.test_client()
        assert client.post("/", json={"k": 3}).get_json() == {"json": {"k": 3}, "key": 3}
        assert client.post("/form", data={"x": ["1", "2"]}).get_json() == {"form": {"x": "1"}}
