"""The middleware kettle ships."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, Request, WebSocket, WebSocketDisconnect
from kettle.middleware import TrustedHostMiddleware
from kettle.testing import TestClient


def make_client(allowed: list[str]) -> TestClient:
    app = Kettle(__name__)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)

    @app.get("/")
    async def index() -> str:
        return "ok"

    @app.websocket("/ws")
    async def ws(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close()

    return TestClient(app)


@pytest.mark.parametrize(
    ("allowed", "hosts", "status"),
    [
        (["example.com"], [b"example.com"], 200),
        (["example.com"], [b"EXAMPLE.com:8443"], 200),
        (["example.com"], [b"example.com."], 200),
        (["example.com"], [b"evil.com"], 400),
        (["example.com"], [b"example.com.evil"], 400),
        (["example.com"], [b"example.com", b"evil.com"], 400),  # duplicate Host
        (["example.com"], [b"example.com", b"example.com"], 400),
        (["example.com"], [], 400),  # missing Host
        (["*.example.com"], [b"api.example.com"], 200),
        (["*.example.com"], [b"example.com"], 400),
        (["*.example.com"], [b"evilexample.com"], 400),
        (["*"], [b"anything.test"], 200),
        (["*"], [b"bad host/x"], 400),
        (["*"], [b"a", b"b"], 400),
        (["[::1]"], [b"[::1]:8000"], 200),
    ],
)
def test_trusted_host(allowed: list[str], hosts: list[bytes], status: int) -> None:
    client = make_client(allowed)
    request = client.build_request("GET", "/")
    request.headers = request.headers.copy()
    del request.headers["host"]
    raw = [(b"host", h) for h in hosts]
    response = client.send(_with_raw_headers(request, raw))
    assert response.status_code == status
    if status == 400:
        assert response.text == "Invalid host header"


def _with_raw_headers(request, raw):  # type: ignore[no-untyped-def]
    import httpx

    headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"] + raw
    return httpx.Request(request.method, request.url, headers=headers)


def test_websocket_with_bad_host_is_refused() -> None:
    client = make_client(["example.com"])
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws"):
        pass  # pragma: no cover
    with client.websocket_connect("http://example.com/ws"):
        pass


@pytest.mark.parametrize("bad", [["exa*mple.com"], ["*example.com"], "example.com"])
def test_bad_patterns_rejected(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        TrustedHostMiddleware(lambda s, r, se: None, allowed_hosts=bad)  # type: ignore[arg-type]


def test_the_http_middleware_decorator_wraps_every_request() -> None:
    app = Kettle(__name__)

    @app.middleware("http")
    async def add_header(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-path"] = request.url.path
        return response

    @app.get("/hello")
    async def hello() -> str:
        return "hi"

    client = TestClient(app)
    assert client.get("/hello").headers["x-path"] == "/hello"
    assert client.get("/missing").headers["x-path"] == "/missing"
    with pytest.raises(ValueError, match="only 'http'"):
        app.middleware("websocket")
