"""Security schemes behind real servers (``kettle run``, uvicorn, hypercorn on 127.0.0.1).

A WebSocket handshake refused by an app-level guard is an HTTP 401 with the scheme's
``WWW-Authenticate`` (the ASGI denial-response extension), and hostile ``Authorization``
headers sent as raw bytes get a clear 4xx from the server or the app, never a 500, and
never an echo of what was sent.
"""

from __future__ import annotations

import base64
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_servers import _free_port, _raw, _serve, _status

pytestmark = pytest.mark.slow

SERVED = textwrap.dedent(
    """
    from kettle import Depends, HTTPException, Kettle, WebSocket
    from kettle.security import HTTPBasic, HTTPBearer, compare_digest

    bearer = HTTPBearer()
    basic = HTTPBasic(realm="lab")

    async def require_token(credentials=Depends(bearer)):
        if not compare_digest(credentials.credentials, "good"):
            raise HTTPException(401, "Invalid token")
        return credentials.credentials

    app = Kettle(__name__)

    @app.get("/hello")
    async def hello():
        return "up"

    @app.get("/basic")
    async def with_basic(credentials=Depends(basic)):
        return credentials.username

    @app.get("/bearer", dependencies=[Depends(require_token)])
    async def with_bearer():
        return "in"

    @app.websocket("/ws", dependencies=[Depends(require_token)])
    async def ws(socket: WebSocket):
        await socket.accept()
        await socket.send_text("welcome")
        await socket.close()
    """
)

SERVERS = {
    "kettle run": ["-m", "kettle", "run", "guarded_ws:app", "--port"],
    "uvicorn websockets": ["-m", "uvicorn", "guarded_ws:app", "--ws", "websockets", "--port"],
    "hypercorn": ["-m", "hypercorn", "guarded_ws:app", "-b"],
}


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    folder: Path = tmp_path_factory.mktemp("guarded_ws")
    (folder / "guarded_ws.py").write_text(SERVED)
    port = _free_port()
    address = f"127.0.0.1:{port}" if request.param == "hypercorn" else str(port)
    yield from _serve([sys.executable, *SERVERS[request.param], address], folder, port)


@pytest.mark.parametrize(
    ("headers", "detail"),
    [({}, "Not authenticated"), ({"Authorization": "Bearer bad"}, "Invalid token")],
)
def test_a_refused_handshake_is_a_401(served: int, headers: dict[str, str], detail: str) -> None:
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


def test_the_websocket_opens_with_credentials(served: int) -> None:
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{served}/ws"
    with connect(url, additional_headers={"Authorization": "Bearer good"}, open_timeout=5) as ws:
        assert ws.recv(timeout=5) == "welcome"


SECRET = b"zq9SECRETzq9"

HOSTILE = {
    "empty": b"",
    "scheme only": b"Basic",
    "bad scheme": b"Token " + SECRET,
    "latin-1 bytes": b"Bearer \xff\xfe" + SECRET,
    "utf-8 bytes": "Basic ünï".encode() + SECRET,
    "malformed base64": b"Basic %%%" + SECRET,
    "no colon": b"Basic " + base64.b64encode(SECRET),
    "invalid utf-8": b"Basic " + base64.b64encode(b"\xff:" + SECRET),
    "over 8 KiB": b"Bearer " + SECRET + b"A" * 9000,
    "over 64 KiB": b"Bearer " + SECRET + b"A" * 70_000,
}


@pytest.mark.parametrize("path", ["/basic", "/bearer"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_authorization_over_the_wire(served: int, path: str, case: str) -> None:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
        + b"Authorization: "
        + HOSTILE[case]
        + b"\r\n\r\n"
    )
    response = _raw(served, request)
    status = _status(response)
    # The server may refuse a huge head itself (431/400) or drop the connection; what
    # reaches the app is refused by the scheme.
    assert status is None or 400 <= status < 500, response[:300]
    if status is not None and case.startswith("over"):
        assert status in (400, 431)
    elif status is not None:
        assert status == 401, response[:300]
        assert b"www-authenticate:" in response.lower()
    assert SECRET not in response
    assert b"Traceback" not in response
