"""The floor: a hand-written ASGI callable doing the same work as the framework apps.

It is what a careful person would write with no framework at all: dict lookups instead of
regular expressions, ``int()`` on a split path, the standard library's query-string parser and
orjson for every JSON body. Every response is still built per request (body encoded, headers
assembled), so the only thing the frameworks add on top is their own machinery.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import orjson

from bench.apps.common import HELLO, ROUTE_COUNT, Receive, Scope, Send

Handler = Callable[[Scope, Send], Awaitable[None]]


async def _respond(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, content: object, status: int = 200) -> None:
    await _respond(send, status, b"application/json", orjson.dumps(content))


async def _plaintext(scope: Scope, send: Send) -> None:
    await _respond(send, 200, b"text/plain; charset=utf-8", HELLO.encode("utf-8"))


async def _hello_json(scope: Scope, send: Send) -> None:
    await _json(send, {"message": HELLO})


async def _item(scope: Scope, send: Send, item_id: int) -> None:
    # Same decoding as the frameworks: latin-1 bytes to str, then percent-decoding; last value wins.
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    await _json(send, {"item_id": item_id, "q": query.get("q")})


async def _not_found(send: Send) -> None:
    await _json(send, {"detail": "Not Found"}, status=404)


STATIC_ROUTES: dict[str, Handler] = {"/plaintext": _plaintext, "/json": _hello_json}

# First path segment -> route number, the hand-written equivalent of 1000 "/r{i}/{x:int}" routes.
NUMBERED_ROUTES: dict[str, int] = {f"r{index}": index for index in range(ROUTE_COUNT)}


def _parse_int_segment(segment: str) -> int | None:
    # Matches the frameworks' int convertor ([0-9]+): no sign, no spaces, no underscores.
    if segment.isascii() and segment.isdigit():
        return int(segment)
    return None


async def _dispatch(scope: Scope, send: Send) -> None:
    path: str = scope["path"]
    handler = STATIC_ROUTES.get(path)
    if handler is not None:
        await handler(scope, send)
        return
    # Parametrised routes all look like "/<head>/<int>", i.e. ["", head, value] once split.
    parts = path.split("/")
    if len(parts) == 3 and not parts[0]:
        value = _parse_int_segment(parts[2])
        if value is not None:
            head = parts[1]
            if head == "items":
                await _item(scope, send, value)
                return
            index = NUMBERED_ROUTES.get(head)
            if index is not None:
                await _json(send, {"route": index, "x": value})
                return
    await _not_found(send)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up, but answering lifespan keeps the server contract identical to the others.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "http":
        if scope["method"] != "GET":
            await _json(send, {"detail": "Method Not Allowed"}, status=405)
            return
        await _dispatch(scope, send)
    elif kind == "lifespan":
        await _lifespan(receive, send)
