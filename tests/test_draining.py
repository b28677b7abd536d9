"""kettle.draining: what SIGTERM's drain does to open streams, through the test client
(the whole sequence on a real ``kettle run`` is tests/test_graceful_shutdown.py):
event streams end their body, WebSockets close with 1001, channel subscribers end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from kettle import Kettle, WebSocket, WebSocketDisconnect
from kettle.channels import Channels
from kettle.draining import DRAIN
from kettle.sse import EventSourceResponse
from kettle.testing import TestClient


@pytest.fixture(autouse=True)
def _fresh_drain() -> Iterator[None]:
    DRAIN.reset()
    yield
    DRAIN.reset()


def _app() -> Kettle:
    return Kettle(__name__)


def test_draining_ends_an_event_stream_properly() -> None:
    app = _app()
    finished: list[str] = []

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def forever() -> Any:
            try:
                yield "hello"
                DRAIN.close_streams()  # SIGTERM's drain delay ends while the stream is open
                yield "world"
                await asyncio.Event().wait()
            finally:
                finished.append("source closed")

        return EventSourceResponse(forever())

    with TestClient(app) as client:
        response = client.get("/events")
    assert response.status_code == 200
    assert response.text.startswith('data: "hello"\n\n')  # "world" may have made it too
    assert finished == ["source closed"]
    assert DRAIN.open_streams == 0


def test_a_stream_opened_while_closing_ends_at_once() -> None:
    app = _app()

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def forever() -> Any:
            await asyncio.Event().wait()
            yield "never"

        return EventSourceResponse(forever())

    DRAIN.close_streams()
    with TestClient(app) as client:
        response = client.get("/events")
    assert (response.status_code, response.text) == (200, "")


def test_draining_closes_websockets_with_1001() -> None:
    app = _app()
    codes: list[int] = []

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hello")
        try:
            while True:
                await socket.receive_text()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)
        with pytest.raises(WebSocketDisconnect):
            await socket.send_text("after the close")

    with TestClient(app) as client:
        with client.websocket_connect("/ws") as socket:
            assert socket.receive_text() == "hello"
            assert DRAIN.open_streams == 1
            DRAIN.close_streams()
            message = socket.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == 1001
    assert len(codes) == 1  # the handler's receive ended (with the client's own close code)
    assert DRAIN.open_streams == 0


def test_a_channel_forwarded_to_a_websocket_ends_with_1001() -> None:
    app = _app()
    channels = Channels(app=app)
    ended: list[str] = []

    @app.websocket("/news")
    async def news(socket: WebSocket) -> None:
        await socket.accept()
        await channels.publish("news", {"n": 1})
        await channels.forward(socket, "news", history=10)
        ended.append("forward returned")

    with TestClient(app) as client:
        with client.websocket_connect("/news") as socket:
            assert socket.receive_json() == {"n": 1}
            DRAIN.close_streams()
            message = socket.receive()
        assert (message["type"], message["code"]) == ("websocket.close", 1001)
    assert ended == ["forward returned"]


def test_a_channel_as_an_event_stream_ends_and_unsubscribes() -> None:
    app = _app()
    channels = Channels(app=app)

    @app.get("/news")
    async def news() -> EventSourceResponse:
        async def events() -> Any:
            async for event in channels.events("news", history=10):
                yield event
                DRAIN.close_streams()

        return EventSourceResponse(events())

    @app.post("/publish")
    async def publish() -> str:
        return await channels.publish("news", {"n": 1})

    @app.get("/subscribers")
    async def subscribers() -> int:
        await asyncio.sleep(0)
        return sum(len(s) for s in channels.backend._subscribers.values())

    with TestClient(app) as client:
        assert client.post("/publish").status_code == 200
        response = client.get("/news")
        assert response.text == 'data: {"n":1}\nid: 1\n\n'
        assert client.get("/subscribers").json() == 0


@pytest.mark.parametrize("ending", ["returns", "client leaves", "raises", "closes"])
def test_no_websocket_stays_registered(ending: str) -> None:
    app = _app()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hello")
        if ending == "client leaves":
            await socket.receive_text()
        elif ending == "raises":
            raise RuntimeError("boom")
        elif ending == "closes":
            await socket.close(4000)

    with TestClient(app) as client:
        for _ in range(3):
            with contextlib.suppress(RuntimeError), client.websocket_connect("/ws") as socket:
                assert socket.receive_text() == "hello"
    assert DRAIN.open_streams == 0
