"""Guards on WebSocket routes: app-, router- and route-level dependencies and security
schemes run before the handler, and an unauthenticated handshake is refused before
``accept`` (fastapi#4534, #2587). Through the test client, and through a real server,
where the refusal is an HTTP 401 carrying the scheme's ``WWW-Authenticate``."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
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


# -- a real server ----------------------------------------------------------------------------

SERVED = textwrap.dedent(
    """
    from kettle import Depends, HTTPException, Kettle, WebSocket
    from kettle.security import HTTPBearer, compare_digest

    bearer = HTTPBearer()

    async def require_token(credentials=Depends(bearer)):
        if not compare_digest(credentials.credentials, "good"):
            raise HTTPException(401, "Invalid token")
        return credentials.credentials

    app = Kettle(__name__, dependencies=[Depends(require_token)])

    @app.get("/hello")
    async def hello():
        return "up"

    @app.websocket("/ws")
    async def ws(socket: WebSocket):
        await socket.accept()
        await socket.send_text("welcome")
        await socket.close()
    """
)

SERVERS = {
    "kettle run": ["-m", "kettle", "run", "guarded_ws:app", "--port"],
    "uvicorn websockets": ["-m", "uvicorn", "guarded_ws:app", "--ws", "websockets", "--port"],
}


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    from test_servers import _free_port, _serve

    folder: Path = tmp_path_factory.mktemp("guarded_ws")
    (folder / "guarded_ws.py").write_text(SERVED)
    port = _free_port()
    # /hello is guarded too: the readiness probe only needs an answer, whatever it is.
    yield from _serve([sys.executable, *SERVERS[request.param], str(port)], folder, port)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Not authenticated"), ({"Authorization": "Bearer bad"}, "Invalid token")],
)
def test_a_real_server_refuses_the_handshake_with_a_401(
    served: int, headers: dict[str, str], detail: str
) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{served}/ws", additional_headers=headers, open_timeout=5)
    response = refused.value.response
    assert response.status_code == 401
    if not headers:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert detail.encode() in response.body
    assert b"Traceback" not in response.body


@pytest.mark.slow
def test_a_real_server_opens_the_websocket_with_credentials(served: int) -> None:
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{served}/ws"
    with connect(url, additional_headers=GOOD, open_timeout=5) as socket:
        assert socket.recv(timeout=5) == "welcome"
