"""The Flask half in real apps: context locals (``request``, ``g``, ``session``,
``current_app``) in handlers and hooks, sync and async alike.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import KEY, sign, unsign, write

from kettle import (
    Kettle,
    Response,
    current_app,
    g,
    render_template,
    render_template_string,
    request,
    session,
    url_for,
)
from kettle.globals import has_request_context
from kettle.testing import AsyncTestClient, TestClient


class TestContextLocals:
    def test_isolated_between_50_concurrent_sync_and_async_requests(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY

        lock = threading.Lock()
        in_flight = [0, 0]  # now, most at once

        @app.before_request
        def remember() -> None:  # a plain def hook: it runs in a worker thread
            g.rid = request.headers["x-rid"]
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)

        @app.after_request
        async def echo(response: Response) -> Response:
            with lock:
                in_flight[0] -= 1
            response.headers["x-g"] = g.rid
            return response

        def seen() -> dict[str, Any]:
            # Code the handlers call: no arguments, only the context locals.
            return {
                "g": g.rid,
                "arg": request.args["n"],
                "header": request.headers["x-rid"],
                "user": session.get("user"),
                "page": render_template_string(
                    "{{ g.rid }}/{{ request.args.n }}/{{ session.user }}"
                ),
                "app": current_app.config["SECRET_KEY"] == KEY,
            }

        @app.get("/sync")
        def sync_view():
            time.sleep(int(request.args["n"]) % 5 * 0.004)
            session["n"] = request.args["n"]
            return seen()

        @app.get("/async")
        async def async_view():
            await anyio.sleep(int(request.args["n"]) % 5 * 0.004)
            session["n"] = request.args["n"]
            return seen()

        results: dict[int, Any] = {}

        async def main() -> None:
            async with AsyncTestClient(app) as client:

                async def one(i: int) -> None:
                    cookie = sign(app, {"user": f"user{i}"})
                    response = await client.get(
                        "/sync" if i % 2 else "/async",
                        params={"n": str(i)},
                        headers={"x-rid": str(i), "cookie": f"session={cookie}"},
                    )
                    results[i] = response

                async with anyio.create_task_group() as tasks:
                    for i in range(50):
                        tasks.start_soon(one, i)

        anyio.run(main)
        assert len(results) == 50
        assert in_flight[1] >= 10  # the requests really overlapped
        for i, response in results.items():
            assert response.json() == {
                "g": str(i),
                "arg": str(i),
                "header": str(i),
                "user": f"user{i}",
                "page": f"{i}/{i}/user{i}",
                "app": True,
            }
            assert response.headers["x-g"] == str(i)
            saved = unsign(app, response.cookies["session"])
            assert saved == {"user": f"user{i}", "n": str(i)}
            assert response.headers["vary"] == "Cookie"

    def test_g_is_per_request(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> dict[str, Any]:
            before = "count" in g
            g.count = g.get("count", 0) + 1
            return {"had": before, "count": g.count}

        client = TestClient(app)
        assert client.get("/").json() == {"had": False, "count": 1}
        assert client.get("/").json() == {"had": False, "count": 1}

    @pytest.mark.parametrize("is_async", [False, True])
    def test_proxies_are_the_real_objects(self, is_async: bool) -> None:
        app = Kettle(__name__)

        def describe() -> dict[str, Any]:
            return {
                "current_app": current_app._get_current_object() is app,  # type: ignore[attr-defined]
                "request_path": request.path,
                "method": request.method,
                "endpoint": request.endpoint,
                "view_args": request.view_args,
                "has_request": has_request_context(),
            }

        if is_async:

            @app.get("/items/<int:item_id>")
            async def item(item_id: int):
                return describe()

        else:

            @app.get("/items/<int:item_id>")
            def item(item_id: int):
                return describe()

        assert TestClient(app).get("/items/7").json() == {
            "current_app": True,
            "request_path": "/items/7",
            "method": "GET",
            "endpoint": "item",
            "view_args": {"item_id": 7},
            "has_request": True,
        }

    def test_sync_hooks_run_in_worker_threads_and_share_g_with_async_ones(self) -> None:
        app = Kettle(__name__)
        threads: dict[str, int] = {}
        seen: list[Any] = []

        @app.before_request
        def sync_before() -> None:
            threads["hook"] = threading.get_ident()
            g.trail = ["sync before"]

        @app.before_request
        async def async_before() -> None:
            threads["loop"] = threading.get_ident()
            g.trail.append("async before")

        @app.after_request
        def sync_after(response: Response) -> Response:
            g.trail.append("sync after")
            response.headers["x-trail"] = ",".join(g.trail)
            return response

        @app.teardown_request
        def sync_teardown(exc: BaseException | None) -> None:
            seen.append((list(g.trail), request.path))

        @app.get("/")
        def index() -> str:
            g.trail.append("handler")
            return "ok"

        response = TestClient(app).get("/")
        assert response.headers["x-trail"] == "sync before,async before,handler,sync after"
        assert threads["hook"] != threads["loop"]
        assert seen == [(["sync before", "async before", "handler", "sync after"], "/")]

    def test_context_ends_with_the_request(self) -> None:
        app = Kettle(__name__)
        kept: list[Any] = []

        @app.get("/")
        def index() -> str:
            kept.append(request._get_current_object())  # type: ignore[attr-defined]
            return "ok"

        TestClient(app).get("/")
        assert kept[0].path == "/"
        assert not request
        assert not g
        assert not has_request_context()
        with pytest.raises(RuntimeError, match="outside of request context"):
            request.path  # noqa: B018

    def test_app_context_outside_a_request(self, tmp_path: Path) -> None:
        write(tmp_path / "templates" / "mail.txt", "{{ config.SITE }}: {{ url_for('item', id=3) }}")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config.update(SERVER_NAME="shop.example", PREFERRED_URL_SCHEME="https", SITE="Shop")

        @app.get("/items/{id}")
        def item(id: str) -> str:
            return id

        with app.app_context():
            g.user = "cron"
            assert current_app.config["SITE"] == "Shop"
            assert render_template("mail.txt") == "Shop: https://shop.example/items/3"
            assert url_for("item", id=3, _external=False) == "/items/3"
            assert g.user == "cron"
            assert not has_request_context()
        assert not g

    def test_test_request_context_reads_the_session_cookie(self) -> None:
        app = Kettle(__name__)
        app.config["SECRET_KEY"] = KEY

        @app.get("/items/{id}")
        def item(id: str) -> str:
            return id

        cookie = sign(app, {"user": "ada"})
        with app.test_request_context("/items/3?sort=asc", headers={"Cookie": f"session={cookie}"}):
            assert session["user"] == "ada"
            assert request.args["sort"] == "asc"
            assert url_for("item", id=4) == "/items/4"
            assert url_for("item", id=4, _external=True) == "http://localhost/items/4"
            g.x = 1
        assert not has_request_context()

    def test_test_request_context_under_a_root_path(self) -> None:
        app = Kettle(__name__)
        with app.test_request_context("/items/3?x=1", base_url="https://h.example/shop"):
            assert request.url == "https://h.example/shop/items/3?x=1"


@pytest.mark.parametrize(
    ("base_url", "server"),
    [("http://example.com", ("example.com", 80)), ("https://example.com", ("example.com", 443)),
     ("https://example.com:8443", ("example.com", 8443))],
)  # fmt: skip
def test_test_request_context_gives_the_schemes_default_port(
    base_url: str, server: tuple[str, int]
) -> None:
    app = Kettle(__name__)
    with app.test_request_context("/", base_url=base_url):
        assert request.scope["server"] == server
