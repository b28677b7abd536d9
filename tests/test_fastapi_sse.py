"""Server-sent events (``kettle.fastapi.sse``): the wire format, keep-alive, resuming, and
a stream that ends when its client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from kettle.fastapi import FastAPI, Header
from kettle.fastapi.sse import EventSourceResponse, ServerSentEvent
from kettle.fastapi.testclient import TestClient
from kettle.types import Message


class Item(BaseModel):
    name: str
    price: float


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (ServerSentEvent(data="hi"), 'data: "hi"\n\n'),
        (ServerSentEvent(data=Item(name="Pen", price=1.5)), 'data: {"name":"Pen","price":1.5}\n\n'),
        (ServerSentEvent(raw_data="[DONE]", event="done"), "event: done\ndata: [DONE]\n\n"),
        (ServerSentEvent(raw_data="a\nb"), "data: a\ndata: b\n\n"),
        (ServerSentEvent(comment="hello", id="3", retry=500), ": hello\nid: 3\nretry: 500\n\n"),
        (ServerSentEvent(data=[1, None]), "data: [1,null]\n\n"),
    ],
)
def test_the_wire_format(event: ServerSentEvent, wire: str) -> None:
    assert event.encode().decode() == wire


@pytest.mark.parametrize(
    "fields",
    [
        {"event": "a\ndata: forged"},
        {"id": "1\r"},
        {"comment": "x\ny"},
        {"id": "a\0"},
        {"retry": -1},
        {"data": 1, "raw_data": "1"},
    ],
)
def test_fields_that_would_forge_events_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"ServerSentEvent|retry"):
        ServerSentEvent(**fields)


ITEMS = [Item(name="Pen", price=1.0), Item(name="Ink", price=2.0), Item(name="Pad", price=3.0)]


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    async def items(last_event_id: Annotated[int | None, Header()] = None) -> Any:
        start = 0 if last_event_id is None else last_event_id + 1

        async def events() -> AsyncIterator[ServerSentEvent]:
            for number, item in enumerate(ITEMS[start:], start=start):
                yield ServerSentEvent(data=item, event="item", id=str(number))

        return EventSourceResponse(events())

    @app.get("/blocking")
    def blocking() -> Any:
        def values() -> Iterator[str]:
            yield from ("one", "two")

        return EventSourceResponse(values())

    @app.get("/slow")
    async def slow() -> Any:
        async def events() -> AsyncIterator[str]:
            await asyncio.sleep(0.12)
            yield "late"

        return EventSourceResponse(events(), ping=0.05)

    return app


@pytest.mark.parametrize(
    ("headers", "ids"),
    [({}, ["0", "1", "2"]), ({"Last-Event-ID": "0"}, ["1", "2"]), ({"Last-Event-ID": "2"}, [])],
)
def test_a_client_resumes_after_the_last_event_it_saw(
    headers: dict[str, str], ids: list[str]
) -> None:
    response = TestClient(make_app()).get("/items", headers=headers)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    lines = response.text.splitlines()
    assert [line[4:] for line in lines if line.startswith("id: ")] == ids
    assert lines.count("event: item") == len(ids)


def test_a_blocking_iterator_is_streamed_from_the_thread_pool() -> None:
    assert TestClient(make_app()).get("/blocking").text == 'data: "one"\n\ndata: "two"\n\n'


def test_an_idle_stream_sends_keep_alive_comments() -> None:
    text = TestClient(make_app()).get("/slow").text
    assert text.startswith(": ping\n\n")
    assert text.endswith('data: "late"\n\n')


def test_the_stream_ends_and_its_source_is_closed_when_the_client_leaves() -> None:
    closed = asyncio.Event()
    sent: list[Message] = []

    async def endless() -> AsyncIterator[int]:
        try:
            number = 0
            while True:
                yield number
                number += 1
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    async def main() -> None:
        calls = 0

        async def receive() -> Message:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "headers": []}
        await asyncio.wait_for(EventSourceResponse(endless())(scope, receive, send), 2)

    asyncio.run(main())
    assert closed.is_set()
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert 1 < len(bodies) < 50


def test_a_source_failing_after_some_events_sends_them_first_then_raises() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise ValueError("source broke")

    chunks: list[bytes] = []

    async def main() -> None:
        async for chunk in EventSourceResponse(failing(), ping=0.01)._chunks():
            chunks.append(chunk)

    with pytest.raises(ValueError, match="source broke"):
        asyncio.run(main())
    assert chunks == [b"data: 1\n\n", b"data: 2\n\n"]


def test_the_source_is_read_at_most_one_event_ahead_of_the_client() -> None:
    produced: list[int] = []

    async def counting() -> AsyncIterator[int]:
        for number in range(100):
            produced.append(number)
            yield number

    async def main() -> None:
        stream = EventSourceResponse(counting(), ping=None)._chunks()
        assert await anext(stream) == b"data: 0\n\n"
        await asyncio.sleep(0.01)  # the reader runs as far as it may
        assert len(produced) <= 3  # the one taken, one waiting, one made and held
        await stream.aclose()

    asyncio.run(main())
