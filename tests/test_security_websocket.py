"""Guards on WebSocket routes: app-, router- and route-level dependencies and security
schemes run before the handler, and an unauthenticated handshake is refused before
``accept`` (fastapi#4534, #2587), through the test client. ``test_security_served.py``
checks the same through real servers, where the refusal is an HTTP 401."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Depends, HTTPException, Kettle, Router, WebSocket, WebSocketDisconnect
from kettle.security import APIKeyHeader, HTTPBearer, compare_digest
from kettle.testing import TestClient

bearer = HTTPBearer()
api_key = APIKeyHeader(name="X-API-Key")


async def require_token(credentials: Any = Depends(bearer)) -> str:
    if not compare_digest(credentials.credentials, "good"):
        raise HTTPException(
            401, "Invalid token", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return str(credentials.credentials)


def _app(level: str, calls: list[str]) -> Kettle:
    guard = [Depends(require_token)]
    app = Kettle(__name__, dependencies=guard if level == "app" else None)
    router = Router(prefix="/r", dependencies=guard if level == "router" else None)
    options: dict[str, Any] = {"dependencies": guard} if level == "route" else {}

    @router.websocket("/ws", **options)
    async def ws(socket: WebSocket) -> None:
        calls.append("handler")
        await socket.accept()
        await socket.send_text("welcome")
        await socket.close()

    app.include_router(router)
    return app


LEVELS = ["app", "router", "route"]
GOOD = {"Authorization": "Bearer good"}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer bad"},
        {"Authorization": "Basic Z29vZA=="},
        {"Authorization": ""},
    ],
    ids=["none", "wrong token", "wrong scheme", "empty"],
)
def test_guards_refuse_the_handshake_before_accept(level: str, headers: dict[str, str]) -> None:
    calls: list[str] = []
    client = TestClient(_app(level, calls))
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/r/ws", headers=headers),
    ):
        pass  # pragma: no cover - the handshake never completes
    assert refused.value.code == 1008
    assert calls == []


@pytest.mark.parametrize("level", LEVELS)
def test_guards_let_credentials_through(level: str) -> None:
    calls: list[str] = []
    with TestClient(_app(level, calls)).websocket_connect("/r/ws", headers=GOOD) as session:
        assert session.receive_text() == "welcome"
    assert calls == ["handler"]


def test_a_token_in_the_query_string_does_not_open_a_websocket() -> None:
    calls: list[str] = []
    client = TestClient(_app("app", calls))
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/r/ws?access_token=good"):
        pass  # pragma: no cover
    assert calls == []


def test_a_scheme_as_a_websocket_handler_parameter() -> None:
    app = Kettle(__name__)

    @app.websocket("/feed")
    async def feed(socket: WebSocket, key: str = Depends(api_key)) -> None:
        await socket.accept()
        await socket.send_text(f"key {key}")

    client = TestClient(app)
    with client.websocket_connect("/feed", headers={"X-API-Key": "k1"}) as session:
        assert session.receive_text() == "key k1"
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/feed"):
        pass  # pragma: no cover
    assert refused.value.reason == "Not authenticated"


def test_an_error_after_accept_closes_with_a_policy_violation() -> None:
    app = Kettle(__name__)

    @app.websocket("/late")
    async def late(socket: WebSocket) -> None:
        await socket.accept()
        raise HTTPException(403, "Not enough permissions")

    with (
        TestClient(app).websocket_connect("/late") as session,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        session.receive_text()
    assert (closed.value.code, closed.value.reason) == (1008, "Not enough permissions")
