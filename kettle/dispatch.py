"""The request path: match → run the plan → call the handler → encode → send.

This is the one place to optimize. Everything that can be decided per route is decided in
``compile_http_endpoint`` (at startup), which returns a closure specialised to the route;
a request only runs that closure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kettle.concurrency import ThreadPool
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import ConfigurationError, HTTPException, WebSocketDisconnect
from kettle.limits import Limits
from kettle.requests import Request
from kettle.responses import JSONResponse, Response, dumps, to_response
from kettle.routing.matcher import Matcher
from kettle.routing.routes import WEBSOCKET, Route
from kettle.signature import Plan, describe
from kettle.types import Receive, Scope, Send
from kettle.websockets import WebSocket, WebSocketClose, WebSocketState

logger = logging.getLogger("kettle.error")

Endpoint = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_START = "http.response.start"
_BODY = "http.response.body"


@dataclass(slots=True)
class Compiled:
    """Everything dispatch needs, built once by ``Kettle.compile``."""

    matcher: Matcher[Endpoint]
    errors: ExceptionHandlers
    pool: ThreadPool
    limits: Limits
    redirect_slashes: bool


def compile_http_endpoint(route: Route, plan: Plan, limits: Limits, compiled: Compiled) -> Endpoint:
    """The request-time closure for one HTTP route."""
    func = plan.func
    is_async = plan.is_async
    run_in_pool = compiled.pool.run
    extractors = plan.extractors
    path_only = plan.path_only
    no_args = not extractors
    # None means "no content" only where the handler says so (-> None or status 204).
    status = route.status_code or (204 if plan.returns_none else 200)
    none_is_empty = plan.returns_none or status == 204
    errors = compiled.errors
    inline_sync = not plan.is_async and not route.sync_to_thread
    needs_request = not (no_args or path_only)

    async def endpoint(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        # PERF: handlers that take only path values never touch a Request object.
        request = Request(scope, receive, limits) if needs_request else None
        try:
            try:
                # PERF: three call shapes cover nearly every handler; building a kwargs
                # dict only when the handler needs more than its path values.
                if no_args:
                    kwargs: dict[str, Any] = {}
                elif path_only:
                    kwargs = params
                else:
                    kwargs = {name: extract(request, params) for name, extract in extractors}
                if is_async:
                    value = await func(**kwargs)
                elif inline_sync:
                    value = func(**kwargs)
                else:
                    value = await run_in_pool(func, **kwargs)
                kind = type(value)
                if kind is dict or kind is list:
                    # PERF: the common JSON return skips the Response object entirely.
                    body = dumps(value)
                    await send(
                        {
                            "type": _START,
                            "status": status,
                            "headers": [_JSON, (b"content-length", b"%d" % len(body))],
                        }
                    )
                    await send({"type": _BODY, "body": b"" if scope["method"] == "HEAD" else body})
                    return
                if value is None and none_is_empty:
                    response = Response(None, 204 if status == 200 else status)
                elif isinstance(value, Response):
                    response = value
                else:
                    response = to_response(value, status)
            except Exception as exc:
                if request is None:
                    request = Request(scope, receive, limits)
                response = await errors.response_for(request, exc)
            await response(scope, receive, send)
        finally:
            # Uploaded files live until the response is sent, however it was produced.
            if request is not None and request._form is not None:
                await request.close()

    return endpoint


def compile_websocket_endpoint(route: Route, plan: Plan, limits: Limits) -> Endpoint:
    """The connection-time closure for one WebSocket route."""
    if not plan.is_async:
        raise ConfigurationError(f"{describe(plan.func)}: a WebSocket handler must be 'async def'")
    func = plan.func
    extractors = plan.extractors

    async def endpoint(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        ws = WebSocket(scope, receive, send, limits)
        try:
            kwargs = {name: extract(ws, params) for name, extract in extractors}
            await func(**kwargs)
        except WebSocketDisconnect:
            pass
        except WebSocketClose as exc:
            await ws.close(exc.code, exc.reason)
        except HTTPException as exc:
            # Before the handshake completes, an HTTP error rejects the connection (403).
            if ws.application_state is WebSocketState.CONNECTING:
                await ws.close(1008, str(exc.detail))
            else:
                await ws.close(1011 if exc.status_code >= 500 else 1008, str(exc.detail))
        except Exception:
            logger.exception("Unhandled error in WebSocket handler %s", route.name)
            await ws.close(1011, "Internal error")
        else:
            if ws.application_state is not WebSocketState.DISCONNECTED:
                await ws.close(1000)

    return endpoint


def make_dispatch(
    compiled: Compiled, lifespan: Callable[[Scope, Receive, Send], Awaitable[None]]
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI callable for HTTP, WebSocket and lifespan scopes."""
    match = compiled.matcher.match
    allowed_methods = compiled.matcher.allowed_methods
    max_headers = compiled.limits.max_headers
    errors = compiled.errors
    redirect_slashes = compiled.redirect_slashes
    # PERF: with no custom handler for 404 a miss sends a prebuilt response (6.2 -> 1.9 us).
    not_found = None if errors.customized(404) else JSONResponse({"detail": "Not Found"}, 404)

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            method: str = scope["method"]
        elif kind == "websocket":
            method = WEBSOCKET
        else:
            return await lifespan(scope, receive, send)
        path: str = scope["path"]
        root_path = scope.get("root_path")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :] or "/"
        if path[:1] != "/":
            exc = HTTPException(400, "Invalid request target")
            return await _refuse(scope, receive, send, errors, exc)
        if len(scope["headers"]) > max_headers:
            exc = HTTPException(431, "Too many headers")
            return await _refuse(scope, receive, send, errors, exc)
        found = match(path, method)
        if found is not None:
            endpoint, params = found
            scope["path_params"] = params
            return await endpoint(scope, receive, send, params)
        if method == WEBSOCKET:
            return await _close_websocket(receive, send)
        allowed = allowed_methods(path)
        allowed.discard(WEBSOCKET)
        if allowed:
            if method == "OPTIONS":
                return await _options(allowed, scope, receive, send)
            exc = HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
            return await _refuse(scope, receive, send, errors, exc)
        if redirect_slashes:
            target = path[:-1] if path.endswith("/") else path + "/"
            # "//host" or "/\host" in a Location header would send the browser off-site.
            if target[:2] not in ("//", "/\\") and target and match(target, method):
                return await _redirect(scope, receive, send, target)
        if not_found is not None:
            return await not_found(scope, receive, send)
        return await _refuse(scope, receive, send, errors, HTTPException(404))

    return dispatch


async def _refuse(
    scope: Scope, receive: Receive, send: Send, errors: ExceptionHandlers, exc: HTTPException
) -> None:
    if scope["type"] == "websocket":
        await _close_websocket(receive, send)
        return
    response = await errors.response_for(Request(scope, receive), exc)
    await response(scope, receive, send)


async def _close_websocket(receive: Receive, send: Send) -> None:
    # Refusing a handshake: a close before accept becomes an HTTP 403 from the server.
    await send({"type": "websocket.close", "code": 1008, "reason": ""})


async def _options(allowed: set[str], scope: Scope, receive: Receive, send: Send) -> None:
    allowed.add("OPTIONS")
    response = Response(None, 200, {"Allow": ", ".join(sorted(allowed))})
    await response(scope, receive, send)


async def _redirect(scope: Scope, receive: Receive, send: Send, target: str) -> None:
    # A path-absolute Location keeps the client's scheme and host: behind a TLS-terminating
    # proxy an absolute URL built from the scope could downgrade https to http.
    location = quote(scope.get("root_path", "") + target, safe="/:@!$&'()*+,;=-._~")
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    response = Response(None, 308, {"Location": location})
    await response(scope, receive, send)
