"""Two ``kettle run`` servers, separate processes on 127.0.0.1, sharing one redis-server:
channels, sessions and a rate limit seen from both, across a publisher restart."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from realservers import KettleProcess, RedisServer, redis_server
from websockets.sync.client import connect

__all__ = ["redis_server"]  # a fixture, imported for pytest to find

APP = textwrap.dedent(
    """
    import os
    from typing import Annotated, Any

    from kettle import Header, Kettle, WebSocket, session
    from kettle.channels import Channels
    from kettle.middleware.ratelimit import RateLimitMiddleware, Rule
    from kettle.serversessions import ServerSideSessionInterface
    from kettle.sse import EventSourceResponse, ServerSentEvent
    from kettle.stores import store_from_url

    app = Kettle(__name__)
    app.config.update(SECRET_KEY="shared secret", REDIS_URL=os.environ["REDIS_URL"])
    prefix = os.environ["PREFIX"]
    channels = Channels.from_app(app, history=500, prefix=prefix + "channel:")
    store = store_from_url(app.config["REDIS_URL"], prefix=prefix)
    ServerSideSessionInterface(store, app=app)
    app.add_middleware(
        RateLimitMiddleware, rules=Rule("3/minute", paths=["/limited"]), store=store
    )

    @app.post("/publish/{room}")
    async def publish(room: str, body: dict[str, Any]):
        return {"id": await channels.publish(room, body)}

    @app.get("/events/{room}")
    async def events(room: str, last_event_id: Annotated[str | None, Header()] = None):
        async def stream():
            async with channels.subscribe(room, last_id=last_event_id) as sub:
                yield ServerSentEvent(comment="ready")
                async for message in sub:
                    yield message.event
        return EventSourceResponse(stream())

    @app.websocket("/ws/{room}")
    async def ws(socket: WebSocket, room: str):
        await socket.accept()
        async with channels.subscribe(room) as sub:
            await socket.send_text("ready")
            async for message in sub:
                await socket.send_text(message.text)

    @app.post("/login/{name}")
    async def login(name: str):
        session["user"] = name
        return {"pid": os.getpid()}

    @app.get("/me")
    async def me():
        return {"user": session.get("user"), "pid": os.getpid()}

    @app.get("/limited")
    async def limited():
        return {"pid": os.getpid()}
    """
)


class SSEReader(threading.Thread):
    """Reads one event stream into ``events`` ((id, data) pairs) until ``count`` events."""

    def __init__(self, url: str, count: int, last_event_id: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.count = url, count
        self.headers = {"last-event-id": last_event_id} if last_event_id else {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            timeout = httpx.Timeout(5, read=20)
            with httpx.stream("GET", self.url, headers=self.headers, timeout=timeout) as response:
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if line.startswith(": ready"):
                        self.ready.set()
                    elif line.startswith(("id: ", "data: ")):
                        name, _, value = line.partition(": ")
                        fields[name] = value
                    elif not line and "data" in fields:
                        self.events.append((fields.get("id", ""), json.loads(fields["data"])))
                        fields = {}
                        if len(self.events) >= self.count:
                            return
        except BaseException as exc:
            self.error = exc
            self.ready.set()


def publish(client: httpx.Client, server: KettleProcess, room: str, body: dict[str, Any]) -> str:
    response = client.post(f"{server.url}/publish/{room}", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_servers_share_channels_sessions_and_limits(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    (tmp_path / "worker_app.py").write_text(APP)
    env = {"REDIS_URL": redis_server.url, "PREFIX": f"scaleout:{time.time_ns()}:"}
    a, b = KettleProcess(tmp_path, env), KettleProcess(tmp_path, env)
    servers = [a, b]
    try:
        a.wait_until_up()
        b.wait_until_up()
        ws_url = f"ws://127.0.0.1:{a.port}/ws/room"
        with httpx.Client(timeout=5) as client, connect(ws_url, open_timeout=5) as socket:
            assert socket.recv(timeout=5) == "ready"
            sse = SSEReader(f"{a.url}/events/room", count=150)
            sse.start()
            assert sse.ready.wait(10)
            assert sse.error is None, sse.error
            ids = [publish(client, b, "room", {"n": n}) for n in range(100)]
            # The publishing server restarts; messages published by its successor still
            # reach the subscribers on A, after the first hundred and in order.
            b.stop()
            b = KettleProcess(tmp_path, env)
            servers.append(b)
            b.wait_until_up()
            ids += [publish(client, b, "room", {"n": n}) for n in range(100, 150)]
            received = [json.loads(socket.recv(timeout=10)) for _ in range(150)]
            assert [m["n"] for m in received] == list(range(150))
            sse.join(20)
            assert sse.error is None, sse.error
            assert [(i, m["n"]) for i, m in sse.events] == list(zip(ids, range(150), strict=True))

            # An SSE client that saw the 75th message reconnects, to B this time, with
            # Last-Event-ID: it gets exactly the 75 it missed.
            resumed = SSEReader(f"{b.url}/events/room", count=75, last_event_id=ids[74])
            resumed.start()
            resumed.join(20)
            assert resumed.error is None, resumed.error
            assert [m["n"] for _, m in resumed.events] == list(range(75, 150))

            # A session made on A is read on B.
            login = client.post(f"{a.url}/login/ada")
            cookie = f"session={login.cookies['session']}"
            with httpx.Client(timeout=5) as other:  # no cookie jar shared with A's client
                me = other.get(f"{b.url}/me", headers={"cookie": cookie}).json()
            assert me["user"] == "ada"
            assert me["pid"] != login.json()["pid"]

            # One rate limit for both servers.
            statuses = [client.get(f"{s.url}/limited").status_code for s in (a, b, a, b)]
            assert statuses == [200, 200, 200, 429]
    finally:
        for server in servers:
            server.stop()
