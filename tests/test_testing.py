"""The test clients: lifespan, cookies, URLs, redirects, server errors, streaming, async."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from kettle import (
    Kettle,
    Middleware,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from kettle.testing import AsyncTestClient, TestClient
from kettle.types import Receive, Scope, Send


def make_app(events: list[str] | None = None) -> Kettle:
    """An app whose lifespan records into ``events`` and yields ``{"db": "pool"}``."""
    log = events if events is not None else []

    @contextlib.asynccontextmanager
    async def lifespan(app: Kettle) -> AsyncIterator[dict[str, Any]]:
        log.append("enter")
        yield {"db": "pool"}
        log.append("exit")

    app = Kettle(
        __name__,
        lifespan=lifespan,
        on_startup=[lambda: log.append("startup")],
        on_shutdown=[lambda: log.append("shutdown")],
    )

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        # Each request starts from a copy of the lifespan state; writes stay local.
        seen = {"db": getattr(request.state, "db", None), "mine": "mine" in request.state}
        request.state.mine = True
        return seen

    @app.get("/login")
    async def login() -> Response:
        response = Response("welcome")
        response.set_cookie("sid", "s3cret")
        return response

    @app.get("/logout")
    async def logout() -> Response:
        response = Response("bye")
        response.set_cookie("sid", "", max_age=0)
        return response

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        return {"cookies": request.cookies}

    @app.get("/where")
    async def where(request: Request) -> dict[str, Any]:
        return {
            "url": str(request.url),
            "base_url": str(request.base_url),
            "root_path": request.root_path,
            "path": request.path,
            "secure": request.is_secure,
            "host": request.headers.get("host"),
            "user_agent": request.headers.get("user-agent"),
            "client": list(request.client or ()),
        }

    @app.get("/old")
    async def old() -> Response:
        return RedirectResponse("/where")

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return await request.json()

    return app


# -- lifespan ---------------------------------------------------------------------------------


def test_lifespan_runs_only_inside_with() -> None:
    events: list[str] = []
    client = TestClient(make_app(events))
    assert client.get("/state").json() == {"db": None, "mine": False}
    assert events == []

    with TestClient(make_app(events)) as client:
        assert events == ["startup", "enter"]
        assert client.get("/state").json() == {"db": "pool", "mine": False}
        # What one request wrote to its state is not seen by the next.
        assert client.get("/state").json() == {"db": "pool", "mine": False}
        assert client.lifespan_state == {"db": "pool"}
    assert events == ["startup", "enter", "exit", "shutdown"]


def failing_app(where: str) -> Kettle:
    def fail() -> None:
        raise ZeroDivisionError(f"{where} failed")

    @contextlib.asynccontextmanager
    async def lifespan(app: Kettle) -> AsyncIterator[None]:
        if where == "lifespan startup":
            fail()
        yield
        if where == "lifespan shutdown":
            fail()

    return Kettle(
        __name__,
        lifespan=lifespan,
        on_startup=[fail] if where == "startup hook" else [],
        on_shutdown=[fail] if where == "shutdown hook" else [],
    )


@pytest.mark.parametrize("where", ["startup hook", "lifespan startup"])
def test_startup_failure_raises_from_enter(where: str) -> None:
    entered = False
    with pytest.raises(ZeroDivisionError, match=f"{where} failed"), TestClient(failing_app(where)):
        entered = True  # pragma: no cover
    assert not entered


@pytest.mark.parametrize("where", ["shutdown hook", "lifespan shutdown"])
def test_shutdown_failure_raises_from_exit(where: str) -> None:
    app = failing_app(where)
    with pytest.raises(ZeroDivisionError, match=f"{where} failed"), TestClient(app) as client:
        assert client.get("/missing").status_code == 404


def test_plain_asgi_app_with_its_own_lifespan() -> None:
    events: list[str] = []

    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            events.append((await receive())["type"])
            await send({"type": "lifespan.startup.complete"})
            events.append((await receive())["type"])
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(bare) as client:
        assert client.get("/").status_code == 204
    assert events == ["lifespan.startup", "lifespan.shutdown"]


# -- cookies, URLs and redirects --------------------------------------------------------------


def test_cookies_persist_across_requests() -> None:
    client = TestClient(make_app())
    assert client.get("/whoami").json() == {"cookies": {}}
    assert client.get("/login").text == "welcome"
    assert client.cookies["sid"] == "s3cret"
    assert client.get("/whoami").json() == {"cookies": {"sid": "s3cret"}}
    client.get("/logout")
    assert client.get("/whoami").json() == {"cookies": {}}


def test_cookies_given_to_the_client_are_sent() -> None:
    client = TestClient(make_app(), cookies={"theme": "dark"})
    assert client.get("/whoami").json() == {"cookies": {"theme": "dark"}}


@pytest.mark.parametrize(
    ("base_url", "url", "secure", "host"),
    [
        ("http://testserver", "http://testserver/where", False, "testserver"),
        ("https://example.org", "https://example.org/where", True, "example.org"),
        ("http://localhost:8000", "http://localhost:8000/where", False, "localhost:8000"),
    ],
)
def test_base_url(base_url: str, url: str, secure: bool, host: str) -> None:
    seen = TestClient(make_app(), base_url=base_url).get("/where").json()
    assert (seen["url"], seen["secure"], seen["host"]) == (url, secure, host)
    assert seen["base_url"] == url.removesuffix("where")


def test_default_request_identity() -> None:
    seen = TestClient(make_app()).get("/where").json()
    assert seen["user_agent"] == "testclient"
    assert seen["client"] == ["testclient", 50000]


def test_client_address_is_configurable() -> None:
    seen = TestClient(make_app(), client=("10.1.2.3", 9)).get("/where").json()
    assert seen["client"] == ["10.1.2.3", 9]


@pytest.mark.parametrize(
    "name",
    [
        "user-agent",
        "User-Agent",
    ],
)
def test_client_headers_replace_the_defaults(name: str) -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def agents(request: Request) -> list[str]:
        return request.headers.getlist("user-agent")

    assert TestClient(app, headers={name: "probe/1"}).get("/").json() == ["probe/1"]


def test_root_path_is_prefixed_to_every_request() -> None:
    client = TestClient(make_app(), root_path="/api")
    seen = client.get("/where").json()
    assert seen["root_path"] == "/api"
    assert seen["path"] == "/api/where"
    assert seen["url"] == "http://testserver/api/where"
    assert seen["base_url"] == "http://testserver/api/"
    # Trailing-slash redirects stay under the root path.
    redirect = client.get("/where/", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/api/where")


def test_redirects_are_followed_by_default() -> None:
    response = TestClient(make_app()).get("/old")
    assert response.status_code == 200
    assert response.url == "http://testserver/where"
    assert [r.status_code for r in response.history] == [307]


@pytest.mark.parametrize("where", ["client", "request"])
def test_redirects_can_be_left_unfollowed(where: str) -> None:
    if where == "client":
        response = TestClient(make_app(), follow_redirects=False).get("/old")
    else:
        response = TestClient(make_app()).get("/old", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/where")


def test_request_body_reaches_the_app() -> None:
    payload = {"items": [1, 2, 3], "name": "kettle"}
    assert TestClient(make_app()).post("/echo", json=payload).json() == payload


# -- exceptions that escape the app -----------------------------------------------------------


class RaiseAfterResponse:
    """Pure ASGI middleware that fails once the response has been sent."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["path"] == "/late":
            raise RuntimeError("failed after the response started")


class RaiseBeforeResponse:
    """Pure ASGI middleware that fails before the app answers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/early":
            raise RuntimeError("failed before the response")
        await self.app(scope, receive, send)


def erroring_app() -> Kettle:
    app = Kettle(
        __name__, middleware=[Middleware(RaiseAfterResponse), Middleware(RaiseBeforeResponse)]
    )

    @app.get("/late")
    async def late() -> dict[str, bool]:
        return {"sent": True}

    @app.get("/early")
    async def early() -> dict[str, bool]:  # pragma: no cover - the middleware fails first
        return {"sent": True}

    @app.get("/handler")
    async def handler() -> dict[str, bool]:
        raise KeyError("handler bug")

    return app


@pytest.mark.parametrize(
    ("path", "raise_server_exceptions", "outcome"),
    [
        # After the response started nothing can become a 500: the error escapes the app.
        ("/late", True, RuntimeError),
        ("/late", False, (200, {"sent": True})),
        # Errors before that are answered by kettle itself, whatever the client setting.
        ("/early", True, (500, {"detail": "Internal Server Error"})),
        ("/early", False, (500, {"detail": "Internal Server Error"})),
        ("/handler", True, (500, {"detail": "Internal Server Error"})),
        ("/handler", False, (500, {"detail": "Internal Server Error"})),
    ],
)
def test_raise_server_exceptions(
    path: str, raise_server_exceptions: bool, outcome: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(erroring_app(), raise_server_exceptions=raise_server_exceptions)
    if isinstance(outcome, type):
        with pytest.raises(outcome, match="after the response started"):
            client.get(path)
    else:
        response = client.get(path)
        assert (response.status_code, response.json()) == outcome
    # Every one of these errors is logged with its traceback, never swallowed.
    assert [r.exc_info is not None for r in caplog.records if r.name == "kettle.error"] == [True]


async def crashing_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("crashed before answering")


def test_exception_before_any_response_is_raised() -> None:
    with pytest.raises(RuntimeError, match="crashed before answering"):
        TestClient(crashing_asgi_app).get("/")


def test_exception_before_any_response_is_a_500_when_not_raising() -> None:
    response = TestClient(crashing_asgi_app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


def test_app_that_sends_no_response_is_an_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with pytest.raises(RuntimeError, match="without sending a response"):
        TestClient(silent).get("/")


# -- streaming --------------------------------------------------------------------------------


def streaming_app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/async")
    async def async_stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[str]:
            for i in range(3):
                await anyio.lowlevel.checkpoint()
                yield f"{i};"

        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/sync")
    def sync_stream() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"a;"
            yield b"b;"

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    return app


@pytest.mark.parametrize(("path", "body"), [("/async", b"0;1;2;"), ("/sync", b"a;b;")])
def test_streaming_response_is_collected(path: str, body: bytes) -> None:
    response = TestClient(streaming_app()).get(path)
    assert response.status_code == 200
    assert response.content == body
    # The test client reports what the app sent: no Content-Length it never set.
    assert "content-length" not in response.headers


def test_streaming_response_through_client_stream() -> None:
    with TestClient(streaming_app()).stream("GET", "/async") as response:
        assert b"".join(response.iter_bytes()) == b"0;1;2;"


# -- AsyncTestClient --------------------------------------------------------------------------


def test_async_client_runs_lifespan_only_in_async_with() -> None:
    events: list[str] = []

    async def main() -> None:
        outside = AsyncTestClient(make_app(events))
        assert (await outside.get("/state")).json() == {"db": None, "mine": False}
        await outside.aclose()
        assert events == []
        async with AsyncTestClient(make_app(events)) as client:
            assert events == ["startup", "enter"]
            assert (await client.get("/state")).json() == {"db": "pool", "mine": False}
            await client.get("/login")
            assert (await client.get("/whoami")).json() == {"cookies": {"sid": "s3cret"}}
        assert events == ["startup", "enter", "exit", "shutdown"]

    anyio.run(main)


@pytest.mark.parametrize(
    ("where", "phase"),
    [
        ("startup hook", "startup"),
        ("lifespan startup", "startup"),
        ("shutdown hook", "shutdown"),
        ("lifespan shutdown", "shutdown"),
    ],
)
def test_async_client_lifespan_failures_raise(where: str, phase: str) -> None:
    reached: list[str] = []

    async def run_client() -> None:
        async with AsyncTestClient(failing_app(where)) as client:
            reached.append("body")
            assert client.lifespan_state == {}

    with pytest.raises(ZeroDivisionError, match=f"{where} failed"):
        # The client and its lifespan task are cleaned up: the loop ends without errors.
        anyio.run(run_client)
    assert reached == ([] if phase == "startup" else ["body"])


def test_async_client_requests_run_concurrently_and_in_isolation() -> None:
    count = 5

    async def main() -> list[dict[str, Any]]:
        app = Kettle(__name__)
        arrived: list[int] = []
        all_arrived = anyio.Event()

        @app.get("/work/{n:int}")
        async def work(n: int, request: Request) -> dict[str, Any]:
            request.state.n = n
            arrived.append(n)
            if len(arrived) == count:
                all_arrived.set()
            # Each request waits until every other one has started: they truly overlap.
            await all_arrived.wait()
            return {"n": n, "state": request.state.n, "header": request.headers["x-n"]}

        results: list[dict[str, Any]] = [{} for _ in range(count)]
        async with AsyncTestClient(app) as client:

            async def call(n: int) -> None:
                response = await client.get(f"/work/{n}", headers={"X-N": str(n)})
                results[n] = response.json()

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    for n in range(count):
                        tg.start_soon(call, n)
        return results

    results = anyio.run(main)
    assert results == [{"n": n, "state": n, "header": str(n)} for n in range(count)]


def test_async_client_options_match_the_sync_client() -> None:
    async def main() -> dict[str, Any]:
        client = AsyncTestClient(
            make_app(), base_url="https://example.org", root_path="/api", cookies={"a": "1"}
        )
        async with client:
            redirect = await client.get("/old", follow_redirects=False)
            assert redirect.status_code == 307
            followed = await client.get("/old")
            assert followed.history[0].status_code == 307
            seen: dict[str, Any] = followed.json()
            seen["cookies"] = (await client.get("/whoami")).json()["cookies"]
            return seen

    seen = anyio.run(main)
    assert seen["url"] == "https://example.org/api/where"
    assert seen["root_path"] == "/api"
    assert seen["cookies"] == {"a": "1"}


def test_async_client_raise_server_exceptions() -> None:
    async def main(raise_server_exceptions: bool) -> int:
        client = AsyncTestClient(erroring_app(), raise_server_exceptions=raise_server_exceptions)
        async with client:
            return (await client.get("/late")).status_code

    with pytest.raises(RuntimeError, match="after the response started"):
        anyio.run(main, True)
    assert anyio.run(main, False) == 200


@pytest.mark.parametrize(
    ("headers", "allow", "vary", "is_json"),
    [
        ({}, [], [], False),
        ({"allow": "GET, POST", "vary": "Cookie"}, ["GET", "POST"], ["Cookie"], False),
        ({"vary": "Accept-Encoding,Cookie"}, [], ["Accept-Encoding", "Cookie"], False),
        ({"content-type": "application/problem+json"}, [], [], True),
        ({"content-type": "application/json; charset=utf-8"}, [], [], True),
    ],
)
def test_response_answers_flask_header_names(
    headers: dict[str, str], allow: list[str], vary: list[str], is_json: bool
) -> None:
    app = Kettle(__name__)

    @app.get("/")
    def index() -> Response:
        return Response(b"{}", headers=headers, media_type=None)

    response = TestClient(app).get("/")
    assert (response.allow, response.vary, response.is_json) == (allow, vary, is_json)
    assert response.content_type == headers.get("content-type", "")


@pytest.mark.parametrize(
    ("method", "status", "body"),
    [("GET", 200, b"got"), ("PUT", 200, b"put"), ("DELETE", 405, None)],
)
def test_open_sends_the_named_method(method: str, status: int, body: bytes | None) -> None:
    app = Kettle(__name__)

    @app.route("/thing", methods=["GET", "PUT"])
    def thing() -> str:
        from kettle import request

        return "got" if request.method == "GET" else "put"

    response = TestClient(app).open("/thing", method=method)
    assert response.status_code == status
    if body is not None:
        assert response.data == body
    else:
        assert sorted(response.allow) == ["GET", "HEAD", "OPTIONS", "PUT"]
