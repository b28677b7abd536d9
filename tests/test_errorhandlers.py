"""The exception-handler table on its own: which handler answers which exception.

No app and no client: an ``ExceptionHandlers`` table is built from plain mappings and
asked for the response to an exception, as dispatch does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import orjson
import pytest

from kettle import ConfigurationError, HTTPException, Request, RequestValidationError, Response
from kettle.concurrency import ThreadPool
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import InternalServerError, NotFound
from kettle.requests import ClientDisconnect

Handlers = Mapping[Any, Callable[..., Any]]


def make_request(path: str = "/where") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    )


def table(
    handlers: Handlers | None = None,
    layers: Sequence[Handlers] = (),
    debug: Callable[..., Any] | None = None,
) -> ExceptionHandlers:
    return ExceptionHandlers(handlers or {}, ThreadPool(4), debug, layers)


def respond(errors: ExceptionHandlers, exc: BaseException, path: str = "/where") -> Response:
    async def main() -> Response:
        return await errors.response_for(make_request(path), exc)

    return anyio.run(main)


def labelled(label: str) -> Callable[[BaseException], tuple[str, int]]:
    """A Flask-style handler answering ``label`` with status 299, so its use is visible."""

    def handler(exc: BaseException) -> tuple[str, int]:
        return label, 299

    handler.__name__ = handler.__qualname__ = f"handler_{label}"
    return handler


def answered_by(response: Response) -> str | None:
    return response.body.decode() if response.status_code == 299 else None


class AppError(Exception):
    pass


class NotFoundError(AppError, LookupError):
    pass


class DeepNotFoundError(NotFoundError):
    pass


class ItemMissing(NotFound):
    pass


class TeapotError(HTTPException):
    def __init__(self) -> None:
        super().__init__(418, "short and stout")


# -- the default handlers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "status", "body", "headers"),
    [
        (HTTPException(404), 404, {"detail": "Not Found"}, {}),
        (HTTPException(400, "bad input"), 400, {"detail": "bad input"}, {}),
        (HTTPException(409, {"why": ["a", "b"]}), 409, {"detail": {"why": ["a", "b"]}}, {}),
        (HTTPException(599), 599, {"detail": "Error"}, {}),  # no standard phrase
        (
            HTTPException(401, headers={"WWW-Authenticate": "Bearer"}),
            401,
            {"detail": "Unauthorized"},
            {b"www-authenticate": b"Bearer"},
        ),
        (TeapotError(), 418, {"detail": "short and stout"}, {}),
        (
            RequestValidationError([{"type": "missing", "loc": ("query", "q"), "msg": "x"}]),
            422,
            {"detail": [{"type": "missing", "loc": ["query", "q"], "msg": "x"}]},
            {},
        ),
    ],
)
def test_default_http_error_responses(
    exc: HTTPException, status: int, body: Any, headers: dict[bytes, bytes]
) -> None:
    response = respond(table(), exc)
    assert response.status_code == status
    assert orjson.loads(response.body) == body
    raw = dict(response.raw_headers)
    assert raw[b"content-type"] == b"application/json"
    for name, value in headers.items():
        assert raw[name] == value


@pytest.mark.parametrize("status", [204, 304, 101])
def test_default_http_error_without_a_body(status: int) -> None:
    response = respond(table(), HTTPException(status, headers={"X-Why": "because"}))
    assert (response.status_code, response.body) == (status, b"")
    assert dict(response.raw_headers)[b"x-why"] == b"because"


SECRETS = [
    RuntimeError("password=hunter2"),
    KeyError("sk_live_secret"),
    ValueError("/srv/app/settings.py line 3"),
    ZeroDivisionError("division by zero"),
    AppError("internal detail"),
]


@pytest.mark.parametrize("exc", SECRETS, ids=lambda e: type(e).__name__)
def test_unhandled_errors_are_a_bare_500_that_leaks_nothing(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise exc
    except Exception as raised:  # give it a real traceback
        with caplog.at_level(logging.ERROR, logger="kettle.error"):
            response = respond(table(), raised, path="/secret-path")
    assert response.status_code == 500
    assert orjson.loads(response.body) == {"detail": "Internal Server Error"}
    text = response.body.decode() + repr(response.raw_headers)
    for leak in (str(exc), type(exc).__name__, "Traceback", __file__, "/secret-path"):
        assert leak not in text
    # ...but the server's log has everything
    (record,) = caplog.records
    assert type(exc).__name__ in record.getMessage()
    assert "/secret-path" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is exc


def test_client_disconnect_is_an_empty_400_not_a_logged_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        response = respond(table(), ClientDisconnect())
    assert (response.status_code, response.body) == (400, b"")
    assert caplog.records == []


# -- lookup by status code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handlers", "exc", "label"),
    [
        ({404: labelled("404")}, HTTPException(404), "404"),
        ({404: labelled("404")}, HTTPException(403), None),
        ({404: labelled("404"), 403: labelled("403")}, HTTPException(403), "403"),
        ({418: labelled("418")}, TeapotError(), "418"),
        ({422: labelled("422")}, RequestValidationError([]), "422"),
        # a status handler beats a class handler for a class as general as the status's
        # own (HTTPException, NotFound for 404); a more specific class's handler beats it
        ({404: labelled("404"), HTTPException: labelled("http")}, HTTPException(404), "404"),
        ({418: labelled("418"), TeapotError: labelled("teapot")}, TeapotError(), "teapot"),
        ({404: labelled("404"), ItemMissing: labelled("item")}, ItemMissing(), "item"),
        ({404: labelled("404"), ItemMissing: labelled("item")}, NotFound(), "404"),
        ({404: labelled("404"), HTTPException: labelled("http")}, HTTPException(400), "http"),
        # status handlers do not catch other exceptions, except the 500 one
        ({404: labelled("404")}, LookupError(), None),
        ({500: labelled("500")}, RuntimeError(), "500"),
        ({500: labelled("500")}, HTTPException(500), "500"),
        ({500: labelled("500")}, HTTPException(503), None),
    ],
)
def test_lookup_by_status(handlers: Handlers, exc: BaseException, label: str | None) -> None:
    assert answered_by(respond(table(handlers), exc)) == label


# -- lookup by class, along the MRO ------------------------------------------------------------


MRO_CASES = [
    # (registered classes, raised, expected label)
    ((LookupError,), KeyError("k"), "LookupError"),
    ((LookupError,), IndexError(0), "LookupError"),
    ((LookupError, KeyError), KeyError("k"), "KeyError"),
    ((LookupError, KeyError), IndexError(0), "LookupError"),
    ((Exception,), KeyError("k"), "Exception"),
    ((Exception, LookupError), KeyError("k"), "LookupError"),
    ((AppError,), DeepNotFoundError(), "AppError"),
    ((AppError, NotFoundError), DeepNotFoundError(), "NotFoundError"),
    ((AppError, LookupError), NotFoundError(), "AppError"),  # first base in the MRO wins
    ((LookupError,), NotFoundError(), "LookupError"),
    ((KeyError,), LookupError(), None),  # a base is not handled by a subclass's handler
    ((HTTPException,), TeapotError(), "HTTPException"),
    ((TeapotError,), TeapotError(), "TeapotError"),
    ((TeapotError,), HTTPException(418), None),
    ((ValueError,), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), "ValueError"),
]


@pytest.mark.parametrize(("classes", "exc", "label"), MRO_CASES)
def test_lookup_by_class_walks_the_mro(
    classes: tuple[type[BaseException], ...], exc: BaseException, label: str | None
) -> None:
    for order in itertools.permutations(classes):
        errors = table({cls: labelled(cls.__name__) for cls in order})
        assert answered_by(respond(errors, exc)) == label, order
        assert answered_by(respond(errors, exc)) == label, "second lookup (cached)"


def test_an_exception_handler_answers_http_errors_too_as_in_flask() -> None:
    errors = table({Exception: labelled("Exception")})
    assert answered_by(respond(errors, HTTPException(404))) == "Exception"
    assert answered_by(respond(errors, RuntimeError())) == "Exception"


def test_lookups_for_different_types_do_not_mix() -> None:
    errors = table({KeyError: labelled("key"), LookupError: labelled("lookup")})
    seen = [answered_by(respond(errors, exc)) for exc in (KeyError(), IndexError(), KeyError())]
    assert seen == ["key", "lookup", "key"]


@pytest.mark.parametrize(
    ("handlers", "exc", "handled"),
    [
        ({}, HTTPException(404), True),
        ({}, RuntimeError(), False),
        ({}, ClientDisconnect(), False),
        ({LookupError: labelled("x")}, KeyError(), True),
        ({LookupError: labelled("x")}, ValueError(), False),
        ({500: labelled("x")}, ValueError(), False),  # answered, but as the 500
    ],
)
def test_handles(handlers: Handlers, exc: BaseException, handled: bool) -> None:
    assert table(handlers).handles(exc) is handled


@pytest.mark.parametrize(
    ("handlers", "status", "customized"),
    [
        ({}, 404, False),
        ({404: labelled("x")}, 404, True),
        ({404: labelled("x")}, 405, False),
        ({HTTPException: labelled("x")}, 405, True),
        ({Exception: labelled("x")}, 404, True),
    ],
)
def test_customized(handlers: Handlers, status: int, customized: bool) -> None:
    assert table(handlers).customized(status) is customized


# -- handler signatures and return values ---------------------------------------------------------


received: list[tuple[Any, ...]] = []


def flask_sync(exc: BaseException) -> str:
    received.append((exc,))
    return "flask_sync"


async def flask_async(exc: BaseException) -> str:
    received.append((exc,))
    return "flask_async"


def fastapi_sync(request: Request, exc: BaseException) -> str:
    received.append((request, exc))
    return "fastapi_sync"


async def fastapi_async(request: Request, exc: BaseException) -> str:
    received.append((request, exc))
    return "fastapi_async"


def with_optional(exc: BaseException, extra: int = 1) -> str:
    received.append((exc, extra))
    return "with_optional"


class CallableHandler:
    async def __call__(self, request: Request, exc: BaseException) -> str:
        received.append((request, exc))
        return "callable"


@pytest.mark.parametrize(
    ("handler", "takes_request"),
    [
        (flask_sync, False),
        (flask_async, False),
        (fastapi_sync, True),
        (fastapi_async, True),
        (with_optional, False),
        (CallableHandler(), True),
    ],
)
def test_flask_and_fastapi_signatures_sync_and_async(
    handler: Callable[..., Any], takes_request: bool
) -> None:
    received.clear()
    errors = table({KeyError: handler})
    exc, request = KeyError("x"), make_request()

    async def main() -> Response:
        return await errors.response_for(request, exc)

    response = anyio.run(main)
    assert response.status_code == 500
    assert response.body.decode() == getattr(handler, "__name__", "callable")
    expected = (request, exc) if takes_request else (exc,)
    if handler is with_optional:
        expected = (exc, 1)
    assert received == [expected]


@pytest.mark.parametrize(
    ("returned", "exc", "status", "body", "content_type"),
    [
        ("<p>gone</p>", HTTPException(404), 404, b"<p>gone</p>", b"text/html; charset=utf-8"),
        ("oops", RuntimeError(), 500, b"oops", b"text/html; charset=utf-8"),
        ({"e": 1}, HTTPException(409), 409, b'{"e":1}', b"application/json"),
        (("teapot", 418), HTTPException(400), 418, b"teapot", b"text/html; charset=utf-8"),
        (({"ok": False}, 200), KeyError(), 200, b'{"ok":false}', b"application/json"),
        (
            Response("plain", 451, media_type="text/plain"),
            HTTPException(404),
            451,
            b"plain",
            b"text/plain; charset=utf-8",
        ),
    ],
)
def test_handler_return_values_become_responses(
    returned: Any, exc: BaseException, status: int, body: bytes, content_type: bytes
) -> None:
    def handler(exc: BaseException) -> Any:
        return returned

    key = exc.status_code if isinstance(exc, HTTPException) else type(exc)
    response = respond(table({key: handler}), exc)
    assert (response.status_code, response.body) == (status, body)
    assert dict(response.raw_headers)[b"content-type"] == content_type


def test_a_500_handler_answers_unhandled_errors_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def friendly(exc: BaseException) -> str:
        return "Sorry!"

    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        response = respond(table({500: friendly}), RuntimeError("boom"))
    assert (response.status_code, response.body) == (500, b"Sorry!")
    assert len(caplog.records) == 1


def test_a_failing_500_handler_falls_back_to_the_bare_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(exc: BaseException) -> str:
        raise RuntimeError("the handler's own secret")

    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        response = respond(table({500: broken}), ValueError("x"))
    assert response.status_code == 500
    assert orjson.loads(response.body) == {"detail": "Internal Server Error"}
    assert b"secret" not in response.body
    assert any("500 error handler itself failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("key", [KeyError, Exception])
def test_a_failing_class_handler_propagates(key: type[Exception]) -> None:
    # Only the 500 handler has a fallback here; dispatch guards the rest.
    def broken(exc: BaseException) -> str:
        raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        respond(table({key: broken}), KeyError("x"))


def test_the_debug_handler_answers_only_unhandled_errors() -> None:
    async def debug_page(request: Request, exc: BaseException) -> Response:
        return Response(f"debug: {exc}", 500)

    errors = table({KeyError: labelled("key"), 500: labelled("500")}, debug=debug_page)
    assert respond(errors, RuntimeError("trace me")).body == b"debug: trace me"
    assert answered_by(respond(errors, KeyError())) == "key"
    assert respond(errors, HTTPException(404)).status_code == 404
    assert respond(errors, ClientDisconnect()).status_code == 400


# -- blueprint layers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "app", "exc", "label"),
    [
        # the innermost layer is searched first, then outer ones, then the app
        ([{KeyError: labelled("inner")}, {KeyError: labelled("outer")}], {}, KeyError(), "inner"),
        ([{}, {KeyError: labelled("outer")}], {KeyError: labelled("app")}, KeyError(), "outer"),
        ([{IndexError: labelled("inner")}], {KeyError: labelled("app")}, KeyError(), "app"),
        # a base-class handler in a layer beats a more specific one in the app
        ([{LookupError: labelled("bp")}], {KeyError: labelled("app")}, KeyError(), "bp"),
        # status handlers in layers
        ([{404: labelled("bp404")}], {404: labelled("app404")}, HTTPException(404), "bp404"),
        ([{404: labelled("bp404")}], {}, HTTPException(403), None),
        ([{HTTPException: labelled("bp")}], {404: labelled("app")}, HTTPException(404), "bp"),
        # a layer's Exception handler does not swallow abort()
        ([{Exception: labelled("bp")}], {404: labelled("app")}, HTTPException(404), "app"),
        ([{Exception: labelled("bp")}], {}, RuntimeError(), "bp"),
    ],
)
def test_layers(
    layers: list[Handlers], app: Handlers, exc: BaseException, label: str | None
) -> None:
    assert answered_by(respond(table(app, layers), exc)) == label


def test_a_layers_500_handler_answers_unhandled_errors() -> None:
    errors = table({500: labelled("app500")}, [{500: labelled("bp500")}])
    assert answered_by(respond(errors, RuntimeError("x"))) == "bp500"


# -- mistakes in registration ------------------------------------------------------------------


def _three_args(request: Request, exc: BaseException, extra: Any) -> None: ...


def _no_args() -> None: ...


@pytest.mark.parametrize(
    ("handlers", "message"),
    [
        ({"404": labelled("x")}, "registered for '404': use a status code or an exception class"),
        ({object: labelled("x")}, "use a status code or an exception class"),
        ({KeyError: _three_args}, "must take \\(exc\\) or \\(request, exc\\)"),
        ({404: _no_args}, "must take \\(exc\\) or \\(request, exc\\)"),
    ],
)
def test_bad_registrations_are_configuration_errors_naming_the_handler(
    handlers: Handlers, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        table(handlers)
    (handler,) = handlers.values()
    assert handler.__name__ in str(info.value)


# -- the 500 of a Flask-style app wraps the unhandled error ----------------------------------


@pytest.mark.parametrize("key", [500, InternalServerError, HTTPException])
def test_flask_500_handlers_get_the_error_wrapped(key: int | type[BaseException]) -> None:
    from kettle import Kettle
    from kettle.testing import TestClient

    app = Kettle(__name__)

    @app.errorhandler(key)
    def handle(exc: BaseException) -> str:
        assert isinstance(exc, InternalServerError)
        original = exc.original_exception
        return f"{exc.code} {type(original).__name__ if original else None}"

    @app.get("/boom")
    def boom() -> str:
        raise KeyError("x")

    @app.get("/abort")
    def aborted() -> str:
        raise InternalServerError()

    client = TestClient(app)
    assert client.get("/boom").text == "500 KeyError"
    assert client.get("/abort").text == "500 None"
