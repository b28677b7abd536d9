"""The modules FastAPI code imports, used as a FastAPI user would: static files, templates,
WebSocket close codes, the default exception handlers, the thread-pool helpers."""

from __future__ import annotations

import asyncio
import pathlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kettle.fastapi import FastAPI, Request, WebSocket, status
from kettle.fastapi.concurrency import (
    contextmanager_in_threadpool,
    iterate_in_threadpool,
    run_in_threadpool,
)
from kettle.fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
    websocket_request_validation_exception_handler,
)
from kettle.fastapi.exceptions import (
    FastAPIError,
    HTTPException,
    RequestValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from kettle.fastapi.staticfiles import StaticFiles
from kettle.fastapi.templating import Jinja2Templates
from kettle.fastapi.testclient import TestClient
from kettle.fastapi.websockets import WebSocketDisconnect, WebSocketState
from kettle.types import ASGIApp, Receive, Scope, Send

# -- static files ---------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    (root / "app.js").write_text("let a = 1;")
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "404.html").write_text("no such page")
    (tmp_path / "site-secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    return root


def mounted(prefix: str, app: ASGIApp, style: str) -> ASGIApp:
    """An ASGI mount of either convention: ``root_path`` grown and ``path`` whole (as ASGI
    servers pass them), or ``path`` cut to the remainder (older Starlette)."""

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        inner = dict(scope, root_path=scope.get("root_path", "") + prefix)
        if style == "remainder":
            inner["path"] = scope["path"][len(prefix) :] or "/"
        await app(inner, receive, send)

    return outer


@pytest.mark.parametrize("style", ["whole", "remainder"])
@pytest.mark.parametrize(
    ("url", "status_code", "text"),
    [
        ("/static/app.js", 200, "let a = 1;"),
        ("/static/docs/", 200, "<h1>docs</h1>"),
        ("/static/missing.css", 404, "no such page"),
        ("/static/../site-secret.txt", 404, "no such page"),
        ("/static/%2e%2e/site-secret.txt", 404, "no such page"),
        ("/static/..%5Csite-secret.txt", 404, "no such page"),
        ("/static/link.txt", 404, "no such page"),
    ],
)
def test_static_files_under_a_mount(
    site: pathlib.Path, style: str, url: str, status_code: int, text: str
) -> None:
    client = TestClient(mounted("/static", StaticFiles(directory=site, html=True), style))
    response = client.get(url)
    assert (response.status_code, response.text) == (status_code, text)


def test_a_folder_without_its_slash_redirects_to_it(site: pathlib.Path) -> None:
    client = TestClient(mounted("/static", StaticFiles(directory=site, html=True), "whole"))
    response = client.get("/static/docs", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "docs/")


@pytest.mark.parametrize(
    ("method", "url", "status_code"),
    [("GET", "/docs/", 404), ("GET", "/missing", 404), ("POST", "/app.js", 405)],
)
def test_without_html_folders_are_not_served(
    site: pathlib.Path, method: str, url: str, status_code: int
) -> None:
    response = TestClient(StaticFiles(directory=site)).request(method, url)
    assert response.status_code == status_code
    assert response.json()["detail"]


def test_static_files_send_validators_and_answer_conditional_requests(site: pathlib.Path) -> None:
    client = TestClient(StaticFiles(directory=site))
    first = client.get("/app.js")
    assert first.headers["content-type"].startswith("text/javascript")
    again = client.get("/app.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/app.js", headers={"range": "bytes=0-2"}).text == "let"


def test_a_missing_directory_is_a_startup_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FastAPIError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
    StaticFiles(directory=tmp_path / "nope", check_dir=False)


# -- templates ------------------------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: pathlib.Path) -> Jinja2Templates:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "item.html").write_text(
        "<a href=\"{{ url_for('read_item', id=id) }}\">{{ id }}</a> {{ site }}"
    )
    (folder / "note.txt").write_text("{{ id }}")
    return Jinja2Templates(directory=folder, context_processors=[lambda r: {"site": r.method}])


@pytest.mark.parametrize(
    "call",
    [
        lambda t, r, id: t.TemplateResponse(r, "item.html", {"id": id}),
        lambda t, r, id: t.TemplateResponse(request=r, name="item.html", context={"id": id}),
        lambda t, r, id: t.TemplateResponse("item.html", {"request": r, "id": id}),
    ],
    ids=["positional", "keywords", "older order"],
)
def test_template_response_in_either_argument_order(templates: Jinja2Templates, call: Any) -> None:
    app = FastAPI()

    @app.get("/items/{id}")
    async def read_item(request: Request, id: str) -> Any:
        return call(templates, request, id)

    response = TestClient(app).get("/items/<x>")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == '<a href="http://testserver/items/%3Cx%3E">&lt;x&gt;</a> GET'


def test_template_response_keeps_its_template_and_context(templates: Jinja2Templates) -> None:
    app = FastAPI()
    seen: dict[str, Any] = {}

    @app.get("/note")
    async def note(request: Request) -> Any:
        response = templates.TemplateResponse(request, "note.txt", {"id": "<b>"}, status_code=201)
        seen.update(name=response.template.name, id=response.context["id"])
        return response

    response = TestClient(app).get("/note")
    assert (response.status_code, response.text) == (201, "<b>")  # .txt: not escaped
    assert seen == {"name": "note.txt", "id": "<b>"}


def test_template_response_needs_a_request(templates: Jinja2Templates) -> None:
    with pytest.raises(FastAPIError, match="request"):
        templates.TemplateResponse("note.txt", {"id": 1})


# -- WebSockets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "code"),
    [("", status.WS_1008_POLICY_VIOLATION), ("late", status.WS_1013_TRY_AGAIN_LATER)],
)
def test_websocket_exception_closes_with_its_code(token: str, code: int) -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, token: str = "") -> None:
        if not token:
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)
        await websocket.accept()
        assert websocket.application_state is WebSocketState.CONNECTED
        raise WebSocketException(status.WS_1013_TRY_AGAIN_LATER, reason="busy")

    client = TestClient(app)
    with (
        pytest.raises(WebSocketDisconnect) as caught,
        client.websocket_connect(f"/ws?token={token}") as socket,
    ):
        socket.receive_text()
    assert caught.value.code == code


def test_the_websocket_validation_handler_closes_with_1008() -> None:
    closed: list[tuple[int, str]] = []

    class Socket:
        async def close(self, code: int, reason: str | None = None) -> None:
            closed.append((code, reason or ""))

    exc = WebSocketRequestValidationError([{"type": "missing", "loc": ["query", "q"]}])
    assert isinstance(exc, RequestValidationError)
    asyncio.run(websocket_request_validation_exception_handler(Socket(), exc))  # type: ignore[arg-type]
    assert closed == [(1008, '[{"type": "missing", "loc": ["query", "q"]}]')]


# -- the default handlers, called from the app's own ----------------------------------------


def test_handlers_of_your_own_can_hand_back_to_the_defaults() -> None:
    app = FastAPI()
    logged: list[str] = []

    @app.exception_handler(HTTPException)
    async def log_http(request: Request, exc: HTTPException) -> Any:
        logged.append(f"http {exc.status_code}")
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def log_invalid(request: Request, exc: RequestValidationError) -> Any:
        logged.append("invalid")
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> Any:
        raise HTTPException(418, "teapot", headers={"X-Why": "tea"})

    client = TestClient(app)
    teapot = client.get("/items/1")
    assert (teapot.status_code, teapot.json(), teapot.headers["x-why"]) == (
        418,
        {"detail": "teapot"},
        "tea",
    )
    invalid = client.get("/items/one")
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert logged == ["http 418", "invalid"]


# -- thread pool ----------------------------------------------------------------------------


def test_the_threadpool_helpers_run_off_the_event_loop() -> None:
    app = FastAPI()
    exited: list[object] = []

    @contextmanager
    def resource() -> Iterator[bool]:
        try:
            yield threading.current_thread() is threading.main_thread()
        except KeyError:
            exited.append("suppressed")
        else:
            exited.append("clean")

    def lines() -> Iterator[str]:
        yield from ("a", "b")

    @app.get("/")
    async def index() -> Any:
        on_main = await run_in_threadpool(
            lambda: threading.current_thread() is threading.main_thread()
        )
        collected = [line async for line in iterate_in_threadpool(lines())]
        async with contextmanager_in_threadpool(resource()) as cm_on_main:
            pass
        async with contextmanager_in_threadpool(resource()):
            raise KeyError("gone")
        return {"on_main": on_main, "lines": collected, "cm_on_main": cm_on_main}

    assert TestClient(app).get("/").json() == {
        "on_main": False,
        "lines": ["a", "b"],
        "cm_on_main": False,
    }
    assert exited == ["clean", "suppressed"]


def test_the_threadpool_helpers_work_outside_a_request() -> None:
    assert asyncio.run(run_in_threadpool(max, 1, 2)) == 2


def test_a_validation_error_raised_by_the_app_carries_its_body() -> None:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def with_body(request: Request, exc: RequestValidationError) -> Any:
        from kettle.fastapi.responses import JSONResponse

        return JSONResponse({"detail": exc.errors(), "body": exc.body}, status_code=422)

    @app.post("/check")
    async def check(request: Request) -> Any:
        data = await request.json()
        if "name" not in data:
            loc = ["body", "name"]
            raise RequestValidationError([{"type": "missing", "loc": loc}], body=data)
        return data

    response = TestClient(app).post("/check", json={"size": 1})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body", "name"]}],
        "body": {"size": 1},
    }


def test_a_subclass_can_add_headers_to_what_static_files_answer(site: pathlib.Path) -> None:
    class Cached(StaticFiles):
        async def get_response(self, path: str, scope: Scope) -> Any:
            response = await super().get_response(path, scope)
            response.headers["cache-control"] = "public, max-age=60"
            return response

    response = TestClient(Cached(directory=site)).get("/app.js")
    assert response.headers["cache-control"] == "public, max-age=60"
