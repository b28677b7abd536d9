"""The request path (kettle/dispatch.py): one lifecycle for routed and unrouted requests."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

import anyio
import pytest

from kettle import (
    Depends,
    Kettle,
    Response,
    StreamingResponse,
    WebSocket,
    WebSocketDisconnect,
    g,
    session,
)
from kettle.fastapi import FastAPI
from kettle.signals import request_finished, request_started
from kettle.testing import AsyncTestClient, TestClient


def _tagging_app() -> Kettle:
    """An app whose app-level hooks mark every response they see."""
    app = Kettle(__name__)
    seen: list[str] = []
    app.state.seen = seen

    @app.before_request
    def before() -> None:
        seen.append("before")

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["x-after"] = "yes"
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append("teardown")

    @app.get("/items/")
    async def items() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/form")
    async def form() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/items", 308),  # the trailing-slash redirect
        ("OPTIONS", "/form", 200),  # automatic OPTIONS
        ("GET", "/form", 405),
        ("GET", "/nowhere", 404),
        ("GET", "/items/", 200),
    ],
    ids=["redirect", "options", "405", "404", "routed"],
)
def test_every_answer_goes_through_the_app_hooks(method: str, path: str, status: int) -> None:
    app = _tagging_app()
    with TestClient(app, follow_redirects=False) as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["x-after"] == "yes"
    assert app.state.seen == ["before", "teardown"]


@pytest.mark.parametrize("path", ["/async-view", "/missing"])
def test_sync_hooks_pin_one_thread_for_the_whole_request(path: str) -> None:
    """Flask code keeps per-thread state (an sqlite connection on ``g``) from
    ``before_request`` to ``teardown_request``: both run on one thread, whatever the view,
    even when many requests are in flight."""
    app = Kettle(__name__)
    threads: list[tuple[int, int]] = []

    @app.before_request
    def remember() -> None:
        g.thread = threading.get_ident()

    @app.teardown_request
    def check(exc: BaseException | None) -> None:
        threads.append((g.thread, threading.get_ident()))

    @app.get("/async-view")
    async def view() -> dict[str, bool]:
        await anyio.sleep(0.01)
        return {"ok": True}

    async def main() -> None:
        async with AsyncTestClient(app) as client, anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(client.get, path)

    anyio.run(main)
    assert len(threads) == 30
    assert all(first == last for first, last in threads)


def test_a_session_that_cannot_be_saved_goes_to_the_app_500_handler() -> None:
    app = Kettle(__name__)
    app.secret_key = "test key, test key, test key!"
    handled: list[str] = []

    @app.errorhandler(500)
    def oops(exc: Any) -> tuple[str, int]:
        handled.append(type(exc).__name__)
        return "sorry", 500

    @app.get("/")
    def index() -> str:
        session["thing"] = object()  # not serialisable: saving it fails
        return "hi"

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert response.text == "sorry"
    assert handled


def test_a_prebuilt_404_when_nothing_app_wide_sees_misses() -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> str:
        return "hi"

    with TestClient(app) as client:
        response = client.get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("fastapi", [True, False])
def test_a_disconnect_escaping_a_websocket_handler(fastapi: bool) -> None:
    """FastAPI's test client re-raises what escaped the handler (its tests expect the
    disconnect); a kettle app's test client does not: the client left, nothing failed."""
    app = FastAPI() if fastapi else Kettle(__name__)
    seen: list[str] = []

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        while True:  # the disconnect ends it, as in FastAPI's tutorial
            text = await ws.receive_text()
            seen.append(text)
            await ws.send_text(text)

    client = TestClient(app)

    def talk() -> None:
        with client.websocket_connect("/echo") as ws:
            ws.send_text("tea")
            assert ws.receive_text() == "tea"

    if fastapi:
        with pytest.raises(WebSocketDisconnect):
            talk()
    else:
        talk()
    assert seen == ["tea"]


def test_the_slash_redirect_still_works_once_an_app_is_mounted() -> None:
    # Regression: the mount loop reused the host-prefix variable, so with any mount the
    # redirect target was looked up under the last mount's path and missed (a 404).
    async def mounted(scope: Any, receive: Any, send: Any) -> None:
        await Response("mounted")(scope, receive, send)

    app = Kettle(__name__)

    @app.get("/items/")
    async def items() -> dict[str, bool]:
        return {"ok": True}

    app.mount("/sub", mounted)
    client = TestClient(app, follow_redirects=False)
    answer = client.get("/items")
    assert answer.status_code == 308
    assert answer.headers["location"] == "/items/"
    assert client.get("/sub").text == "mounted"


@pytest.mark.parametrize("returns", ["dict", "text"])
def test_the_session_is_sealed_for_teardown_whatever_the_handler_returned(returns: str) -> None:
    # Regression: a returned dict was sent by the fast JSON path, which skipped the
    # sealing, so a session write in teardown_request was silently lost instead of loud.
    app = Kettle(__name__)
    app.secret_key = "test-secret"
    seen: list[str] = []

    @app.get("/")
    async def index() -> Any:
        return {"ok": True} if returns == "dict" else "ok"

    @app.teardown_request
    def write_late(error: BaseException | None) -> None:
        try:
            session["late"] = "write"
        except RuntimeError:
            seen.append("refused")
        else:
            seen.append("accepted")

    answer = TestClient(app).get("/")
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    assert seen == ["refused"]


RESOURCE_SAW: list[str] = []


async def watched_resource() -> Any:
    """A ``yield`` dependency that records the error its teardown is shown."""
    try:
        yield "resource"
    except ValueError as exc:
        RESOURCE_SAW.append(str(exc))
        raise


def test_teardown_sees_an_error_raised_while_the_body_is_sent() -> None:
    # Regression: a streamed body that failed after the headers were sent reached the
    # teardown_request functions and the `yield` dependencies as if nothing went wrong.
    app = Kettle(__name__)
    seen: dict[str, Any] = {}

    async def chunks() -> Any:
        yield b"first"
        raise ValueError("the source broke")

    @app.get("/stream")
    async def stream(_: Annotated[str, Depends(watched_resource)]) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    @app.teardown_request
    def record(error: BaseException | None) -> None:
        seen["teardown"] = type(error).__name__ if error else None

    with pytest.raises(ValueError, match="the source broke"):
        TestClient(app).get("/stream")
    assert seen == {"teardown": "ValueError"}
    assert RESOURCE_SAW == ["the source broke"]


async def _call(app: Any, scope: dict[str, Any], send: Any) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    await app(scope, receive, send)


def _scope(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.test:8000")],
        "scheme": "http",
        "server": ("example.test", 8000),
        "client": ("127.0.0.1", 5000),
    }
    scope.update(extra)
    return scope


def test_a_failed_send_of_a_returned_dict_is_not_answered_again() -> None:
    # Regression: the JSON fast path sent inside the error handling, so a send that
    # failed after the headers went out got a 500 as a second response start.
    app = Kettle(__name__)

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(f"{message['type']} {message.get('status', '')}".strip())
        if message["type"] == "http.response.body":
            raise OSError("the client went away")

    with pytest.raises(OSError, match="went away"):
        anyio.run(_call, app, _scope("/data"), send)
    assert sent == ["http.response.start 200", "http.response.body"]


def test_a_root_path_is_cut_only_at_a_segment_boundary() -> None:
    # Regression: with root_path "/api" a request for "/apiary" was cut to "ary" (a 400).
    app = Kettle(__name__)

    @app.get("/apiary")
    async def apiary() -> dict[str, str]:
        return {"at": "apiary"}

    @app.get("/bees")
    async def bees() -> dict[str, str]:
        return {"at": "bees"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(_call, app, _scope("/apiary", root_path="/api"), send)
    anyio.run(_call, app, _scope("/api/bees", root_path="/api"), send)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 200]


def test_a_mounted_app_answers_options_for_its_own_paths_under_host_routing() -> None:
    # Regression: the parent's host-routing key was copied into the mounted app's scope,
    # so the child's automatic OPTIONS listed the methods of the parent's path.
    child = Kettle(__name__, static_folder=None)

    @child.route("/things", methods=["GET", "POST"])
    def things() -> str:
        return "things"

    parent = Kettle(__name__, subdomain_matching=True, static_folder=None)
    parent.config["SERVER_NAME"] = "example.test:8000"
    parent.mount("/child", child)
    answer = TestClient(parent, base_url="http://example.test:8000").options("/child/things")
    assert answer.status_code == 200
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_a_404_is_seen_by_request_signal_receivers() -> None:
    # Regression: the prebuilt 404 (for apps with no hook or handler that sees misses)
    # skipped the request signals, which Flask sends for every request.
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> str:
        return "hi"

    seen: list[str] = []

    def started(sender: Any, **extra: Any) -> None:
        seen.append("started")

    def finished(sender: Any, response: Any, **extra: Any) -> None:
        seen.append(f"finished {response.status_code}")

    with request_started.connected_to(started, app), request_finished.connected_to(finished, app):
        response = TestClient(app).get("/missing")
    assert response.status_code == 404
    assert seen == ["started", "finished 404"]


@pytest.mark.parametrize(
    ("root_path", "path"),
    [("", "/sub/x"), ("/api", "/api/sub/x"), ("/api/", "/api/sub/x"), ("/", "/sub/x")],
)
def test_a_mounted_app_is_reached_under_any_spelling_of_the_root_path(
    root_path: str, path: str
) -> None:
    # Regression: a root_path ending in "/" gave the mounted app "/api//sub" as its root,
    # which its own paths never start with (a 404).
    child = Kettle(__name__)

    @child.get("/x")
    async def x() -> str:
        return "child x"

    parent = Kettle(__name__)
    parent.mount("/sub", child)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(_call, parent, _scope(path, root_path=root_path), send)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"child x"


TX_OUTCOME: list[str] = []


async def transaction() -> Any:
    """A dependency committing after its yield, rolling back on any failure."""
    try:
        yield "tx"
    except BaseException as exc:
        TX_OUTCOME.append(f"rolled back: {type(exc).__name__}")
        raise
    TX_OUTCOME.append("committed")


@pytest.mark.parametrize("where", ["handler", "send"])
def test_a_cancelled_request_is_a_failure_for_teardown_and_yield_dependencies(where: str) -> None:
    # Regression: a request cancelled in its handler or while its answer was sent (the
    # client gone, a server timeout) reached the teardown functions with no error, and a
    # `yield` dependency resumed as after a success: code after its yield committed the
    # work of a request that never completed.
    app = Kettle(__name__)
    TX_OUTCOME.clear()
    seen: dict[str, Any] = {}
    started = anyio.Event()

    @app.get("/work")
    async def work(tx: Annotated[str, Depends(transaction)]) -> dict[str, str]:
        if where == "handler":
            started.set()
            await anyio.sleep_forever()
        return {"tx": tx}

    @app.teardown_request
    def record(error: BaseException | None) -> None:
        seen["teardown"] = type(error).__name__ if error else None

    async def send(message: dict[str, Any]) -> None:
        if where == "send" and message["type"] == "http.response.start":
            started.set()
            await anyio.sleep_forever()

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_call, app, _scope("/work"), send)
            await started.wait()
            tasks.cancel_scope.cancel()

    anyio.run(main)
    assert TX_OUTCOME == ["rolled back: CancelledError"]
    assert seen == {"teardown": "CancelledError"}


def test_a_cancelled_websocket_handler_is_a_failure_for_its_yield_dependencies() -> None:
    # Regression, as for HTTP above: a WebSocket handler cancelled mid-connection (the
    # server shutting down) closed its `yield` dependencies as after a clean end, or not
    # at all under a cancel scope.
    app = Kettle(__name__)
    TX_OUTCOME.clear()
    started = anyio.Event()

    @app.websocket("/live")
    async def live(ws: WebSocket, tx: Annotated[str, Depends(transaction)]) -> None:
        await ws.accept()
        started.set()
        await anyio.sleep_forever()

    scope = {**_scope("/live"), "type": "websocket", "scheme": "ws", "subprotocols": []}
    messages = iter([{"type": "websocket.connect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        pass

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(app, scope, receive, send)
            await started.wait()
            tasks.cancel_scope.cancel()

    anyio.run(main)
    assert TX_OUTCOME == ["rolled back: CancelledError"]


@pytest.mark.parametrize("source", ["async-generator", "sync-generator"])
def test_a_stream_stops_and_closes_its_source_when_the_client_leaves(source: str) -> None:
    # Regression: StreamingResponse never listened for http.disconnect, and uvicorn drops
    # sends after a disconnect silently: a source ran to its end (forever, for a feed),
    # and its `yield` dependency was closed as after a success.
    app = Kettle(__name__)
    TX_OUTCOME.clear()
    produced: list[int] = []
    closed: list[bool] = []
    first_sent = anyio.Event()

    async def agen() -> Any:
        try:
            for n in range(1000):
                produced.append(n)
                yield f"{n}\n"
                await anyio.sleep(0.01)
        finally:
            closed.append(True)

    def gen() -> Any:
        try:
            for n in range(1000):
                produced.append(n)
                yield f"{n}\n"
                time.sleep(0.01)
        finally:
            closed.append(True)

    @app.get("/feed")
    async def feed(tx: Annotated[str, Depends(transaction)]) -> StreamingResponse:
        return StreamingResponse(agen() if source == "async-generator" else gen())

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await first_sent.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            first_sent.set()

    async def main() -> None:
        with anyio.fail_after(5):
            await app(_scope("/feed"), receive, send)

    anyio.run(main)
    assert len(produced) < 50
    assert closed == [True] or source == "sync-generator"  # a sync one: closed when free
    assert TX_OUTCOME == ["rolled back: ClientDisconnect"]
