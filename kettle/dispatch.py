"""The request path: one lifecycle for every HTTP request, routed or not.

``make_dispatch`` matches the request and hands it to its route's endpoint. Every endpoint
is the same function, :func:`compile_endpoint`'s ``endpoint``, specialised at startup to
one route (its plan, hooks and error handlers). Requests no route takes (400, 404, 405,
431, the trailing-slash redirect, automatic ``OPTIONS``) run the same function too
(:func:`compile_unrouted`), with a plan whose handler returns or raises the answer
dispatch hands it. A request goes:

1. context: one :class:`~kettle.context.RequestContext`, set as the current context;
2. ``before_request`` hooks (an empty tuple for most routes); a value one returns is the
   answer;
3. the handler, called with the arguments ``plan.arguments(ctx, path_values)`` gives
   (awaited when ``plan.binder_awaits``), then ``plan.encode(value)``;
4. an exception anywhere in 2-3 becomes a response through the error handlers;
5. ``after_request`` hooks, the session saved into the response, the response sent;
6. teardown, whatever happened (a cancellation too, shielded from it):
   ``teardown_request`` hooks, uploaded files closed, ``yield`` dependencies closed
   (newest first), the context reset (``kettle.hooks.tear_down``).

Background tasks run inside step 5, after the body is sent (``Response.__call__``).

What does not run this lifecycle: a mounted ASGI app (its own), a WebSocket route
(:mod:`kettle.socketendpoint`), and the prebuilt 404 of an app where nothing could see a
miss (no app-wide hook, no 404 handler, no request-signal receiver). The automatic
``OPTIONS`` answer and a route with ``defaults`` are thin wrappers around an endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from orjson import JSONEncodeError
from orjson import dumps as orjson_dumps

from kettle import requestsignals
from kettle.concurrency import ThreadPool
from kettle.connectionerrors import ClientDisconnect
from kettle.context import RequestContext, request_class
from kettle.context import current as _current
from kettle.di import CallState, unwind
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
)
from kettle.hooks import Hooks, run_after_request, run_before_request, tear_down
from kettle.limits import Limits
from kettle.plan import RoutePlan
from kettle.requests import Request
from kettle.responses import (
    LENGTH_HEADERS,
    SHORT_BODY,
    Response,
    dumps,
    json_default,
)
from kettle.routing.matcher import Matcher
from kettle.routing.rootpath import route_path
from kettle.routing.routes import WEBSOCKET, Route
from kettle.signals import lifecycle
from kettle.signature import analyze
from kettle.types import Receive, Scope, Send

Endpoint = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_JSON_TYPE = "application/json"
_START = "http.response.start"
_BODY = "http.response.body"


@dataclass(frozen=True, slots=True)
class DispatchTable:
    """What dispatch reads, built once by the compile step (``compiler.Build.finish``)."""

    matcher: Matcher[Endpoint]
    limits: Limits
    redirect_slashes: bool
    #: answers every HTTP request no route takes (400, 404, 405, 431, the trailing-slash
    #: redirect, automatic OPTIONS) through the same lifecycle as a route, so the app's
    #: hooks, error handlers and context locals see them; :func:`compile_unrouted`
    unrouted: Endpoint
    #: a prebuilt 404 when nothing app-wide can see a miss (no app hooks, no 404 handler;
    #: dispatch checks for request-signal receivers, which can connect at any time)
    prebuilt_404: Response | None = None
    #: ``(path, asgi_app)`` of the mounted apps, the longest path first
    mounts: tuple[tuple[str, Any], ...] = ()
    #: the status of the trailing-slash redirect (308; FastAPI apps: 307)
    redirect_status: int = 308
    #: the host part the matcher routes on before the path (``routing/hosts.py``); None
    #: for apps without subdomain or host matching, which route on the path alone
    host_key: Callable[[Scope], str | None] | None = None


def compile_endpoint(
    route: Route | None,
    plan: RoutePlan,
    limits: Limits,
    pool: ThreadPool,
    hooks: Hooks,
    errors: ExceptionHandlers,
    app: Any,
    invoke: Callable[..., Awaitable[Any]] | None = None,
) -> Endpoint:
    """The request-time function for one HTTP route (``route=None``: unrouted requests).

    ``invoke`` replaces how the handler is called (a generator handler's stream).
    """
    if invoke is None:
        invoke = _invoker(plan, route, pool)
    # The handler's arguments come from the plan's binder (awaited when it reads the body
    # or solves dependencies); what it returns goes to the plan's encoder.
    arguments, awaits, encode, status = (
        plan.arguments,
        plan.binder_awaits,
        plan.encode,
        plan.status,
    )
    no_inputs = plan.takes_no_inputs
    # the plan solves dependencies: the request's ``ctx.call`` holds their state, whose
    # yield dependencies teardown closes
    stateful = plan.keeps_call_state
    wrapped = route is not None and type(route).get_route_handler is not Route.get_route_handler
    if route is not None and wrapped:
        # The route class's wrapper binds, calls and encodes (plan.caller) inside the
        # handler it wraps: dispatch calls that without arguments.
        invoke = _wrapped_by_route_class(route, plan.caller(invoke), encode, status)
        no_inputs = True
        # ...which also closes the function scope and shapes the response: dispatch does
        # neither after it (the wrapper may answer without calling the handler at all)
        stateful = False
    # the encoder sends a returned dict or list as JSON as it is
    plain_data = plan.encodes_plain_data
    before, after, teardown_hooks = hooks.before, hooks.after, hooks.teardown
    # The app's request class, decided here. A request object is built with the context
    # when the binder reads it, else only on first use (a handler taking no inputs, or a
    # route class's wrapper, which hands its own to the binder).
    with_request = plan.reads_request and not wrapped
    new_context = RequestContext.for_dispatch(app, limits, request_class(app), with_request)
    set_context, reset_context = _current.set, _current.reset
    # A session store doing I/O is loaded up front: the lazy `session` proxy cannot await.
    interface = getattr(app, "session_interface", None)
    async_sessions = bool(getattr(interface, "is_async", False))
    # SESSION_REFRESH_EACH_REQUEST: a request carrying cookies has its session opened (so
    # a permanent one's cookie is renewed) even when the handler does not touch it.
    refreshes = getattr(interface, "refreshes_each_request", None)
    refresh = bool(refreshes(app)) if refreshes is not None else False
    # PERF: the JSON bytes the encoder makes (a returned dict or list, a response model's
    # output) are sent without building a Response object (~0.6 us per request) when
    # nothing else has to see or change the response: no after_request hooks (this flag),
    # and per request no after_this_request function, no signal receivers, no session
    # opened or to be renewed, no status/headers/cookies set by a dependency.
    fast_json = not after
    # One request, one thread for its sync hooks, view and teardown, as in Flask: code
    # keeps per-thread state (a database connection on `g`) from before_request on.
    pinned = hooks.sync
    acquire_lease, release_lease = pool.acquire_lease, pool.release_lease

    async def endpoint(scope: Scope, receive: Receive, send: Send, params: dict[str, Any]) -> None:
        ctx = new_context(scope, receive)
        # The thread is leased before the context is set: nothing to undo if this waits
        # and is cancelled.
        lease = await acquire_lease() if pinned else None
        token = set_context(ctx)
        scope["route"] = route
        failure: BaseException | None = None
        plain_json: bytes | None = None  # what the fast JSON path sends
        # PERF: one attribute read while no signal sent around requests has receivers.
        signalling = lifecycle.connected
        # SESSION_REFRESH_EACH_REQUEST: whether this request's session is to be renewed
        renew = refresh and _has_cookies(scope)
        try:
            try:
                if signalling:
                    requestsignals.started(app)
                if async_sessions:
                    await ctx.open_session_async()
                if before and (answer := await run_before_request(before)) is not None:
                    response = answer
                else:
                    # PERF: the handler is called here, not through the plan's caller
                    # (``plan.caller``, one coroutine frame less: ~0.1 us of a request
                    # with a body).
                    if no_inputs:
                        value = await invoke()
                    else:
                        kwargs = arguments(ctx, params)
                        value = await invoke(**(await kwargs if awaits else kwargs))  # type: ignore[misc,arg-type]
                    # PERF: only a plan solving dependencies has a call state to look at
                    # (`state` and `shaped` exist only then: every use below tests it).
                    if stateful:
                        state: CallState = ctx.call  # type: ignore[assignment]  # the binder's
                        if state.function_stack is not None:
                            await state.close_function_scope()
                        shaped = state.shapes_response
                    if plain_data and ((kind := type(value)) is dict or kind is list):
                        # PERF: the encoder's first step, inlined, and orjson called
                        # without `dumps` around it (~40 ns); `dumps` writes what orjson
                        # refuses (integers over 64 bits, keys that are not strings).
                        try:
                            value = orjson_dumps(value, default=json_default)
                        except JSONEncodeError:
                            value = dumps(value)
                    elif not isinstance(value, Response):
                        value = encode(value)
                    if type(value) is not bytes:
                        response = value
                    elif (
                        fast_json
                        and not signalling
                        and not renew
                        and not (stateful and shaped)
                        and ctx.loaded_session is None
                        and ctx.after_this is None
                    ):
                        plain_json = value  # sent below, once errors can no longer occur
                    else:
                        response = Response(value, status, media_type=_JSON_TYPE)
                    if stateful and shaped:
                        state.apply_to(response)
            except Exception as exc:
                failure = exc
                call = ctx.call
                if call is not None and (call.stack is not None or call.function_stack is not None):
                    unwound = await unwind(call, exc)
                    if not isinstance(unwound, Exception):
                        raise unwound from exc
                    failure = unwound
                response = await errors.response_for(ctx.request, failure)
            if plain_json is not None:
                # Sent here rather than by a helper coroutine: one frame less (~0.15 us).
                # Sealed first, as below: teardown code that touches the session must not
                # write to it unnoticed.
                ctx.sealed = True
                length = len(plain_json)
                try:
                    await send(
                        {
                            "type": _START,
                            "status": status,
                            "headers": [
                                _JSON,
                                LENGTH_HEADERS[length]
                                if length < SHORT_BODY
                                else (b"content-length", b"%d" % length),
                            ],
                        }
                    )
                    await send(
                        {"type": _BODY, "body": b"" if scope["method"] == "HEAD" else plain_json}
                    )
                except Exception as exc:  # the client gone, say: nothing more to answer
                    failure = exc
                    raise
                return
            deferred = ctx.after_this  # after_this_request functions run first
            if after or deferred is not None:
                run = after if deferred is None else (*deferred, *after)
                response = await run_after_request(run, response, errors, ctx.request)
            # PERF: before_send has work only for an opened session or a streamed body.
            if ctx.loaded_session is not None or response.streams or renew:
                try:
                    await ctx.before_send(response, renew)
                except Exception as exc:  # a session that cannot be saved, say
                    failure = exc
                    response = await errors.response_for(ctx.request, exc)
            if signalling:
                try:
                    requestsignals.finished(app, response)
                except Exception as exc:
                    failure = exc
                    response = await errors.response_for(ctx.request, exc)
            ctx.sealed = True
            try:
                await response(scope, receive, send)
            except ClientDisconnect as exc:
                # The client left mid-stream (the response stopped its source): nothing
                # more to send, and teardown sees the request fail.
                failure = exc
            except Exception as exc:  # a streamed body failing after its headers
                failure = exc
                raise
        except BaseException as exc:
            # A cancellation (the client gone, a timeout) or an exit: a failure for
            # teardown and `yield` dependencies, never a request that completed.
            if failure is None:
                failure = exc
            raise
        finally:
            try:
                # PERF: teardown is a coroutine call only for a request with something to
                # tear down (hooks, signal receivers, uploads, `yield` dependencies) or a
                # failure; two attribute reads, not the ``ctx.uploads`` property call.
                request = ctx.created_request
                call = ctx.call
                if (
                    failure is not None
                    or teardown_hooks
                    or signalling
                    or (request is not None and request.parsed_form is not None)
                    or (call is not None and call.stack is not None)
                ):
                    await tear_down(ctx, failure, teardown_hooks, errors, signalling, app)
            finally:
                if lease is not None:
                    release_lease(lease)
                reset_context(token)

    return endpoint


def _has_cookies(scope: Scope) -> bool:
    """Whether the request carries a ``Cookie`` header (a session may need renewing)."""
    return any(name == b"cookie" for name, _ in scope["headers"])


def _wrapped_by_route_class(
    route: Route,
    run_handler: Callable[[Any, dict[str, Any]], Awaitable[Any]],
    encode: Callable[[Any], Any],
    status: int,
) -> Callable[[], Awaitable[Any]]:
    """The handler step of a route whose class overrides ``get_route_handler``: the
    route's own ``await handler(request) -> Response`` (parameters bound from the request
    it is given, so a wrapper may pass a request subclass), wrapped by the class once."""

    async def handle(request: Request) -> Response:
        ctx = _current.get()
        # The request the wrapper hands over is the one parameters are read from and the
        # handler's `request` parameter is.
        ctx.created_request = request
        value = await run_handler(ctx, request.scope.get("path_params") or {})
        call = ctx.call
        if call is not None and call.function_stack is not None:
            await call.close_function_scope()
        if not isinstance(value, Response):
            value = encode(value)
            if value.__class__ is bytes:
                value = Response(value, status, media_type=_JSON_TYPE)
        # As in FastAPI, the wrapper gets the response with what dependencies set on their
        # `Response` parameter already on it (taken from the call state: not again later).
        if call is not None and call.shapes_response:
            call.apply_to(value)
        return value  # type: ignore[no-any-return]

    route.compiled_handler = handle
    wrapped = route.get_route_handler()

    def run() -> Awaitable[Any]:
        return wrapped(_current.get().request)

    return run


def _invoker(
    plan: RoutePlan, route: Route | None, pool: ThreadPool
) -> Callable[..., Awaitable[Any]]:
    """How the handler is called: awaited (``async def``), called on the loop (a plain
    ``def`` route with ``sync_to_thread=False``), or run in the thread pool."""
    func = plan.spec.func
    if plan.spec.is_async:
        return func
    if route is not None and not route.sync_to_thread:
        return _inline(func)
    return _in_pool(func, pool)


def _inline(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def inline(**kwargs: Any) -> Any:
        return func(**kwargs)

    return inline


def _in_pool(func: Callable[..., Any], pool: ThreadPool) -> Callable[..., Awaitable[Any]]:
    run = pool.run

    async def in_pool(**kwargs: Any) -> Any:
        return await run(func, **kwargs)

    return in_pool


def compile_unrouted(
    app: Any, hooks: Hooks, errors: ExceptionHandlers, limits: Limits, pool: ThreadPool
) -> Endpoint:
    """How the app answers a request no route takes, through the same lifecycle as a
    route: as in Flask, the app-level ``before_request`` hooks run first (one may answer
    instead), then the answer (an ``HTTPException`` through the error handlers, or the
    redirect or ``OPTIONS`` response), ``after_request``, the session save and
    ``teardown_request``, with ``request``, ``session`` and ``g`` usable throughout (an
    error page may render a template). Call it with ``params={"answer": ...}``."""
    spec = analyze(_answer_unrouted, ["answer"], [], {})
    return compile_endpoint(None, RoutePlan(spec, pool), limits, pool, hooks, errors, app)


async def _answer_unrouted(answer: Any) -> Response:
    """The handler of unrouted requests: the ``answer`` dispatch hands over (typed
    ``Any``: it is never read from a request), a response to send or an exception to raise
    for the error handlers."""
    if isinstance(answer, Response):
        return answer
    raise answer


def make_dispatch(
    table: DispatchTable, lifespan: Callable[[Scope, Receive, Send], Awaitable[None]]
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI callable for HTTP, WebSocket and lifespan scopes."""
    match = table.matcher.match
    match_pattern = table.matcher.match_pattern
    static = table.matcher.static
    allowed_methods = table.matcher.allowed_methods
    max_headers = table.limits.max_headers
    redirect_slashes = table.redirect_slashes
    redirect_status = table.redirect_status
    unrouted = table.unrouted
    # PERF: when nothing app-wide sees a miss, a 404 is a prebuilt response (6.2 -> 1.9 us
    # when measured).
    not_found = table.prebuilt_404
    mounts = table.mounts
    host_key = table.host_key

    async def _refuse(scope: Scope, receive: Receive, send: Send, answer: Any) -> None:
        if scope["type"] == "websocket":
            await _close_websocket(send)
        else:
            await unrouted(scope, receive, send, {"answer": answer})

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
        if root_path:
            path = route_path(path, root_path)
        if path[:1] != "/":
            return await _refuse(scope, receive, send, HTTPException(400, "Invalid request target"))
        headers = scope["headers"]
        if len(headers) > max_headers:
            return await _refuse(scope, receive, send, HTTPException(431, "Too many headers"))
        # RFC 9112 3.2: more than one Host is a 400, whatever server is in front (a proxy
        # and the app picking different ones is how cache poisoning starts).
        # PERF: one pass over the header names, ~0.1 us for a typical request.
        seen_host = False
        for name, _ in headers:
            if name == b"host":
                if seen_host:
                    exc = HTTPException(400, "Duplicate Host header")
                    return await _refuse(scope, receive, send, exc)
                seen_host = True
        if host_key is None:
            prefix = ""
            key = path
        else:
            found_prefix = host_key(scope)
            if found_prefix is None:
                return await _refuse(scope, receive, send, HTTPException(400, "Invalid Host"))
            prefix = found_prefix
            key = scope["kettle.route_key"] = prefix + path
        # PERF: a static path is found with two dict lookups here, without calling the
        # matcher (~0.07 us of a plaintext request).
        methods = static.get(key)
        if methods is not None:
            endpoint = methods.get(method)
            if endpoint is not None:
                params: dict[str, Any] = {}
                scope["path_params"] = params
                return await endpoint(scope, receive, send, params)
        found = match_pattern(key, method)
        if found is not None:
            endpoint, params = found
            scope["path_params"] = params
            return await endpoint(scope, receive, send, params)
        if mounts:
            for mount_path, mounted in mounts:
                if path == mount_path or path.startswith(mount_path + "/") or not mount_path:
                    child = dict(scope)
                    child.pop("kettle.route_key", None)  # this app's host part, not the child's
                    child["root_path"] = (root_path or "").rstrip("/") + mount_path
                    child["app_root_path"] = scope.get("app_root_path", root_path or "")
                    await mounted(child, receive, send)
                    return
        if method == WEBSOCKET:
            return await _close_websocket(send)
        allowed = allowed_methods(key)
        allowed.discard(WEBSOCKET)
        if allowed:
            # An automatic OPTIONS answer is a route of its own (compile_automatic_options):
            # here OPTIONS is a method the path's routes refused, like any other.
            exc = MethodNotAllowed(headers={"Allow": ", ".join(sorted(allowed))})
            return await _refuse(scope, receive, send, exc)
        if redirect_slashes:
            target = path[:-1] if path.endswith("/") else path + "/"
            # "//host" or "/\host" in a Location header would send the browser off-site.
            if target[:2] not in ("//", "/\\") and target and match(prefix + target, method):
                redirect = _redirect(scope, target, redirect_status)
                return await _refuse(scope, receive, send, redirect)
        # PERF: see `not_found`; a signal receiver sees every request, misses too.
        if not_found is not None and not lifecycle.connected:
            return await not_found(scope, receive, send)
        # NotFound, not a bare 404: Flask handlers check isinstance(e, NotFound).
        return await _refuse(scope, receive, send, NotFound())

    return dispatch


async def _close_websocket(send: Send) -> None:
    # Refusing a handshake: a close before accept becomes an HTTP 403 from the server.
    await send({"type": "websocket.close", "code": 1008, "reason": ""})


def compile_automatic_options(matcher: Matcher[Endpoint], unrouted: Endpoint) -> Endpoint:
    """The ``OPTIONS`` answer of the paths whose routes provide one: ``Allow`` lists the
    path's methods, through the unrouted lifecycle (the app's hooks see it)."""
    allowed = methods_allowed(matcher)

    async def automatic_options(
        scope: Scope, receive: Receive, send: Send, params: dict[str, Any]
    ) -> None:
        answer = Response(None, 200, {"Allow": ", ".join(sorted(allowed(scope)))})
        await unrouted(scope, receive, send, {"answer": answer})

    return automatic_options


def methods_allowed(matcher: Matcher[Endpoint]) -> Callable[[Scope], set[str]]:
    """The HTTP methods the routes of a request's path (and host part) answer."""
    allowed_methods = matcher.allowed_methods

    def allowed(scope: Scope) -> set[str]:
        key = scope.get("kettle.route_key")
        if key is None:
            key = route_path(scope["path"], scope.get("root_path"))
        methods = allowed_methods(key)
        methods.discard(WEBSOCKET)
        return methods

    return allowed


def _redirect(scope: Scope, target: str, status: int) -> Response:
    # A path-absolute Location keeps the client's scheme and host: behind a TLS-terminating
    # proxy an absolute URL built from the scope could downgrade https to http.
    root = scope.get("root_path", "").rstrip("/")
    location = quote(root + target, safe="/:@!$&'()*+,;=-._~")
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    return Response(None, status, {"Location": location})
