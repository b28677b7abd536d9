"""WebSockets: handshake, messages, closing, errors, limits and connection data."""

from __future__ import annotations

import contextlib
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from kettle import (
    ConfigurationError,
    HTTPException,
    Kettle,
    Limits,
    Response,
    Router,
    WebSocket,
    WebSocketDisconnect,
)
from kettle.testing import TestClient, WebSocketTestSession
from kettle.websockets import WebSocketClose


def refused(client: TestClient, url: str, **kwargs: Any) -> tuple[int, str]:
    """Open ``url`` expecting the handshake to be refused; the close code and reason."""
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(url, **kwargs):
        pytest.fail(f"{url} was accepted")
    return info.value.code, info.value.reason


def closed_by_server(session: WebSocketTestSession) -> tuple[int, str]:
    """The next message must be the app closing the socket: its code and reason."""
    message = session.receive()
    assert message["type"] == "websocket.close", message
    return message["code"], message["reason"]


# -- handshake -------------------------------------------------------------------------------


def test_accept_then_exchange_text() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("welcome")
        await ws.send_text(f"you said {await ws.receive_text()}")

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "welcome"
        session.send_text("hi")
        assert session.receive_text() == "you said hi"
        # Returning from the handler closes the socket normally.
        assert closed_by_server(session) == (1000, "")


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([], None),
        (["chat"], "chat"),
        (["chat", "chat.v2"], "chat.v2"),
        (["other"], None),
    ],
)
def test_subprotocol_negotiation(offered: list[str], chosen: str | None) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def negotiate(ws: WebSocket) -> None:
        offers = ws.scope["subprotocols"]
        pick = next((p for p in ("chat.v2", "chat") if p in offers), None)
        await ws.accept(subprotocol=pick)
        await ws.send_json(offers)

    with TestClient(app).websocket_connect("/ws", subprotocols=offered) as session:
        assert session.accepted_subprotocol == chosen
        assert session.receive_json() == offered


@pytest.mark.parametrize(
    "headers",
    [{"X-Room": "lobby", "Set-Cookie": "seen=1"}, [("X-Room", "lobby"), ("Set-Cookie", "seen=1")]],
    ids=["mapping", "pairs"],
)
def test_accept_headers_are_sent_lowercased(headers: Any) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def with_headers(ws: WebSocket) -> None:
        await ws.accept(headers=headers)

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.extra_headers == [(b"x-room", b"lobby"), (b"set-cookie", b"seen=1")]


# -- messages ---------------------------------------------------------------------------------


def echo_app() -> Kettle:
    app = Kettle(__name__)

    @app.websocket("/echo/{kind}")
    async def echo(ws: WebSocket, kind: str) -> None:
        await ws.accept()
        if kind == "text":
            await ws.send_text(await ws.receive_text())
        elif kind == "bytes":
            await ws.send_bytes(await ws.receive_bytes())
        else:
            mode = kind.removeprefix("json-")
            await ws.send_json(await ws.receive_json(mode=mode), mode=mode)

    return app


@pytest.mark.parametrize(
    ("kind", "send", "payload", "sent_frame"),
    [
        ("text", "send_text", "héllo", {"text": "héllo"}),
        ("bytes", "send_bytes", b"\x00\xff", {"bytes": b"\x00\xff"}),
        # A text frame is read as bytes (UTF-8) and a binary frame as text.
        ("bytes", "send_text", "é", {"bytes": "é".encode()}),
        ("text", "send_bytes", "é".encode(), {"text": "é"}),
        ("json-text", "send_json", {"n": [1, "é"]}, {"text": '{"n":[1,"é"]}'}),
        ("json-binary", "send_json", {"n": [1, "é"]}, {"bytes": '{"n":[1,"é"]}'.encode()}),
    ],
)
def test_echo_each_message_kind(
    kind: str, send: str, payload: Any, sent_frame: dict[str, Any]
) -> None:
    with TestClient(echo_app()).websocket_connect(f"/echo/{kind}") as session:
        if send == "send_json":
            session.send_json(payload, mode=kind.removeprefix("json-"))
        else:
            getattr(session, send)(payload)
        assert session.receive() == {"type": "websocket.send", **sent_frame}


@pytest.mark.parametrize("mode", ["text", "binary"])
def test_json_round_trip_through_the_client(mode: str) -> None:
    with TestClient(echo_app()).websocket_connect(f"/echo/json-{mode}") as session:
        session.send_json([{"a": None}, True, 1.5], mode=mode)
        assert session.receive_json(mode=mode) == [{"a": None}, True, 1.5]


@pytest.mark.parametrize(
    ("method", "messages", "expected"),
    [
        ("iter_text", [("send_text", "a"), ("send_bytes", b"b")], ["a", "b"]),
        ("iter_bytes", [("send_bytes", b"\x01"), ("send_text", "c")], [b"\x01", b"c"]),
        ("iter_json", [("send_text", "1"), ("send_text", '{"k": [2]}')], [1, {"k": [2]}]),
    ],
)
def test_iteration_stops_at_client_disconnect(
    method: str, messages: list[tuple[str, Any]], expected: list[Any]
) -> None:
    app = Kettle(__name__)
    received: list[Any] = []

    @app.websocket("/ws")
    async def collect(ws: WebSocket) -> None:
        await ws.accept()
        async for item in getattr(ws, method)():
            received.append(item)
        received.append("loop ended")

    with TestClient(app).websocket_connect("/ws") as session:
        for send, data in messages:
            getattr(session, send)(data)
    # Leaving the block disconnected the client and waited for the handler to finish.
    assert received == [*expected, "loop ended"]


# -- closing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "code", "reason"),
    [
        ("close", 1000, ""),
        ("close", 4001, "room closed"),
        ("close", 1001, "going away"),
        ("raise WebSocketClose", 4003, "policy"),
        ("return", 1000, ""),
    ],
)
def test_server_closes_after_accept(how: str, code: int, reason: str) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def closing(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("last words")
        if how == "close":
            await ws.close(code, reason)
        elif how == "raise WebSocketClose":
            raise WebSocketClose(code, reason)

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "last words"
        assert closed_by_server(session) == (code, reason)


@pytest.mark.parametrize(("close_with", "seen_code"), [(None, 1000), (4002, 4002), (1001, 1001)])
def test_client_disconnect_raises_in_handler_and_cleanup_runs(
    close_with: int | None, seen_code: int, caplog: pytest.LogCaptureFixture
) -> None:
    app = Kettle(__name__)
    events: list[Any] = []

    @app.websocket("/ws")
    async def listen(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                events.append(await ws.receive_text())
        except WebSocketDisconnect as exc:
            events.append(("disconnect", exc.code))
            raise  # kettle treats a disconnect escaping the handler as a normal end
        finally:
            events.append("cleanup")

    with caplog.at_level(logging.ERROR), TestClient(app).websocket_connect("/ws") as session:
        session.send_text("one")
        if close_with is not None:
            session.close(close_with)
    assert events == ["one", ("disconnect", seen_code), "cleanup"]
    assert caplog.records == []


def test_receive_after_disconnect_raises() -> None:
    app = Kettle(__name__)
    errors: list[tuple[str, str]] = []

    @app.websocket("/ws")
    async def reread(ws: WebSocket) -> None:
        await ws.accept()
        for _ in range(2):
            try:
                await ws.receive_text()
            except (WebSocketDisconnect, RuntimeError) as exc:
                errors.append((type(exc).__name__, str(exc)))

    with TestClient(app).websocket_connect("/ws") as session:
        session.close(1001)
    # The first receive reports the disconnect; reading again is a programming error.
    assert [name for name, _ in errors] == ["WebSocketDisconnect", "RuntimeError"]
    assert errors[0][1] == "(1001, '')"
    assert "disconnected" in errors[1][1]


def test_receive_before_accept_is_an_error() -> None:
    app = Kettle(__name__)
    errors: list[str] = []

    @app.websocket("/ws")
    async def eager(ws: WebSocket) -> None:
        try:
            await ws.receive_text()
        except RuntimeError as exc:
            errors.append(str(exc))
        await ws.close(4000)

    assert refused(TestClient(app), "/ws") == (4000, "")
    assert errors == ['Call "accept" before receiving messages']


# -- refusing the handshake -------------------------------------------------------------------


def refusing_app() -> Kettle:
    app = Kettle(__name__)

    @app.websocket("/closed")
    async def closed(ws: WebSocket) -> None:
        await ws.close(4003, "not today")

    @app.websocket("/forbidden")
    async def forbidden(ws: WebSocket) -> None:
        raise HTTPException(403, "forbidden")

    @app.websocket("/unauthorized")
    async def unauthorized(ws: WebSocket) -> None:
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})

    @app.websocket("/silent")
    async def silent(ws: WebSocket) -> None:
        return None

    @app.websocket("/broken")
    async def broken(ws: WebSocket) -> None:
        raise ValueError("bug before accept")

    @app.get("/http-only")
    async def http_only() -> str:
        return "no upgrade here"

    return app


@pytest.mark.parametrize(
    ("path", "code", "reason"),
    [
        ("/closed", 4003, "not today"),
        ("/forbidden", 1008, "forbidden"),
        ("/unauthorized", 1008, "log in first"),
        ("/silent", 1000, ""),  # returned without accepting
        ("/broken", 1011, "Internal error"),
        ("/nowhere", 1008, ""),  # no route at all
        ("/http-only", 1008, ""),  # an HTTP route is not a WebSocket route
        ("/closed/", 1008, ""),  # no trailing-slash redirect for a handshake
    ],
)
def test_handshake_refused(path: str, code: int, reason: str) -> None:
    assert refused(TestClient(refusing_app()), path) == (code, reason)


def test_refused_handshake_releases_the_test_session() -> None:
    # A refused session must close its streams: anyio warns when they are collected open.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refused(TestClient(refusing_app()), "/closed")
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_http_request_to_a_websocket_route_is_404(method: str) -> None:
    # No HTTP method is routed there, so 405 (with an empty Allow) would be wrong.
    app = refusing_app()
    response = TestClient(app).request(method, "/closed")
    assert response.status_code == 404
    assert "allow" not in response.headers


@pytest.mark.parametrize(("status", "code"), [(400, 1008), (403, 1008), (500, 1011), (503, 1011)])
def test_http_exception_after_accept_closes(status: int, code: int) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def strict(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        raise HTTPException(status, "not allowed")

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("anything")
        assert closed_by_server(session) == (code, "not allowed")


def test_long_close_reason_is_truncated_to_fit_a_close_frame() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def verbose(ws: WebSocket) -> None:
        await ws.accept()
        raise HTTPException(400, "é" * 100)

    with TestClient(app).websocket_connect("/ws") as session:
        code, reason = closed_by_server(session)
    assert code == 1008
    assert 0 < len(reason.encode()) <= 123
    assert reason.startswith("éé")


@pytest.mark.parametrize("accepted", [True, False])
def test_unhandled_error_closes_1011_and_is_logged(
    accepted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def crashing(ws: WebSocket) -> None:
        if accepted:
            await ws.accept()
            await ws.receive_text()
        raise RuntimeError("secret internals")

    client = TestClient(app)
    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        if accepted:
            with client.websocket_connect("/ws") as session:
                session.send_text("go")
                result = closed_by_server(session)
        else:
            result = refused(client, "/ws")
    # The reason never carries the exception's text to the client.
    assert result == (1011, "Internal error")
    [record] = caplog.records
    assert record.name == "kettle.error"
    assert "crashing" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


# -- limits and malformed input ---------------------------------------------------------------


def limited_app() -> Kettle:
    app = Kettle(__name__, limits=Limits(max_websocket_message_size=1024))
    seen: list[Any] = []
    app.state.seen = seen

    @app.websocket("/text")
    async def text(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(str(len(await ws.receive_text())))
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    @app.websocket("/bytes")
    async def binary(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text(str(len(await ws.receive_bytes())))

    @app.websocket("/json/{mode}")
    async def json(ws: WebSocket, mode: str) -> None:
        await ws.accept()
        while True:
            await ws.send_json(await ws.receive_json(mode=mode))

    @app.websocket("/tiny", limits={"max_websocket_message_size": 4})
    async def tiny(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text(await ws.receive_text())

    return app


@pytest.mark.parametrize(
    ("path", "send", "payload", "code", "reason"),
    [
        ("/text", "send_text", "x" * 1025, 1009, "Message too big"),
        ("/bytes", "send_bytes", b"x" * 1025, 1009, "Message too big"),
        ("/json/text", "send_text", "[" + "1," * 600 + "1]", 1009, "Message too big"),
        ("/tiny", "send_text", "12345", 1009, "Message too big"),
        ("/json/text", "send_text", "{nope", 1007, "Invalid JSON"),
        ("/json/text", "send_text", "", 1007, "Invalid JSON"),
        ("/json/binary", "send_bytes", b"\xff", 1007, "Invalid JSON"),
        ("/json/binary", "send_bytes", b"[1] trailing", 1007, "Invalid JSON"),
        ("/text", "send_bytes", b"\xff\xfe", 1007, "Invalid UTF-8"),
        ("/text", "send_bytes", b"\xed\xa0\x80", 1007, "Invalid UTF-8"),  # a lone surrogate
    ],
)
def test_bad_message_closes_the_socket(
    path: str, send: str, payload: Any, code: int, reason: str
) -> None:
    app = limited_app()
    with TestClient(app).websocket_connect(path) as session:
        getattr(session, send)(payload)
        assert closed_by_server(session) == (code, reason)
    if path == "/text":
        # The handler saw the close as a disconnect, with the same code.
        assert app.state.seen == [code]


@pytest.mark.parametrize(
    ("path", "send", "payload"),
    [
        ("/text", "send_text", "x" * 1024),
        ("/bytes", "send_bytes", b"x" * 1024),
        ("/tiny", "send_text", "1234"),
    ],
)
def test_message_at_the_size_limit_is_accepted(path: str, send: str, payload: Any) -> None:
    with TestClient(limited_app()).websocket_connect(path) as session:
        getattr(session, send)(payload)
        assert session.receive_text() == (payload if path == "/tiny" else "1024")


def test_size_limit_counts_utf8_bytes_of_text() -> None:
    with TestClient(limited_app()).websocket_connect("/text") as session:
        session.send_text("é" * 513)  # 513 characters, 1026 bytes
        assert closed_by_server(session) == (1009, "Message too big")


# -- server contract: nothing is sent after the client left -----------------------------------


async def run_raw_websocket(app: Kettle, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drive ``app`` like a strict server: sending after a disconnect is an error."""
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "state": {},
    }
    pending = list(incoming)
    sent: list[dict[str, Any]] = []
    gone = False

    async def receive() -> dict[str, Any]:
        nonlocal gone
        message = pending.pop(0)
        gone = message["type"] == "websocket.disconnect"
        return message

    async def send(message: dict[str, Any]) -> None:
        if gone:
            # uvicorn: "Unexpected ASGI message 'websocket.close', after sending ..."
            raise RuntimeError(f"{message['type']} sent after the client disconnected")
        sent.append(message)

    with anyio.fail_after(5):
        await app(scope, receive, send)
    return sent


def test_nothing_is_sent_after_the_client_disconnected() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.disconnect", "code": 1001},
    ]
    sent = anyio.run(run_raw_websocket, app, incoming)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]


def test_raw_server_sees_a_normal_exchange() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def once(ws: WebSocket) -> None:
        await ws.accept(subprotocol="chat")
        await ws.send_bytes(await ws.receive_bytes())

    incoming = [{"type": "websocket.connect"}, {"type": "websocket.receive", "bytes": b"\x01"}]
    sent = anyio.run(run_raw_websocket, app, incoming)
    assert sent == [
        {"type": "websocket.accept", "subprotocol": "chat", "headers": []},
        {"type": "websocket.send", "bytes": b"\x01"},
        {"type": "websocket.close", "code": 1000, "reason": ""},
    ]


# -- declaring handlers -----------------------------------------------------------------------


def test_sync_websocket_handler_is_a_configuration_error() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    def blocking(ws: WebSocket) -> None:  # pragma: no cover - never called
        pass

    with pytest.raises(ConfigurationError, match="blocking"):
        app.compile()


# -- connection data --------------------------------------------------------------------------


def test_path_query_headers_cookies_and_url() -> None:
    app = Kettle(__name__)

    @app.websocket("/rooms/{room}/seats/{seat:int}")
    async def seat(ws: WebSocket, room: str, seat: int) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "args": [room, seat],
                "path_params": ws.path_params,
                "tags": ws.query_params.getlist("tag"),
                "mode": ws.query_params.get("mode"),
                "token": ws.headers.get("x-token"),
                "cookies": ws.cookies,
                "url": str(ws.url),
                "secure": ws.is_secure,
                "client": list(ws.client or ()),
            }
        )

    client = TestClient(app, cookies={"sid": "abc"}, client=("10.0.0.7", 4242))
    url = "/rooms/lobby/seats/3?tag=a&tag=b&mode=quiet"
    with client.websocket_connect(url, headers={"X-Token": "t0k"}) as session:
        assert session.receive_json() == {
            "args": ["lobby", 3],
            "path_params": {"room": "lobby", "seat": 3},
            "tags": ["a", "b"],
            "mode": "quiet",
            "token": "t0k",
            "cookies": {"sid": "abc"},
            "url": "ws://testserver/rooms/lobby/seats/3?tag=a&tag=b&mode=quiet",
            "secure": False,
            "client": ["10.0.0.7", 4242],
        }


def test_path_converter_mismatch_is_refused() -> None:
    app = Kettle(__name__)

    @app.websocket("/seats/{seat:int}")
    async def seat(ws: WebSocket, seat: int) -> None:  # pragma: no cover - never matched
        await ws.accept()

    assert refused(TestClient(app), "/seats/front") == (1008, "")


@pytest.mark.parametrize(("base_url", "scheme"), [("http://x", "ws"), ("https://x", "wss")])
def test_scheme_follows_the_client_base_url(base_url: str, scheme: str) -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def where(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json([ws.scope["scheme"], ws.is_secure, str(ws.url)])

    with TestClient(app, base_url=base_url).websocket_connect("/ws") as session:
        assert session.receive_json() == [scheme, scheme == "wss", f"{scheme}://x/ws"]


def test_cookie_set_over_http_reaches_the_websocket() -> None:
    app = Kettle(__name__)

    @app.get("/login")
    async def login() -> Response:
        response = Response("ok")
        response.set_cookie("session", "s3cret")
        return response

    @app.websocket("/ws")
    async def whoami(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.cookies.get("session", "anonymous"))

    client = TestClient(app)
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "anonymous"
    client.get("/login")
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "s3cret"


def lifespan_app() -> Kettle:
    @contextlib.asynccontextmanager
    async def lifespan(app: Kettle) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello"}

    app = Kettle(__name__, lifespan=lifespan)

    @app.websocket("/ws")
    async def greet(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"greeting": getattr(ws.state, "greeting", None)})
        # Per-connection state: what one connection sets, the next does not see.
        await ws.send_json({"visits": getattr(ws.state, "visits", 0)})
        ws.state.visits = 1

    return app


def test_lifespan_state_is_visible_in_ws_state() -> None:
    with TestClient(lifespan_app()) as client:
        for _ in range(2):
            with client.websocket_connect("/ws") as session:
                assert session.receive_json() == {"greeting": "hello"}
                assert session.receive_json() == {"visits": 0}


def test_without_lifespan_ws_state_is_empty() -> None:
    with TestClient(lifespan_app()).websocket_connect("/ws") as session:
        assert session.receive_json() == {"greeting": None}


@pytest.fixture
def routed_client() -> Iterator[TestClient]:
    chat = Router(prefix="/chat", name="chat")

    @chat.websocket("/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_json({"room": room, "path": ws.path})

    app = Kettle(__name__)
    app.include_router(chat, prefix="/api")
    assert app.url_path_for("chat.room", room="lobby") == "/api/chat/lobby"
    with TestClient(app) as client:
        yield client


def test_websocket_route_in_a_prefixed_router(routed_client: TestClient) -> None:
    with routed_client.websocket_connect("/api/chat/lobby") as session:
        assert session.receive_json() == {"room": "lobby", "path": "/api/chat/lobby"}


@pytest.mark.parametrize("path", ["/chat/lobby", "/lobby", "/api/lobby"])
def test_prefixed_websocket_route_only_under_its_prefix(
    routed_client: TestClient, path: str
) -> None:
    assert refused(routed_client, path) == (1008, "")


def test_root_path_is_stripped_before_matching() -> None:
    app = Kettle(__name__)

    @app.websocket("/ws")
    async def mounted(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json([ws.root_path, ws.path, str(ws.url)])

    with TestClient(app, root_path="/app").websocket_connect("/ws") as session:
        assert session.receive_json() == ["/app", "/app/ws", "ws://testserver/app/ws"]
