"""Channels on the memory backend and on a real redis-server, through the test client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from realservers import RedisServer, own_redis, prefix_for, redis_server

from kettle import Header, Kettle, WebSocket
from kettle.channels import Channels, Subscription
from kettle.exceptions import ConfigurationError
from kettle.sse import EventSourceResponse
from kettle.testing import TestClient

__all__ = ["own_redis", "redis_server"]  # fixtures, imported for pytest to find

MakeChannels = Callable[..., Channels]


@pytest.fixture(params=["memory", "redis"])
def make_channels(request: pytest.FixtureRequest) -> MakeChannels:
    if request.param == "memory":
        return Channels
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = prefix_for(request)
    return lambda **options: Channels(server.url, prefix=prefix, **options)


def make_app(channels: Channels) -> Kettle:
    app = Kettle(__name__)
    channels.init_app(app)

    @app.post("/publish/{room}")
    async def publish(room: str, body: dict[str, Any]) -> dict[str, str]:
        return {"id": await channels.publish(room, body)}

    @app.post("/publish-sync/{room}")
    def publish_sync(room: str, body: dict[str, Any]) -> dict[str, str]:
        # A plain def: it runs in the thread pool, and reaches the app's loop.
        return {"id": channels.publish_sync(room, body)}

    @app.get("/events/{room}")
    async def events(
        room: str,
        count: int,
        history: int = 0,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> EventSourceResponse:
        async def some() -> Any:
            n = 0
            async for event in channels.events(room, last_event_id, history=history):
                yield event
                n += 1
                if n == count:
                    return

        return EventSourceResponse(some())

    @app.websocket("/ws/{room}")
    async def ws(socket: WebSocket, room: str) -> None:
        await socket.accept()
        async with channels.subscribe(room) as sub:
            await socket.send_text("ready")
            async for message in sub:
                await socket.send_json(message.data)
                if message.data.get("last"):
                    break
        await socket.close()

    @app.websocket("/forward/{room}")
    async def forward(socket: WebSocket, room: str) -> None:
        await socket.accept()

        async def echo(text: str) -> None:
            await channels.publish(room, {"echo": text})

        await channels.forward(socket, room, history=1, on_receive=echo)
        forwarded.append(room)  # returned: the client left

    forwarded: list[str] = []
    app.state.forwarded = forwarded
    return app


def test_forward_to_a_websocket_until_the_client_leaves(make_channels: MakeChannels) -> None:
    app = make_app(make_channels())
    with TestClient(app) as client:
        client.post("/publish/chat", json={"n": 0})
        with client.websocket_connect("/forward/chat") as socket:
            assert socket.receive_json() == {"n": 0}  # history=1
            socket.send_text("hi")  # goes to on_receive, which publishes it
            assert socket.receive_json() == {"echo": "hi"}
            client.post("/publish/chat", json={"n": 1})
            assert socket.receive_json() == {"n": 1}
        for _ in range(100):  # the handler returns once it sees the client leave
            if app.state.forwarded:
                break
            time.sleep(0.01)
        assert app.state.forwarded == ["chat"]


def events_of(text: str) -> list[tuple[str, str]]:
    """``(id, data)`` of each event in an event-stream body."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            out.append((fields.get("id", ""), fields["data"]))
    return out


def test_websocket_subscribers_get_every_message_in_order(make_channels: MakeChannels) -> None:
    with (
        TestClient(make_app(make_channels())) as client,
        client.websocket_connect("/ws/room") as one,
        client.websocket_connect("/ws/room") as two,
    ):
        assert one.receive_text() == two.receive_text() == "ready"
        for n in range(20):
            client.post("/publish/room", json={"n": n})
        client.post("/publish/other", json={"n": -1})  # another channel
        client.post("/publish-sync/room", json={"n": 20, "last": True})
        for socket in (one, two):
            got = [socket.receive_json() for _ in range(21)]
            assert [m["n"] for m in got] == list(range(21))


def test_history_for_late_joiners_and_resume_after_an_id(make_channels: MakeChannels) -> None:
    with TestClient(make_app(make_channels(history=5))) as client:
        ids = [client.post("/publish/news", json={"n": n}).json()["id"] for n in range(8)]
        late = events_of(client.get("/events/news", params={"count": 3, "history": 3}).text)
        assert [(i, d) for i, d in late] == [(ids[n], f'{{"n":{n}}}') for n in (5, 6, 7)]
        # A client that saw ids[5] reconnects: it gets what came after, then live ones.
        resumed = client.get("/events/news", params={"count": 2}, headers={"last-event-id": ids[5]})
        assert [i for i, _ in events_of(resumed.text)] == ids[6:8]


@pytest.mark.parametrize("hostile", ["abc", "-1", "1" * 400, "1-2-3", "9" * 25 + "-0", " "])
def test_a_foreign_last_event_id_is_ignored(make_channels: MakeChannels, hostile: str) -> None:
    with TestClient(make_app(make_channels(history=5))) as client:
        client.post("/publish/news", json={"n": 0})
        # No replay from a bad id: the stream waits for a live message, which comes next.
        with client.websocket_connect("/ws/news") as socket:
            assert socket.receive_text() == "ready"
            client.post("/publish/news", json={"n": 1, "last": True})
            assert socket.receive_json() == {"n": 1, "last": True}
        # The SSE route takes it as a header: still a 200, history only if asked.
        response = client.get(
            "/events/news", params={"count": 1, "history": 1}, headers={"last-event-id": hostile}
        )
        assert response.status_code == 200
        assert [d for _, d in events_of(response.text)] == ['{"n":1,"last":true}']


@pytest.mark.parametrize(("slow", "expected"), [("close", list(range(3))), ("drop", [7, 8, 9])])
def test_a_slow_subscriber(make_channels: MakeChannels, slow: str, expected: list[int]) -> None:
    channels = make_channels(queue_size=3, slow=slow)

    async def main() -> tuple[list[int], Subscription]:
        try:
            async with channels.subscribe("feed") as sub:
                for n in range(10):  # nobody reads meanwhile
                    await channels.publish("feed", n)
                await _settle(sub, 3)
                sub_close = asyncio.get_running_loop().call_later(0.5, sub.close)
                got = [m.data async for m in sub]
                sub_close.cancel()
                return got, sub
        finally:
            await channels.aclose()

    got, sub = asyncio.run(asyncio.wait_for(main(), 10))
    assert got == expected
    assert sub.overflowed == (slow == "close")
    assert sub.missed == (7 if slow == "drop" else 0)


async def _settle(sub: Subscription, queued: int) -> None:
    # The Redis reader delivers from its own task: wait (bounded) until it has.
    for _ in range(200):
        if len(sub._queue) >= queued and (sub.overflowed or sub.missed or sub.slow == "close"):
            await asyncio.sleep(0.05)
            return
        await asyncio.sleep(0.01)


def test_publish_sync_outside_the_app_as_a_cli_command_would(make_channels: MakeChannels) -> None:
    channels = make_channels(history=5)
    first = channels.publish_sync("jobs", {"job": 1})  # no loop running: one of its own
    second = channels.publish_sync("jobs", {"job": 2})
    with TestClient(make_app(channels)) as client:
        response = client.get("/events/jobs", params={"count": 2, "history": 2})
    assert events_of(response.text) == [(first, '{"job":1}'), (second, '{"job":2}')]


def test_channels_end_at_shutdown(make_channels: MakeChannels) -> None:
    channels = make_channels()

    async def main() -> list[Any]:
        async with channels.subscribe("x") as sub:
            asyncio.get_running_loop().call_later(0.1, asyncio.ensure_future, channels.aclose())
            return [m async for m in sub]

    assert asyncio.run(asyncio.wait_for(main(), 10)) == []


@pytest.mark.parametrize(
    "options",
    [{"url": "http://x"}, {"slow": "never"}, {"queue_size": 0}, {"history": -1}],
)
def test_bad_options_are_refused_at_startup(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Channels(**options)


@pytest.mark.parametrize("name", ["", "x" * 201])
def test_bad_channel_names(name: str) -> None:
    with pytest.raises(ValueError, match="channel name"):
        asyncio.run(Channels().publish(name, 1))


def test_memory_history_is_bounded_per_channel_and_in_channels() -> None:
    channels = Channels(history=2)
    channels.backend.max_channels = 3  # type: ignore[attr-defined]

    async def main() -> tuple[int, list[int]]:
        for n in range(5):
            await channels.publish(f"c{n}", n)
            await channels.publish("c4", n)
        async with channels.subscribe("c4", history=10) as sub:
            sub.close()
            return len(channels.backend._recent), [m.data async for m in sub]  # type: ignore[attr-defined]

    assert asyncio.run(main()) == (3, [4, 4])  # c4 got 3, then 4 twice
