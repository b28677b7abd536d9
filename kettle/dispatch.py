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

from kettle.binding import Context, RoutePlan
from kettle.concurrency import ThreadPool
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import (
    ConfigurationError,
    HTTPException,
    RequestValidationError,
    WebSocketDisconnect,
)
from kettle.globals import _current
from kettle.hooks import Hooks
from kettle.introspection import describe
from kettle.limits import Limits
from kettle.requests import Request
from kettle.responses import JSONResponse, Response, dumps, to_response
from kettle.routing.matcher import Matcher
from kettle.routing.routes import WEBSOCKET, Route
from kettle.serialization import ResponseEncoder
from kettle.types import Receive, Scope, Send
from kettle.websockets import WebSocket, WebSocketClose

logger = logging.getLogger("kettle.error")

Endpoint = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_JSON_TYPE = "application/json"
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
    #: answers requests no route takes (404, 405, 400...) through the app's hooks and
    #: error handlers, with the context locals available
    refuse: Callable[[Scope, Receive, Send, HTTPException], Awaitable[None]] | None = None


def compile_http_endpoint(
    route: Route,
    plan: RoutePlan,
    limits: Limits,
    compiled: Compiled,
    encoder: ResponseEncoder | None = None,
    hooks: Hooks | None = None,
    errors: ExceptionHandlers | None = None,
    app: Any = None,
) -> Endpoint:
    """The request-time closure for one HTTP route."""
    spec = plan.spec
    func = spec.func
    is_async = spec.is_async
    run_in_pool = compiled.pool.run
    handler = plan.handler
    no_args = not plan.inputs and not handler.specials and len(plan.steps) == 1
    path_only = (
        plan.simple
        and not handler.specials
        and handler.validator is None
        and all(prm.location == "path" and prm.required for prm in plan.inputs)
    )
    simple = (
        plan.simple
        and not plan.takes_response
        and not any(kind == "background" for _, kind in handler.specials)
    )
    bind_simple = plan.handler.bind
    # A handler whose only input is a JSON body: read it, then bind, without the solver.
    body_only = (
        len(plan.steps) == 1
        and plan.body is not None
        and plan.form is None
        and not handler.getters
        and not handler.specials
    )
    body_arguments = plan.body.arguments if plan.body is not None else None
    slots = len(plan.steps)
    # None means "no content" only where the handler says so (-> None or status 204).
    returns_none = spec.return_annotation is None or spec.return_annotation is type(None)
    status = route.status_code or (204 if returns_none and encoder is None else 200)
    none_is_empty = (returns_none and encoder is None) or status == 204
    # 204 and 304 never carry a body, whatever the handler returned.
    no_body = status in (204, 304)
    errors = errors or compiled.errors
    inline_sync = not is_async and not route.sync_to_thread
    needs_request = not (no_args or path_only)
    hooks = hooks or Hooks()
    before, after, teardown = hooks.before, hooks.after, hooks.teardown
    # PERF: without after_request hooks a dict or list return is sent without ever
    # building a Response object (unless the handler touched the session).
    fast_json = not after
    set_context, reset_context = _current.set, _current.reset
    # A session store doing I/O is loaded up front: the lazy `session` proxy cannot await.
    async_sessions = _has_async_sessions(app)
    pinned = hooks.sync and (not is_async or any(not s.spec.is_async for s in plan.steps))
    acquire_lease, release_lease = compiled.pool.acquire_lease, compiled.pool.release_lease

    async def plain_endpoint(
        scope: Scope, receive: Receive, send: Send, params: dict[str, Any]
    ) -> None:
        # The same steps as ``endpoint`` below, without hooks: most routes have none, and
        # PERF: a closure this size costs ~0.5 us less per request than the hooked one.
        request = Request(scope, receive, limits) if needs_request else None
        holder = [None, app, request, scope, receive, limits]
        token = set_context(holder)
        scope["route"] = route
        if async_sessions:
            await _open_session_now(holder)
        ctx: Context | None = None
        failure: BaseException | None = None
        try:
            try:
                if no_args:
                    kwargs: dict[str, Any] = {}
                elif path_only:
                    kwargs = params
                elif simple:
                    ctx = Context(request, params, 1)
                    bound = bind_simple(ctx)
                    if bound is None:
                        raise RequestValidationError(ctx.errors)
                    kwargs = bound
                elif body_only:
                    kwargs = await body_arguments(request)  # type: ignore[misc]
                else:
                    ctx = Context(request, params, slots)
                    kwargs = await plan.solve(ctx)
                if is_async:
                    value = await func(**kwargs)
                elif inline_sync:
                    value = func(**kwargs)
                else:
                    value = await run_in_pool(func, **kwargs)
                if no_body and not isinstance(value, Response):
                    value = Response(None, status)
                opened = holder[0]
                plain = (opened is None or opened._session is None) and (
                    ctx is None or (ctx.response is None and ctx.background is None)
                )
                if encoder is not None and not isinstance(value, Response):
                    body = encoder.encode(value)
                    if plain:
                        await _send_json(scope, send, status, body)
                        return
                    value = Response(body, status, media_type=_JSON_TYPE)
                kind = type(value)
                if (kind is dict or kind is list) and plain:
                    # PERF: the common JSON return skips the Response object entirely.
                    await _send_json(scope, send, status, dumps(value))
                    return
                if value is None and none_is_empty:
                    response = Response(None, 204 if status == 200 else status)
                elif isinstance(value, Response):
                    response = value
                else:
                    response = to_response(value, status)
                if ctx is not None:
                    if ctx.response is not None:
                        response.merge_from(ctx.response)
                    if ctx.background is not None and response.background is None:
                        response.background = ctx.background
            except Exception as exc:
                failure = exc
                response = await errors.response_for(_request_of(holder), exc)
            opened = holder[0]
            if opened is not None and opened._session is not None:
                await opened.save_session_async(response)
            await response(scope, receive, send)
        finally:
            opened = holder[0]
            created = opened._request if opened is not None else holder[2]
            # Uploaded files live until the response is sent, however it was produced.
            if created is not None and created._form is not None:
                await created.close()
            if ctx is not None and ctx.stack is not None:
                await _teardown(ctx, failure)
            reset_context(token)

    async def endpoint(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        # PERF: handlers that take only path values never touch a Request object; the
        # context locals build one on first use if the handler asks for ``request``.
        request = Request(scope, receive, limits) if needs_request else None
        holder = [None, app, request, scope, receive, limits]
        token = set_context(holder)
        scope["route"] = route
        # One request, one thread for its sync hooks and view, as in Flask.
        lease = await acquire_lease() if pinned else None
        if async_sessions:
            await _open_session_now(holder)
        ctx: Context | None = None
        failure: BaseException | None = None
        try:
            try:
                value: Any = None
                for hook in before:
                    value = await hook()
                    if value is not None:
                        break
                if value is None:
                    # PERF: the common shapes skip the general solver: no arguments, only
                    # converted path values, or one validation call for a handler without
                    # dependencies, body or form.
                    if no_args:
                        kwargs: dict[str, Any] = {}
                    elif path_only:
                        kwargs = params
                    elif simple:
                        ctx = Context(request, params, 1)
                        bound = bind_simple(ctx)
                        if bound is None:
                            raise RequestValidationError(ctx.errors)
                        kwargs = bound
                    else:
                        ctx = Context(request, params, slots)
                        kwargs = await plan.solve(ctx)
                    if is_async:
                        value = await func(**kwargs)
                    elif inline_sync:
                        value = func(**kwargs)
                    else:
                        value = await run_in_pool(func, **kwargs)
                    # The response model applies to what the handler returned (a value a
                    # before_request hook answers with is sent as it is, as in Flask).
                    if no_body and not isinstance(value, Response):
                        value = Response(None, status)
                    elif encoder is not None and not isinstance(value, Response):
                        body = encoder.encode(value)
                        if (
                            fast_json
                            and (holder[0] is None or holder[0]._session is None)
                            and (ctx is None or (ctx.response is None and ctx.background is None))
                        ):
                            await _send_json(scope, send, status, body)
                            return
                        value = Response(body, status, media_type=_JSON_TYPE)
                kind = type(value)
                if (
                    (kind is dict or kind is list)
                    and fast_json
                    and (holder[0] is None or holder[0]._session is None)
                    and (ctx is None or (ctx.response is None and ctx.background is None))
                ):
                    # PERF: the common JSON return skips the Response object entirely.
                    await _send_json(scope, send, status, dumps(value))
                    return
                if value is None and none_is_empty:
                    response = Response(None, 204 if status == 200 else status)
                elif isinstance(value, Response):
                    response = value
                else:
                    response = to_response(value, status)
                if ctx is not None:
                    if ctx.response is not None:
                        response.merge_from(ctx.response)
                    if ctx.background is not None and response.background is None:
                        response.background = ctx.background
            except Exception as exc:
                failure = exc
                response = await errors.response_for(_request_of(holder), exc)
            if after:
                response = await _after_request(after, response, errors, _request_of(holder))
            opened = holder[0]
            if opened is not None and opened._session is not None:
                await opened.save_session_async(response)
            await response(scope, receive, send)
        finally:
            try:
                # Flask's teardown_request sees only errors nothing handled.
                unhandled = None if failure is None or errors.handles(failure) else failure
                for hook in teardown:
                    await _teardown_hook(hook, unhandled)
                # Uploaded files live until the response is sent, however it was produced.
                opened = holder[0]
                created = opened._request if opened is not None else holder[2]
                if created is not None and created._form is not None:
                    await created.close()
                if ctx is not None and ctx.stack is not None:
                    await _teardown(ctx, failure)
            finally:
                if lease is not None:
                    release_lease(lease)
                reset_context(token)

    return endpoint if hooks else plain_endpoint


def compile_refusal(
    app: Any, hooks: Hooks, errors: ExceptionHandlers, limits: Limits
) -> Callable[[Scope, Receive, Send, HTTPException], Awaitable[None]]:
    """How the app answers a request no route takes: as Flask does, the app-level
    ``before_request`` hooks run first (one may answer instead), then the error handler,
    ``after_request``, the session save and ``teardown_request`` -- with ``request``,
    ``session`` and ``g`` usable throughout (an error page may render a template)."""
    set_context, reset_context = _current.set, _current.reset

    async_sessions = _has_async_sessions(app)

    async def refuse(scope: Scope, receive: Receive, send: Send, exc: HTTPException) -> None:
        holder: list[Any] = [None, app, None, scope, receive, limits]
        token = set_context(holder)
        try:
            if async_sessions:
                await _open_session_now(holder)
            response: Response | None = None
            try:
                for hook in hooks.before:
                    value = await hook()
                    if value is not None:
                        response = to_response(value)
                        break
            except Exception as hook_error:
                response = await errors.response_for(_request_of(holder), hook_error)
            if response is None:
                response = await errors.response_for(_request_of(holder), exc)
            if hooks.after:
                response = await _after_request(hooks.after, response, errors, _request_of(holder))
            opened = holder[0]
            if opened is not None and opened._session is not None:
                await opened.save_session_async(response)
            await response(scope, receive, send)
        finally:
            try:
                for hook in hooks.teardown:
                    await _teardown_hook(hook, None)
            finally:
                reset_context(token)

    return refuse


def _has_async_sessions(app: Any) -> bool:
    interface = getattr(app, "_session_interface", None)
    return bool(getattr(interface, "is_async", False))


async def _open_session_now(holder: list[Any]) -> None:
    from kettle.globals import RequestContext

    ctx = holder[0] = RequestContext.for_dispatch(holder[1], holder[2], tuple(holder[3:6]))
    await ctx.open_session_async()


def _request_of(holder: list[Any]) -> Request:
    """The request of a dispatch context holder, created (and shared) if none exists yet."""
    opened = holder[0]
    if opened is not None:
        return opened.request  # type: ignore[no-any-return]
    request = holder[2]
    if request is None:
        request = holder[2] = Request(holder[3], holder[4], holder[5])
    return request  # type: ignore[no-any-return]


async def _after_request(
    hooks: tuple[Any, ...], response: Response, errors: ExceptionHandlers, request: Request
) -> Response:
    """Run ``after_request`` hooks; each must return the response (Flask's contract)."""
    try:
        for hook in hooks:
            result = await hook(response)
            if not isinstance(result, Response):
                raise TypeError(
                    f"after_request hook {getattr(hook, '__name__', hook)!r} must return the "
                    f"response, not {type(result).__name__}"
                )
            response = result
    except Exception as exc:
        return await errors.response_for(request, exc)
    return response


async def _teardown_hook(hook: Any, failure: BaseException | None) -> None:
    try:
        await hook(failure)
    except Exception:
        logger.exception("Error in a teardown_request hook")


async def _send_json(scope: Scope, send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": _START,
            "status": status,
            "headers": [_JSON, (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": _BODY, "body": b"" if scope["method"] == "HEAD" else body})


async def _teardown(ctx: Context, failure: BaseException | None) -> None:
    """Close ``yield`` dependencies, newest first, showing them the handler's exception."""
    assert ctx.stack is not None
    try:
        if failure is None:
            await ctx.stack.aclose()
        else:
            await ctx.stack.__aexit__(type(failure), failure, failure.__traceback__)
    except Exception as exc:
        if exc is not failure:
            logger.exception("Error in the teardown of a dependency")


def compile_websocket_endpoint(route: Route, plan: RoutePlan, limits: Limits) -> Endpoint:
    """The connection-time closure for one WebSocket route."""
    spec = plan.spec
    if not spec.is_async:
        raise ConfigurationError(f"{describe(spec.func)}: a WebSocket handler must be 'async def'")
    if plan.body is not None or plan.form is not None:
        raise ConfigurationError(
            f"{describe(spec.func)}: a WebSocket handler cannot take a body or form parameter"
        )
    func = spec.func
    slots = len(plan.steps)

    async def endpoint(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        ws = WebSocket(scope, receive, send, limits)
        ctx = Context(ws, params, slots)
        failure: BaseException | None = None
        try:
            kwargs = await plan.solve(ctx)
            await func(**kwargs)
        except WebSocketDisconnect:
            pass
        except WebSocketClose as exc:
            await ws.close(exc.code, exc.reason)
        except HTTPException as exc:
            failure = exc
            # Before the handshake completes, a close rejects the connection (HTTP 403).
            detail = exc.detail if isinstance(exc.detail, str) else "Invalid request"
            await ws.close(1011 if exc.status_code >= 500 else 1008, detail)
        except Exception as exc:
            failure = exc
            logger.exception("Unhandled error in WebSocket handler %s", route.name)
            await ws.close(1011, "Internal error")
        else:
            await ws.close(1000)
        finally:
            if ctx.stack is not None:
                await _teardown(ctx, failure)

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
    refuse_with = compiled.refuse
    # PERF: with no custom handler for 404 (and no app hooks) a miss sends a prebuilt
    # response (6.2 -> 1.9 us).
    not_found = (
        None
        if errors.customized(404) or refuse_with is not None
        else JSONResponse({"detail": "Not Found"}, 404)
    )

    async def _refuse(
        scope: Scope, receive: Receive, send: Send, errors: ExceptionHandlers, exc: HTTPException
    ) -> None:
        if scope["type"] == "websocket":
            await _close_websocket(receive, send)
        elif refuse_with is not None:
            await refuse_with(scope, receive, send, exc)
        else:
            response = await errors.response_for(Request(scope, receive), exc)
            await response(scope, receive, send)

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
        headers = scope["headers"]
        if len(headers) > max_headers:
            exc = HTTPException(431, "Too many headers")
            return await _refuse(scope, receive, send, errors, exc)
        # RFC 9112 3.2: more than one Host is a 400, whatever server is in front (a proxy
        # and the app picking different ones is how cache poisoning starts).
        # PERF: one pass over the header names, ~0.1 us for a typical request.
        seen_host = False
        for name, _ in headers:
            if name == b"host":
                if seen_host:
                    exc = HTTPException(400, "Duplicate Host header")
                    return await _refuse(scope, receive, send, errors, exc)
                seen_host = True
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
