"""Handlers that yield: JSON Lines, Server-Sent Events and raw streams (kettle/streams.py)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from kettle import Depends, Kettle, StreamingResponse
from kettle.sse import EventSourceResponse, ServerSentEvent
from kettle.streams import item_type
from kettle.testing import TestClient


class Item(BaseModel):
    name: str


class Stored(BaseModel):
    name: str
    secret: str


def _app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/async")
    async def async_items() -> AsyncIterable[Item]:
        for name in ("a", "b"):
            yield Stored(name=name, secret="s")  # type: ignore[misc]

    @app.get("/sync")
    def sync_items() -> Iterable[Item]:
        for name in ("a", "b"):
            yield Stored(name=name, secret="s")  # type: ignore[misc]

    @app.get("/plain")
    async def plain():  # type: ignore[no-untyped-def]
        yield {"n": 1}
        yield [2]

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterable[Item]:
        yield Item(name="a")
        yield ServerSentEvent(data="raw", event="note", id="7")  # type: ignore[misc]

    @app.get("/text", response_class=StreamingResponse)
    def text() -> Iterable[str]:
        yield "one "
        yield "two"

    return app


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_items_are_json_lines_filtered_through_the_item_type(path: str) -> None:
    response = TestClient(_app()).get(path)
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert lines == [{"name": "a"}, {"name": "b"}]  # the secret is filtered out


def test_items_without_an_item_type_are_encoded_as_they_are() -> None:
    assert TestClient(_app()).get("/plain").text == '{"n":1}\n[2]\n'


def test_server_sent_events() -> None:
    response = TestClient(_app()).get("/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert 'data: {"name":"a"}' in response.text
    assert "event: note" in response.text
    assert "id: 7" in response.text


def test_a_streaming_response_class_takes_the_items_as_the_body() -> None:
    assert TestClient(_app()).get("/text").text == "one two"


def test_a_plain_generator_runs_in_the_thread_pool_and_is_closed() -> None:
    seen: list[str] = []
    threads: dict[str, int] = {}
    app = Kettle(__name__)

    async def on_the_loop() -> None:
        threads["loop"] = threading.get_ident()

    @app.get("/work", dependencies=[Depends(on_the_loop)])
    def work() -> Iterator[int]:
        try:
            threads["generator"] = threading.get_ident()
            yield 1
            yield 2
        finally:
            seen.append("closed")

    assert TestClient(app).get("/work").text == "1\n2\n"
    assert threads["generator"] != threads["loop"]
    assert seen == ["closed"]


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [(AsyncIterable[int], int), (Iterator[Item], Item), (Iterable[Any], None), (int, None)],
)
def test_item_type(annotation: Any, expected: Any) -> None:
    assert item_type(annotation) is expected
