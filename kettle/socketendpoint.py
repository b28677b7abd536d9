"""The connection-time function of a WebSocket route.

The WebSocket counterpart of :func:`kettle.dispatch.compile_endpoint`, which dispatch
calls the same way: the handler's dependencies solved for the connection, the handler
awaited, and every way a connection ends turned into a close code (or, on servers with
the denial-response extension, an HTTP answer to a refused handshake), then the ``yield``
dependencies closed.
"""

from __future__ import annotations

import logging
from typing import Any

from kettle.di import CallState, teardown, teardown_scope
from kettle.dispatch import Endpoint
from kettle.errorhandlers import hand_to_test_client
from kettle.exceptions import ConfigurationError, HTTPException, WebSocketDisconnect
from kettle.introspection import describe
from kettle.limits import Limits
from kettle.plan import RoutePlan
from kettle.responses import dumps
from kettle.routing.routes import Route
from kettle.types import Receive, Scope, Send
from kettle.websockets import WebSocket, WebSocketClose, WebSocketState

logger = logging.getLogger("kettle.error")

_DENIAL = "websocket.http.response"


def compile_websocket_endpoint(route: Route, plan: RoutePlan, limits: Limits) -> Endpoint:
    """The connection-time function for one WebSocket route."""
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
        scope["route"] = route  # as for HTTP: tracing and metrics name the route template
        ws = WebSocket(scope, receive, send, limits)
        state = CallState(ws, params, slots)
        # A server with the denial-response extension can answer a refused handshake
        # with the error's own status and headers (a 401 with WWW-Authenticate, say).
        deny = _DENIAL in (scope.get("extensions") or ())
        failure: BaseException | None = None
        try:
            kwargs = await plan.solve(state)
            await func(**kwargs)
        except WebSocketDisconnect as exc:
            # The client left: nothing to answer. FastAPI's test client re-raises it.
            hand_to_test_client(scope, exc)
        except WebSocketClose as exc:
            await ws.close(exc.code, exc.reason)
        except HTTPException as exc:
            failure = exc
            if ws.application_state is WebSocketState.CONNECTING and deny:
                await _deny_handshake(ws, exc)
            else:
                # Before the handshake completes, a close rejects the connection (HTTP 403).
                detail = exc.detail if isinstance(exc.detail, str) else "Invalid request"
                await ws.close(1011 if exc.status_code >= 500 else 1008, detail)
        except Exception as exc:
            failure = exc
            logger.exception("Unhandled error in WebSocket handler %s", route.name)
            await ws.close(1011, "Internal error")
            hand_to_test_client(scope, exc)
        except BaseException as exc:
            # A cancellation (the server shutting down, a task group's): a failure for the
            # `yield` dependencies, never a connection that ended well.
            failure = exc
            raise
        else:
            await ws.close(1000)
        finally:
            with teardown_scope(failure):
                await teardown(state, failure)

    return endpoint


async def _deny_handshake(ws: WebSocket, exc: HTTPException) -> None:
    """Refuse a WebSocket handshake with an HTTP response: the exception's status, its
    headers and ``{"detail": ...}``, as an HTTP route would answer."""
    body = dumps({"detail": exc.detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    for name, value in (exc.headers or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    await ws.send(
        {"type": "websocket.http.response.start", "status": exc.status_code, "headers": headers}
    )
    await ws.send({"type": "websocket.http.response.body", "body": body})
