"""The Flask half in real apps: request hooks on apps and nested blueprints, their
order, and blueprint names and prefixes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import KEY, sign, write

from kettle import (
    Blueprint,
    HTTPException,
    Kettle,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
)
from kettle.testing import TestClient


class TestHooksAndBlueprints:
    @staticmethod
    def make_app(trail: list[str]) -> Kettle:
        app = Kettle(__name__)
        outer = Blueprint("outer", __name__, url_prefix="/outer")
        inner = Blueprint("inner", __name__, url_prefix="/inner")

        def hooks(owner: Any, name: str) -> None:
            @owner.before_request
            def before_1() -> None:
                trail.append(f"{name}.before1")

            @owner.before_request
            async def before_2() -> None:
                trail.append(f"{name}.before2")

            @owner.after_request
            def after_1(response: Response) -> Response:
                trail.append(f"{name}.after1")
                return response

            @owner.after_request
            async def after_2(response: Response) -> Response:
                trail.append(f"{name}.after2")
                return response

            @owner.teardown_request
            def teardown(exc: BaseException | None) -> None:
                trail.append(f"{name}.teardown")

        hooks(app, "app")
        hooks(outer, "outer")
        hooks(inner, "inner")

        @inner.before_app_request
        def everywhere() -> None:
            trail.append("inner.before_app")

        @inner.after_app_request
        def everywhere_after(response: Response) -> Response:
            trail.append("inner.after_app")
            return response

        @inner.teardown_app_request
        def everywhere_teardown(exc: BaseException | None) -> None:
            trail.append("inner.teardown_app")

        @app.get("/")
        def root() -> str:
            trail.append("handler")
            return "root"

        @outer.get("/")
        def outer_index() -> str:
            trail.append("handler")
            return "outer"

        @inner.get("/")
        async def inner_index() -> str:
            trail.append("handler")
            return "inner"

        outer.register_blueprint(inner)
        app.register_blueprint(outer)
        return app

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            (
                "/",
                "app.before1 app.before2 inner.before_app handler "
                "inner.after_app app.after2 app.after1 "
                "inner.teardown_app app.teardown",
            ),
            (
                "/outer/",
                "app.before1 app.before2 inner.before_app outer.before1 outer.before2 handler "
                "outer.after2 outer.after1 inner.after_app app.after2 app.after1 "
                "outer.teardown inner.teardown_app app.teardown",
            ),
            (
                "/outer/inner/",
                "app.before1 app.before2 inner.before_app outer.before1 outer.before2 "
                "inner.before1 inner.before2 handler "
                "inner.after2 inner.after1 outer.after2 outer.after1 inner.after_app "
                "app.after2 app.after1 "
                "inner.teardown outer.teardown inner.teardown_app app.teardown",
            ),
        ],
    )
    def test_order(self, path: str, expected: str) -> None:
        trail: list[str] = []
        response = TestClient(self.make_app(trail)).get(path)
        assert response.status_code == 200
        assert trail == expected.split()

    def test_before_request_can_answer(self) -> None:
        app = Kettle(__name__)
        calls: list[str] = []
        admin = Blueprint("admin", __name__, url_prefix="/admin")

        @admin.before_request
        def require_login() -> Any:
            calls.append("check")
            if "user" not in request.args:
                return redirect("/login")
            g.user = request.args["user"]
            return None

        @admin.before_request
        def never_after_an_answer() -> None:
            calls.append("second")

        @admin.after_request
        def after(response: Response) -> Response:
            response.headers["x-admin"] = "1"
            return response

        @admin.get("/")
        def index() -> str:
            calls.append("handler")
            return f"hello {g.user}"

        app.register_blueprint(admin)
        client = TestClient(app, follow_redirects=False)
        refused = client.get("/admin/")
        assert (refused.status_code, refused.headers["location"]) == (302, "/login")
        assert refused.headers["x-admin"] == "1"
        assert calls == ["check"]
        assert client.get("/admin/?user=ada").text == "hello ada"

    def test_after_request_must_return_the_response(self) -> None:
        app = Kettle(__name__)

        @app.after_request
        def forgot(response: Response) -> None:
            response.headers["x"] = "1"

        @app.get("/")
        def index() -> str:
            return "ok"

        response = TestClient(app, raise_server_exceptions=False).get("/")
        assert response.status_code == 500

    def test_teardown_sees_the_error_and_runs_after_sending(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = Kettle(__name__)
        seen: list[Any] = []

        @app.teardown_request
        async def first(exc: BaseException | None) -> None:
            raise RuntimeError("a failing teardown is logged, not fatal")

        @app.teardown_request
        def record(exc: BaseException | None) -> None:
            seen.append((type(exc).__name__ if exc else None, g.get("step")))

        @app.get("/ok")
        def ok() -> str:
            g.step = "ok"
            return "ok"

        @app.get("/boom")
        def boom() -> str:
            g.step = "boom"
            raise ValueError("boom")

        client = TestClient(app)
        assert client.get("/ok").text == "ok"
        assert client.get("/boom").status_code == 500
        assert seen == [(None, "ok"), ("ValueError", "boom")]
        assert "Error in a teardown_request hook" in caplog.text

    def test_teardown_gets_none_for_handled_errors(self) -> None:
        app = Kettle(__name__)
        seen: list[Any] = []

        @app.teardown_request
        def record(exc: BaseException | None) -> None:
            seen.append(exc)

        @app.get("/missing")
        def missing() -> str:
            abort(404)

        TestClient(app).get("/missing")
        assert seen == [None]

    @pytest.mark.parametrize(
        ("method", "path", "status"), [("GET", "/nowhere", 404), ("DELETE", "/only-get", 405)]
    )
    def test_unmatched_urls_go_through_hooks_with_a_request_context(
        self, tmp_path: Path, method: str, path: str, status: int
    ) -> None:
        write(tmp_path / "templates" / "error.html", "{{ code }} for {{ request.path }}")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config["SECRET_KEY"] = KEY
        bp = Blueprint("bp", __name__)
        trail: list[str] = []

        @app.before_request
        def before() -> Any:
            trail.append("before")
            g.user = session.get("user")
            return "maintenance" if request.args.get("closed") else None

        @bp.after_app_request
        def after(response: Response) -> Response:
            trail.append("after")
            response.headers["x-user"] = g.user
            return response

        @app.teardown_request
        def teardown(exc: BaseException | None) -> None:
            trail.append("teardown")

        @app.errorhandler(404)
        @app.errorhandler(405)
        def page(exc: HTTPException) -> tuple[str, int]:
            return render_template("error.html", code=exc.status_code), exc.status_code

        @app.get("/only-get")
        def only_get() -> str:
            return "ok"

        app.register_blueprint(bp)
        client = TestClient(app, cookies={"session": sign(app, {"user": "ada"})})
        response = client.request(method, path)
        assert (response.status_code, response.text) == (status, f"{status} for {path}")
        assert response.headers["x-user"] == "ada"
        assert response.headers["vary"] == "Cookie"
        assert trail == ["before", "after", "teardown"]
        closed = client.request(method, path, params={"closed": "1"})
        assert (closed.status_code, closed.text) == (200, "maintenance")

    def test_response_model_still_filters_when_hooks_exist(self) -> None:
        import pydantic

        class Public(pydantic.BaseModel):
            name: str

        app = Kettle(__name__)

        @app.before_request
        def hook() -> None:
            g.seen = True

        @app.get("/user", response_model=Public)
        def user() -> Any:
            return {"name": "ada", "password_hash": "secret"}

        assert TestClient(app).get("/user").json() == {"name": "ada"}

    def test_blueprint_names_and_prefixes(self) -> None:
        app = Kettle(__name__)
        bp = Blueprint("bp", __name__, url_prefix="/bp")

        @bp.get("/x")
        def x() -> dict[str, Any]:
            return {"endpoint": request.endpoint, "blueprint": request.blueprint}

        app.register_blueprint(bp, url_prefix="/moved")
        assert TestClient(app).get("/moved/x").json() == {"endpoint": "bp.x", "blueprint": "bp"}
        with pytest.raises(ValueError, match="already registered"):
            app.register_blueprint(Blueprint("bp", __name__))
