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


async def _invalid(send: Send, where: str) -> None:
    await _json(send, {"detail": [{"loc": where, "msg": "invalid"}]}, status=422)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _typed(scope: Scope, send: Send, segment: str) -> None:
    # By hand, what the typed handler declares: int path value, q at most 50 chars, limit int.
    try:
        item_id = int(segment)
    except ValueError:
        await _invalid(send, "path.item_id")
        return
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    q = query.get("q")
    if q is not None and len(q) > 50:
        await _invalid(send, "query.q")
        return
    try:
        limit = int(query.get("limit", 10))
    except ValueError:
        await _invalid(send, "query.limit")
        return
    await _json(send, {"item_id": item_id, "q": q, "limit": limit})


def _check_user(data: object) -> dict[str, object] | None:
    """The checks a UserIn model makes: types of name, email, age and tags."""
    if not isinstance(data, dict):
        return None
    name, email, age = data.get("name"), data.get("email"), data.get("age")
    tags = data.get("tags", [])
    if not isinstance(name, str) or not isinstance(email, str):
        return None
    if not isinstance(age, int) or isinstance(age, bool):
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None
    return {"name": name, "email": email, "age": age, "tags": tags}


async def _create_user(scope: Scope, receive: Receive, send: Send) -> None:
    content_type = _header(scope, b"content-type") or ""
    if content_type.split(";")[0].strip().lower() != "application/json":
        await _json(send, {"detail": "Unsupported Media Type"}, status=415)
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        user = _check_user(orjson.loads(b"".join(chunks)))
    except orjson.JSONDecodeError:
        user = None
    if user is None:
        await _invalid(send, "body")
        return
    await _json(send, {"id": 1, "name": user["name"]}, status=201)


async def _deps(scope: Scope, send: Send) -> None:
    token = _header(scope, b"x-token")
    if token is None:
        await _invalid(send, "header.x-token")
        return
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    try:
        page = int(query.get("page", 1))
    except ValueError:
        await _invalid(send, "query.page")
        return
    await _json(send, {"user": token, "page": page})


STATIC_ROUTES: dict[str, Handler] = {
    "/plaintext": _plaintext,
    "/json": _hello_json,
    "/deps": _deps,
}

# First path segment -> route number, the hand-written equivalent of 1000 "/r{i}/{x:int}" routes.
NUMBERED_ROUTES: dict[str, int] = {f"r{index}": index for index in range(ROUTE_COUNT)}


def _parse_int_segment(segment: str) -> int | None:
    # Matches the frameworks' int convertor ([0-9]+): no sign, no spaces, no underscores.
    if segment.isascii() and segment.isdigit():
        return int(segment)
    return None


async def _dispatch(scope: Scope, receive: Receive, send: Send) -> None:
    path: str = scope["path"]
    handler = STATIC_ROUTES.get(path)
    if handler is not None:
        await handler(scope, send)
        return
    if path.startswith("/typed/") and path.count("/") == 2:
        await _typed(scope, send, path[7:])
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
        if scope["method"] == "POST" and scope["path"] == "/users":
            await _create_user(scope, receive, send)
            return
        if scope["method"] != "GET":
            await _json(send, {"detail": "Method Not Allowed"}, status=405)
            return
        await _dispatch(scope, receive, send)
    elif kind == "lifespan":
        await _lifespan(receive, send)
