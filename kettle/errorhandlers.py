"""Turning exceptions raised while handling a request into responses.

Handlers are registered by status code or by exception class. The table is compiled once;
looking up a handler walks the exception's MRO (cached per exception type), so a handler
for ``LookupError`` also catches ``KeyError``. Status-code handlers apply to
``HTTPException`` instances with that status, and to unhandled errors for 500.

A named HTTP error class stands for its status code, as in Flask: a handler for
``NotFound`` is a handler for 404, so it answers ``abort(404)``, ``HTTPException(404)`` and
unrouted URLs alike (a subclass of your own, ``class ItemMissing(NotFound)``, stays a class).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kettle.concurrency import ThreadPool
from kettle.di import follows_fastapi
from kettle.exceptions import (
    NAMED_ERRORS,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnect,
    ConfigurationError,
    HTTPException,
    InternalServerError,
    RequestValidationError,
)
from kettle.introspection import describe, is_async_callable
from kettle.requests import Request
from kettle.responses import JSONResponse, PlainTextResponse, Response, to_response
from kettle.signals import got_request_exception
from kettle.types import Scope

logger = logging.getLogger("kettle.error")

ExceptionHandler = Callable[..., Any]
_Compiled = Callable[[Request, BaseException], Awaitable[Response]]


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """The default: ``{"detail": ...}`` as JSON with the exception's status and headers
    (or the response the exception carries, sent as it is)."""
    if exc.response is not None:
        return to_response(exc.response, exc.status_code)
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(None, exc.status_code, exc.headers)
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)


async def validation_exception_handler(request: Request, exc: RequestValidationError) -> Response:
    """The default for 422s: ``{"detail": [error, ...]}``, the shape FastAPI clients parse."""
    return JSONResponse({"detail": exc.errors()}, 422)


async def server_error_handler(request: Request, exc: BaseException) -> Response:
    """The default for unhandled errors: a bare 500 that reveals nothing (in a FastAPI
    app, as text, as FastAPI sends it)."""
    if follows_fastapi(request.scope.get("app")):
        return PlainTextResponse("Internal Server Error", 500)
    return JSONResponse({"detail": "Internal Server Error"}, 500)


#: The ASGI extension a test client sets to be handed the errors no handler answered
#: (a list they are appended to), so it can raise them in the test, as FastAPI's does.
SERVER_ERRORS = "kettle.server_errors"


def hand_to_test_client(scope: Scope, exc: BaseException) -> None:
    """Give ``exc``, an error the app answered but that escaped the handler, to the test
    client, if one asked for it (:data:`SERVER_ERRORS`) and the app propagates errors:
    a FastAPI app always, a Flask-style one when :func:`propagates` says so."""
    sink = (scope.get("extensions") or {}).get(SERVER_ERRORS)
    if sink is not None and propagates(scope.get("app")):
        sink.append(exc)


def propagates(app: Any) -> bool:
    """Whether ``app``'s unhandled errors are raised in the test calling it, as Flask's
    are: ``PROPAGATE_EXCEPTIONS`` when set, else in testing mode (read on the error path
    only). A FastAPI app's always are. Debug mode alone does not (Flask's does): it
    answers with the debug page, which tests check as a page."""
    if follows_fastapi(app):
        return True
    config = getattr(app, "config", None)
    if config is None:
        return False
    setting = config.get("PROPAGATE_EXCEPTIONS")
    if setting is not None:
        return bool(setting)
    return bool(config.get("TESTING"))


def check_error_key(key: object) -> None:
    """Refuse, when it is registered, an error-handler key that could never match: only
    an exception class or an error status code (400-599) can.

    Example:
        >>> check_error_key(KeyError), check_error_key(404)
        (None, None)
        >>> check_error_key(list)
        Traceback (most recent call last):
        ...
        ValueError: 'list' is not a subclass of Exception. Use an exception class.
    """
    if isinstance(key, bool) or not isinstance(key, int | type):
        if isinstance(key, BaseException):
            raise TypeError(
                f"{key!r} is an instance, not a class. Register the exception class "
                "itself, or an error status code."
            )
        raise TypeError(f"{key!r} is neither an exception class nor a status code.")
    if isinstance(key, int):
        if not 400 <= key <= 599:
            raise ValueError(
                f"{key} is not an HTTP error status (400-599). Use a subclass of "
                "HTTPException with that code instead."
            )
    elif not issubclass(key, BaseException):
        raise ValueError(
            f"'{key.__qualname__}' is not a subclass of Exception. Use an exception class."
        )


def _trapped(app: Any, exc: HTTPException) -> bool:
    """Whether the app's config makes the HTTP error ``exc`` an unhandled error, raised in
    the test calling it (Flask's ``TRAP_HTTP_EXCEPTIONS``; ``TRAP_BAD_REQUEST_ERRORS`` for
    400s, which when unset traps a missing form key in debug mode). Read on the error path
    only."""
    config = getattr(app, "config", None)
    if config is None or follows_fastapi(app):
        return False
    if config.get("TRAP_HTTP_EXCEPTIONS"):
        return True
    if not isinstance(exc, BadRequest) or isinstance(exc, RequestValidationError):
        return False
    trap = config.get("TRAP_BAD_REQUEST_ERRORS")
    if trap is None:
        return isinstance(exc, BadRequestKeyError) and bool(config.get("DEBUG"))
    return bool(trap)


def _status_of(key: object) -> int | None:
    """The status code a handler's key stands for: a code, or a named error (NotFound: 404)."""
    if isinstance(key, int):
        return key
    code = getattr(key, "code", None)
    if isinstance(code, int) and NAMED_ERRORS.get(code) is key:
        return code
    return None


class ExceptionHandlers:
    """The compiled lookup table from exceptions to response-producing handlers."""

    def __init__(
        self,
        handlers: Mapping[int | type[BaseException], ExceptionHandler],
        pool: ThreadPool,
        debug_handler: Callable[[Request, BaseException], Awaitable[Response | None]] | None = None,
        layers: Sequence[Mapping[int | type[BaseException], ExceptionHandler]] = (),
    ) -> None:
        """``handlers`` are the app's; ``layers`` the blueprints' around a route, innermost
        first: they are searched before the app's, each by status code then by class."""
        self._pool = pool
        self._layers: list[tuple[dict[int, _Compiled], dict[type[BaseException], _Compiled]]] = []
        for layer in layers:
            by_status: dict[int, _Compiled] = {}
            by_class: dict[type[BaseException], _Compiled] = {}
            for key, handler in layer.items():
                status = _status_of(key)
                if status is not None:
                    by_status[status] = self._adapt(handler)
                elif isinstance(key, type) and issubclass(key, BaseException):
                    by_class[key] = self._adapt(handler)
            self._layers.append((by_status, by_class))
        self._by_status: dict[int, _Compiled] = {}
        self._by_class: dict[type[BaseException], _Compiled] = {
            RequestValidationError: validation_exception_handler,  # type: ignore[dict-item]
            HTTPException: http_exception_handler,  # type: ignore[dict-item]
        }
        #: the exception classes the app registered handlers for (not the defaults)
        self._registered: set[type[BaseException]] = set()
        for key, handler in handlers.items():
            compiled = self._adapt(handler)
            status = _status_of(key)
            if status is not None:
                self._by_status[status] = compiled
            elif isinstance(key, type) and issubclass(key, BaseException):
                self._by_class[key] = compiled
                self._registered.add(key)
            else:
                raise ConfigurationError(
                    f"error handler {describe(handler)} is registered for {key!r}: "
                    "use a status code or an exception class"
                )
        self._server_error = self._by_status.get(500) or self._by_class.get(Exception)
        #: the app's handler for a class HTTPException derives from (Exception)
        self._generic = next(
            (self._by_class[k] for k in HTTPException.__mro__[1:] if k in self._registered), None
        )
        self._debug_handler = debug_handler
        self._cache: dict[type[BaseException], _Compiled | None] = {}

    def _adapt(self, handler: ExceptionHandler) -> _Compiled:
        """Accept FastAPI-style ``(request, exc)`` and Flask-style ``(exc)`` handlers."""
        try:
            params = [
                p
                for p in inspect.signature(handler).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
            ]
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"cannot read error handler {describe(handler)}") from exc
        if len(params) not in (1, 2):
            raise ConfigurationError(
                f"error handler {describe(handler)} must take (exc) or (request, exc)"
            )
        takes_request = len(params) == 2
        is_async = is_async_callable(handler)
        pool = self._pool

        async def run(request: Request, exc: BaseException) -> Response:
            args = (request, exc) if takes_request else (exc,)
            result = await handler(*args) if is_async else await pool.run(handler, *args)
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            return to_response(result, status)

        return run

    def customized(self, status: int) -> bool:
        """Whether an app handler could answer an ``HTTPException(status)``."""
        return (
            status in self._by_status
            or self._by_class[HTTPException] is not http_exception_handler
            or self._generic is not None
        )

    def _lookup(self, exc: BaseException) -> _Compiled | None:
        kind = type(exc)
        try:
            return self._cache[kind]
        except KeyError:
            pass
        found = None
        for klass in kind.__mro__:
            if klass in self._by_class:
                found = self._by_class[klass]
                break
        if len(self._cache) < 1024:  # bounded: exception types are few, but stay safe
            self._cache[kind] = found
        return found

    def _layered(self, exc: BaseException) -> _Compiled | None:
        http = isinstance(exc, HTTPException)
        for by_status, by_class in self._layers:
            if http:
                found = by_status.get(exc.status_code)  # type: ignore[attr-defined]
                if found is not None:
                    return found
            for klass in type(exc).__mro__:
                if klass in by_class:
                    return by_class[klass]
                if http and klass is HTTPException:
                    break  # a blueprint's Exception handler does not swallow abort()
        return None

    def handles(self, exc: BaseException) -> bool:
        """Whether a handler answers ``exc`` (HTTP errors always), rather than the 500."""
        return (
            isinstance(exc, HTTPException)
            or self._layered(exc) is not None
            or self._lookup(exc) is not None
        )

    async def response_for(self, request: Request, exc: BaseException) -> Response:
        """The response for ``exc``; unhandled errors are logged with their traceback."""
        if isinstance(exc, HTTPException) and exc.answers_as_is:
            # abort(response): that response, seen by no handler, as in Flask
            return to_response(exc.response, exc.status_code)
        if self._layers:
            layered = self._layered(exc)
            if layered is not None:
                return await layered(request, exc)
        if isinstance(exc, HTTPException):
            if _trapped(request.scope.get("app"), exc):
                return await self._unhandled(request, exc)
            handler = (
                self._specific(exc) or self._by_status.get(exc.status_code) or self._lookup(exc)
            )
            assert handler is not None  # HTTPException always has the default handler
            # Flask: a handler for Exception answers HTTP errors too (not in FastAPI).
            generic = self._generic
            if (
                generic is not None
                and handler is http_exception_handler
                and not follows_fastapi(request.scope.get("app"))
            ):
                return await generic(request, exc)
            return await handler(request, exc)
        handler = self._lookup(exc)
        if handler is not None:
            return await handler(request, exc)
        if isinstance(exc, ClientDisconnect):
            return Response(None, 400)
        return await self._unhandled(request, exc)

    def _specific(self, exc: HTTPException) -> _Compiled | None:
        """A handler for a class of HTTP error more specific than its status's own class
        (``class ItemMissing(NotFound)``): it wins over a handler for the status, as in
        Flask."""
        for klass in type(exc).__mro__:
            if klass is HTTPException or _status_of(klass) == exc.status_code:
                return None
            if klass in self._registered:
                return self._by_class[klass]
        return None

    async def _unhandled(self, request: Request, exc: BaseException) -> Response:
        """The 500 for an error no handler answered: logged, signalled, handed to a test
        client that asked for it, then answered by the debug page or the 500 handler.

        In a Flask-style app the 500 handler (a blueprint's first, then the app's, then a
        handler for ``HTTPException``) gets an ``InternalServerError`` whose
        ``original_exception`` is the error, as in Flask; in a FastAPI app it gets the
        error itself, as in FastAPI."""
        logger.error(
            "Unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=exc
        )
        if got_request_exception.receivers:
            got_request_exception.send(request.scope.get("app"), exception=exc)
        hand_to_test_client(request.scope, exc)
        if self._debug_handler is not None:
            # The debug page decides per request (loopback client and Host only).
            page = await self._debug_handler(request, exc)
            if page is not None:
                return page
        app = request.scope.get("app")
        handler = None
        if not follows_fastapi(app):
            for by_status, _ in self._layers:
                handler = by_status.get(500)
                if handler is not None:
                    break
            if handler is None:
                custom = self._by_class[HTTPException]
                handler = self._by_status.get(500) or (
                    custom if custom is not http_exception_handler else None
                )
            if handler is not None:
                exc = InternalServerError(original_exception=exc)
        handler = handler or self._server_error or server_error_handler
        try:
            return await handler(request, exc)
        except Exception:
            logger.exception("The 500 error handler itself failed")
            return await server_error_handler(request, exc)
