"""Liveness and readiness probes for a load balancer or an orchestrator: :class:`Health`.

* ``GET /healthz`` (liveness): ``200`` while the process serves at all. It never runs
  the checks: a database outage must not get every worker restarted.
* ``GET /readyz`` (readiness): ``503`` until the app's lifespan startup has finished,
  ``503`` from the moment the worker starts draining for shutdown (:mod:`kettle.draining`,
  SIGTERM under ``kettle run``) or its lifespan shutdown begins; otherwise ``200`` if every
  readiness check passes within its timeout, else ``503`` with a small JSON body naming
  the checks that failed.

The probes answer before routing, hooks, sessions and authentication (a probe must not
need a login), and are not in the OpenAPI document unless asked
(``include_in_schema=True``). Any other request pays one dict lookup of its path.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson

from kettle.draining import DRAIN, Drain
from kettle.exceptions import ConfigurationError
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Check", "Health"]

logger = logging.getLogger("kettle.error")

#: A readiness check: a function (``async`` or not) that raises or returns ``False`` when
#: the worker should get no traffic. A plain ``def`` runs in a thread.
Check = Callable[[], Any]
C = TypeVar("C", bound=Check)

_LIVE = "live"
_READY = "ready"
_LIFESPAN = "lifespan"


class Health:
    """Opt-in ``/healthz`` and ``/readyz`` for an app, with readiness checks.

    Args:
        app: the app to serve them for (or call :meth:`init_app` later); for any other
            ASGI app, wrap it: ``asgi_app = Health().wrap(asgi_app)``.
        checks: readiness checks by name (more with :meth:`check`).
        health_path, ready_path: the probes' paths; ``None`` turns one off.
        timeout: seconds each check may take before it counts as failed.
        drain: the drain whose state readiness follows (the process's, by default).
        include_in_schema: describe the probes in the app's OpenAPI document (as routes
            tagged ``health``; the middleware still answers them first).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.health import Health
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> health = Health(app)
        >>> @health.check("database")
        ... async def database() -> bool:
        ...     return True   # e.g. run "SELECT 1" on the engine
        >>> with TestClient(app) as client:
        ...     client.get("/healthz").json(), client.get("/readyz").json()
        ({'status': 'ok'}, {'status': 'ready', 'checks': {'database': 'ok'}})
    """

    def __init__(
        self,
        app: Any = None,
        *,
        checks: Mapping[str, Check] | None = None,
        health_path: str | None = "/healthz",
        ready_path: str | None = "/readyz",
        timeout: float = 2.0,
        drain: Drain = DRAIN,
        include_in_schema: bool = False,
    ) -> None:
        for path in (health_path, ready_path):
            if path is not None and not path.startswith("/"):
                raise ConfigurationError(f"Health: the probe path {path!r} must start with '/'")
        if health_path is not None and health_path == ready_path:
            raise ConfigurationError("Health: health_path and ready_path must differ")
        if timeout <= 0:
            raise ConfigurationError("Health: timeout is a number of seconds above 0")
        self.health_path = health_path
        self.ready_path = ready_path
        self.timeout = timeout
        self.drain = drain
        self.include_in_schema = include_in_schema
        self.checks: dict[str, tuple[Check, float]] = {}
        for name, func in (checks or {}).items():
            self.add_check(name, func)
        #: The lifespan startup finished (and its shutdown has not begun).
        self.started = False
        #: The lifespan shutdown began.
        self.stopping = False
        # The one lookup every request makes: its path, or None (a lifespan scope has none).
        self._routes: dict[str | None, str] = {None: _LIFESPAN}
        if health_path is not None:
            self._routes[health_path] = _LIVE
        if ready_path is not None:
            self._routes[ready_path] = _READY
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Answer the probes for ``app`` (a kettle app: added as its outermost middleware
        so far, so add it last to answer before the others)."""
        app.add_middleware(self.wrap)
        if self.include_in_schema:
            self._document(app)

    def _document(self, app: Any) -> None:
        # Routes for the document only: the middleware answers these paths before
        # routing, so the handlers run only if it is taken out of the stack.
        async def liveness() -> dict[str, str]:
            return {"status": "ok"}

        async def readiness() -> Any:
            from kettle.responses import JSONResponse

            status, body = await self.readiness()
            return JSONResponse(body, status)

        if self.health_path is not None:
            app.get(self.health_path, tags=["health"], summary="Liveness", name="healthz")(liveness)
        if self.ready_path is not None:
            not_ready = {503: {"description": "Not ready: starting, draining or failing"}}
            app.get(
                self.ready_path,
                tags=["health"],
                summary="Readiness",
                name="readyz",
                responses=not_ready,
            )(readiness)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` with the probes in front of it (what :meth:`init_app` adds)."""
        return _HealthMiddleware(app, self)

    def add_check(self, name: str, func: Check, *, timeout: float | None = None) -> None:
        """Add a readiness check: ``func()`` raises or returns ``False`` when not ready."""
        if not name or not callable(func):
            raise ConfigurationError("Health: a check is a name and a callable")
        if name in self.checks:
            raise ConfigurationError(f"Health: there already is a check named {name!r}")
        if timeout is not None and timeout <= 0:
            raise ConfigurationError("Health: timeout is a number of seconds above 0")
        self.checks[name] = (func, timeout or self.timeout)

    def check(self, name: str, *, timeout: float | None = None) -> Callable[[C], C]:
        """Decorator form of :meth:`add_check`: ``@health.check("database")``."""

        def decorator(func: C) -> C:
            self.add_check(name, func, timeout=timeout)
            return func

        return decorator

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """The readiness answer now: its status code and its JSON body."""
        if self.drain.draining or self.stopping:
            return 503, {"status": "draining"}
        if not self.started:
            return 503, {"status": "starting"}
        if not self.checks:
            return 200, {"status": "ready"}
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(name) for name in names))
        outcome = dict(zip(names, results, strict=True))
        if all(result == "ok" for result in results):
            return 200, {"status": "ready", "checks": outcome}
        failed = [name for name, result in outcome.items() if result != "ok"]
        return 503, {"status": "failing", "failed": failed, "checks": outcome}

    async def _run(self, name: str) -> str:
        func, timeout = self.checks[name]
        try:
            async with asyncio.timeout(timeout):
                if inspect.iscoroutinefunction(func):
                    result = await func()
                else:
                    # Not the app's thread pool: a hung check is abandoned at its timeout
                    # (its thread runs on), it never holds a request's worker thread.
                    loop = asyncio.get_running_loop()
                    result = await loop.run_in_executor(None, func)
                    if isinstance(result, Awaitable):
                        result = await result
        except TimeoutError:
            logger.warning("Readiness check %r timed out after %gs", name, timeout)
            return "timeout"
        except Exception as exc:
            # Only the exception's type: its text may hold a URL with a password.
            logger.warning("Readiness check %r failed: %s", name, type(exc).__name__)
            return "error"
        return "failed" if result is False else "ok"


_NO_STORE = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_ALLOW = [(b"allow", b"GET, HEAD"), *_NO_STORE]


class _HealthMiddleware:
    """The probes in front of one ASGI app (built by :meth:`Health.wrap`)."""

    __slots__ = ("app", "health", "routes")

    def __init__(self, app: ASGIApp, health: Health) -> None:
        self.app = app
        self.health = health
        self.routes = health._routes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # PERF: one dict lookup of the path for every other request, and the app's own
        # coroutine handed back instead of awaited (no extra frame per request): 3.46-3.57
        # against 3.41-3.47 us a request for a pass-through middleware, in process. (An
        # app's first middleware, this or any, also brings ServerErrorMiddleware: ~0.9 us.)
        kind = self.routes.get(scope.get("path"))
        if kind is None:
            return self.app(scope, receive, send)
        if kind is _LIFESPAN:
            return self._lifespan(scope, receive, send)
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._probe(kind is _READY, scope, send)

    async def _probe(self, ready: bool, scope: Scope, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, {"detail": "Method Not Allowed"}, _ALLOW, method)
            return
        if ready:
            status, body = await self.health.readiness()
        else:
            status, body = 200, {"status": "ok"}
        await _answer(send, status, body, _NO_STORE, method)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        health = self.health

        async def lifespan_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                health.stopping = True
            return message

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                health.started, health.stopping = True, False
            await send(message)

        await self.app(scope, lifespan_receive, lifespan_send)


async def _answer(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]], method: str
) -> None:
    content = orjson.dumps(body)
    length = (b"content-length", str(len(content)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})
