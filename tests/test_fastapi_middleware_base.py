"""``BaseHTTPMiddleware``: ``dispatch(request, call_next)`` around every HTTP request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kettle.fastapi import BackgroundTasks, FastAPI, Request, WebSocket
from kettle.fastapi.middleware.base import BaseHTTPMiddleware
from kettle.fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from kettle.fastapi.testclient import TestClient
from kettle.middleware.http import CallNext
from kettle.responses import Response

events: list[str] = []


def make_app(dispatch: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(BaseHTTPMiddleware, dispatch=dispatch)

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return {"got": (await request.body()).decode()}

    @app.get("/stream")
    async def stream() -> Any:
        async def parts() -> AsyncIterator[str]:
            for part in ("a", "b", "c"):
                await asyncio.sleep(0)
                yield part

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/later")
    async def later(tasks: BackgroundTasks) -> Any:
        tasks.add_task(events.append, "background")
        return {"ok": True}

    @app.get("/boom")
    async def boom() -> Any:
        raise RuntimeError("boom")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    return app


async def add_header(request: Request, call_next: CallNext) -> Response:
    response = await call_next(request)
    response.headers["X-Seen"] = request.url.path
    return response


async def read_body_first(request: Request, call_next: CallNext) -> Response:
    body = await request.body()
    response = await call_next(request)
    response.headers["X-Length"] = str(len(body))
    return response


@pytest.mark.parametrize("dispatch", [add_header, read_body_first])
@pytest.mark.parametrize(
    ("method", "url", "body", "text"),
    [
        ("POST", "/echo", b"hello", '{"got":"hello"}'),
        ("GET", "/stream", b"", "abc"),
    ],
)
def test_the_response_passes_through(
    dispatch: Any, method: str, url: str, body: bytes, text: str
) -> None:
    response = TestClient(make_app(dispatch)).request(method, url, content=body)
    assert (response.status_code, response.text) == (200, text)
    if dispatch is add_header:
        assert response.headers["x-seen"] == url
    else:
        assert response.headers["x-length"] == str(len(body))


def test_a_subclass_overrides_dispatch() -> None:
    class Refuse(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: CallNext) -> Response:
            if request.headers.get("x-token") != "yes":
                return JSONResponse({"detail": "no token"}, status_code=401)
            return await call_next(request)

    app = make_app(add_header)
    app.add_middleware(Refuse)
    client = TestClient(app)
    assert client.post("/echo", content=b"x").status_code == 401
    assert client.post("/echo", content=b"x", headers={"x-token": "yes"}).json() == {"got": "x"}


def test_background_tasks_still_run_after_the_response() -> None:
    events.clear()
    assert TestClient(make_app(add_header)).get("/later").json() == {"ok": True}
    assert events == ["background"]


def test_a_response_replacing_the_apps_drops_the_app() -> None:
    async def replace(request: Request, call_next: CallNext) -> Response:
        await call_next(request)
        return PlainTextResponse("replaced", status_code=203)

    response = TestClient(make_app(replace)).get("/stream")
    assert (response.status_code, response.text) == (203, "replaced")


def test_errors_are_still_the_apps_500() -> None:
    client = TestClient(make_app(add_header), raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500


def test_websockets_pass_by_the_dispatch_function() -> None:
    calls: list[str] = []

    async def count(request: Request, call_next: CallNext) -> Response:
        calls.append(request.url.path)
        return await call_next(request)

    with TestClient(make_app(count)).websocket_connect("/ws") as socket:
        assert socket.receive_text() == "hi"
    assert calls == []


def test_a_dispatch_function_that_returns_nothing_is_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def forgot(request: Request, call_next: CallNext) -> Any:
        await call_next(request)

    client = TestClient(make_app(forgot), raise_server_exceptions=False)
    assert client.get("/later").status_code == 500
    assert "returned no response" in caplog.text
