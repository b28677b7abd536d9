"""Handlers that ``yield``: each item they produce is streamed as it comes.

A path operation written as a generator (``async def`` or plain ``def`` with ``yield``)
answers with a stream, as in FastAPI 0.134+:

- no ``response_class`` (or ``JSONResponse``): JSON Lines (``application/jsonl``), one
  JSON document per item, each validated against the item type of the return annotation
  (``AsyncIterable[Item]``, ``Iterator[Item]``...) when it names one;
- ``response_class=EventSourceResponse``: Server-Sent Events, an event per item (a
  :class:`~kettle.sse.ServerSentEvent` sets its own fields);
- ``response_class=StreamingResponse`` (or another streaming class): the items, ``str``
  or ``bytes``, as the body.

A plain ``def`` generator runs in the thread pool, one item per hop, so it can block;
the stream stops, and the generator is closed, when the client goes away.

Example:
    >>> from collections.abc import AsyncIterable
    >>> from kettle import Kettle
    >>> from kettle.testing import TestClient
    >>> app = Kettle(__name__)
    >>> @app.get("/numbers")
    ... async def numbers() -> AsyncIterable[int]:
    ...     for n in range(3):
    ...         yield n
    >>> TestClient(app).get("/numbers").text
    '0\\n1\\n2\\n'
"""

from __future__ import annotations

import collections.abc
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from kettle.concurrency import ThreadPool
from kettle.responses import JSONResponse, Response, StreamingResponse, dumps

__all__ = ["JSON_LINES", "item_type", "stream_invoker"]

JSON_LINES = "application/jsonl"

_ITERABLES = {
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.Generator,
}
_END = object()


def item_type(annotation: Any) -> Any:
    """``Item`` for ``AsyncIterable[Item]`` (and the other iterable and generator types);
    ``None`` when the annotation names no item type.

    Example:
        >>> from collections.abc import Iterator
        >>> item_type(Iterator[int]), item_type(None)
        (<class 'int'>, None)
    """
    if typing.get_origin(annotation) in _ITERABLES:
        args = typing.get_args(annotation)
        if args and args[0] is not Any:
            return args[0]
    return None


def stream_invoker(
    func: Callable[..., Any],
    kind: str,
    pool: ThreadPool,
    response_class: Any,
    to_content: Callable[[Any], Any] | None,
    encode: Callable[[Any], bytes] | None,
    status: int | None,
) -> Callable[..., Awaitable[Response]]:
    """``invoke(**arguments)``: call the generator handler and wrap its items in the
    response its route asks for. ``to_content``/``encode`` validate an item against the
    item type (as Python data, or straight to JSON bytes), when there is one."""
    # Imported here: an app with no streaming handler never loads the SSE module.
    from kettle.sse import EventSourceResponse

    extra: dict[str, Any] = {} if status is None else {"status_code": status}
    if isinstance(response_class, type) and issubclass(response_class, EventSourceResponse):

        def respond(items: AsyncIterator[Any]) -> Response:
            return response_class(_events(items, to_content), **extra)

    elif response_class is None or (
        isinstance(response_class, type) and issubclass(response_class, JSONResponse)
    ):

        def respond(items: AsyncIterator[Any]) -> Response:
            return StreamingResponse(_json_lines(items, encode), media_type=JSON_LINES, **extra)

    else:

        def respond(items: AsyncIterator[Any]) -> Response:
            return response_class(items, **extra)  # type: ignore[no-any-return]

    async def invoke(**kwargs: Any) -> Response:
        produced = func(**kwargs)
        items = produced if kind == "async" else _in_pool(produced, pool)
        return respond(items)

    return invoke


async def _in_pool(items: Iterator[Any], pool: ThreadPool) -> AsyncIterator[Any]:
    # One item per thread hop: a plain generator may block (a file, a database cursor).
    try:
        while True:
            item = await pool.run(next, items, _END)
            if item is _END:
                return
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


async def _json_lines(
    items: AsyncIterator[Any], encode: Callable[[Any], bytes] | None
) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            yield (encode(item) if encode is not None else dumps(item)) + b"\n"
    finally:
        await _close(items)


async def _events(
    items: AsyncIterator[Any], to_content: Callable[[Any], Any] | None
) -> AsyncIterator[Any]:
    from kettle.sse import ServerSentEvent

    try:
        async for item in items:
            if to_content is not None and not isinstance(item, ServerSentEvent):
                item = to_content(item)
            yield item
    finally:
        await _close(items)


async def _close(items: AsyncIterator[Any]) -> None:
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        await aclose()
