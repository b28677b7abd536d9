"""The floor for the security scenarios, by hand: a bearer JWT decoded with PyJWT, and a CORS
preflight answered from a set of allowed origins, methods and headers.

The checks are the ones the frameworks make: the ``Bearer`` scheme (case-insensitive), a
token PyJWT accepts with the algorithm pinned, and a preflight only for an allowed origin,
method and header list, answered with ``Vary: Origin`` and a max-age.
"""

import jwt
import orjson

from bench.apps.common import ALLOWED_ORIGIN, JWT_SECRET, Receive, Scope, Send

ALGORITHMS = ["HS256"]
_METHODS = {"GET"}
_HEADERS = {"authorization"}
_PREFLIGHT = [
    (b"access-control-allow-origin", ALLOWED_ORIGIN.encode()),
    (b"access-control-allow-methods", b"GET"),
    (b"access-control-allow-headers", b"authorization"),
    (b"access-control-max-age", b"600"),
    (b"vary", b"Origin"),
    (b"content-length", b"0"),
]


async def _json(send: Send, content: object, status: int = 200) -> None:
    body = orjson.dumps(content)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _me(scope: Scope, send: Send) -> None:
    authorization = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            authorization = value.decode("latin-1")
            break
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        await _json(send, {"detail": "Not authenticated"}, status=401)
        return
    try:
        claims = jwt.decode(token, JWT_SECRET, algorithms=ALGORITHMS)
    except jwt.InvalidTokenError:
        await _json(send, {"detail": "Invalid token"}, status=401)
        return
    await _json(send, {"sub": claims["sub"]})


async def _preflight(scope: Scope, send: Send) -> None:
    headers = dict(scope["headers"])
    origin = headers.get(b"origin", b"").decode("latin-1")
    method = headers.get(b"access-control-request-method", b"").decode("latin-1")
    requested = headers.get(b"access-control-request-headers", b"").decode("latin-1")
    asked = {name.strip().lower() for name in requested.split(",") if name.strip()}
    if origin != ALLOWED_ORIGIN or method not in _METHODS or not asked <= _HEADERS:
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _PREFLIGHT})
    await send({"type": "http.response.body", "body": b""})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] != "/secure/me":
        await _json(send, {"detail": "Not Found"}, status=404)
    elif scope["method"] == "OPTIONS":
        await _preflight(scope, send)
    else:
        await _me(scope, send)
