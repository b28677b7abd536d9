"""The exception tree: its drawing, the named HTTP errors, ``abort``, handler lookup,
pickling, and the old import paths of the classes that moved here."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import anyio
import pytest

import kettle
import kettle.exceptions as exc_module
from kettle import Blueprint, Kettle, Request, Response
from kettle.concurrency import ThreadPool
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import (
    NAMED_ERRORS,
    BadRequest,
    BadRequestKeyError,
    ClientDisconnect,
    HTTPException,
    NotFound,
    RequestValidationError,
    ResponseValidationError,
    WebSocketClose,
    WebSocketDisconnect,
    abort,
)
from kettle.testing import TestClient

#: Every named error: the class name and its status code (Werkzeug's names).
NAMED = [
    ("BadRequest", 400),
    ("Unauthorized", 401),
    ("Forbidden", 403),
    ("NotFound", 404),
    ("MethodNotAllowed", 405),
    ("NotAcceptable", 406),
    ("RequestTimeout", 408),
    ("Conflict", 409),
    ("Gone", 410),
    ("LengthRequired", 411),
    ("PreconditionFailed", 412),
    ("RequestEntityTooLarge", 413),
    ("RequestURITooLarge", 414),
    ("UnsupportedMediaType", 415),
    ("RequestedRangeNotSatisfiable", 416),
    ("ExpectationFailed", 417),
    ("ImATeapot", 418),
    ("UnprocessableEntity", 422),
    ("Locked", 423),
    ("FailedDependency", 424),
    ("PreconditionRequired", 428),
    ("TooManyRequests", 429),
    ("RequestHeaderFieldsTooLarge", 431),
    ("UnavailableForLegalReasons", 451),
    ("InternalServerError", 500),
    ("NotImplemented", 501),
    ("BadGateway", 502),
    ("ServiceUnavailable", 503),
    ("GatewayTimeout", 504),
    ("HTTPVersionNotSupported", 505),
]
NAMED_IDS = [name for name, _ in NAMED]


def named(name: str) -> type[HTTPException]:
    cls: type[HTTPException] = getattr(exc_module, name)
    return cls


# -- the drawing ----------------------------------------------------------------------------------


def drawn_tree() -> dict[str, str]:
    """Each class named in the drawing at the top of the module -> its drawn parent."""
    doc = exc_module.__doc__ or ""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        root = re.fullmatch(r"    ([A-Za-z][\w.]*)", line)
        node = re.match(r"    ([│ ]*)[├└]── (\w+)", line)
        if root:
            stack = [(-1, root.group(1))]
        elif node:
            depth = len(node.group(1)) // 4
            while stack and stack[-1][0] >= depth:
                stack.pop()
            parents[node.group(2)] = stack[-1][1]
            stack.append((depth, node.group(2)))
    return parents


def test_the_drawing_shows_every_exception_with_its_real_parent() -> None:
    parents = drawn_tree()
    defined = {
        name
        for name, value in vars(exc_module).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        # kettle.connectionerrors holds some of this module's own classes (for its size)
        and value.__module__ in (exc_module.__name__, "kettle.connectionerrors")
        and not name.startswith("_")
    }
    assert defined <= set(parents), f"not drawn: {sorted(defined - set(parents))}"
    import click

    from kettle.cli import AppLoadError
    from kettle.loading import AppLoadError as where_it_lives

    assert AppLoadError is where_it_lives

    elsewhere = {"NoMatchFound": kettle.NoMatchFound, "AppLoadError": AppLoadError}
    assert set(parents) == defined | set(elsewhere)
    bases = {"Exception": Exception, "ValueError": ValueError, "LookupError": LookupError}
    bases["click.ClickException"] = click.ClickException
    for name, parent in parents.items():
        cls = elsewhere.get(name) or getattr(exc_module, name)
        base = bases.get(parent) or getattr(exc_module, parent)
        assert issubclass(cls, base), f"{name} is drawn under {parent}"
        assert cls is not base


def test_the_drawing_lists_the_named_errors_with_their_codes() -> None:
    doc = exc_module.__doc__ or ""
    for name, code in NAMED:
        assert re.search(rf"── {name} +{code}\b", doc), name


# -- the named errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "code"), NAMED, ids=NAMED_IDS)
def test_a_named_error_has_its_status_phrase_and_description(name: str, code: int) -> None:
    cls = named(name)
    assert issubclass(cls, HTTPException)
    assert cls.code == code
    assert NAMED_ERRORS[code] is cls
    error = cls()
    assert (error.status_code, error.code) == (code, code)
    assert error.detail == HTTPStatus(code).phrase
    assert str(error) == f"{code}: {HTTPStatus(code).phrase}"
    assert error.headers is None
    assert isinstance(cls.description, str)
    assert cls.description.endswith(".")
    assert error.description == cls.description


@pytest.mark.parametrize(("name", "code"), NAMED, ids=NAMED_IDS)
def test_a_named_error_takes_a_detail_and_headers(name: str, code: int) -> None:
    error = named(name)("Not today", {"Retry-After": "120"})
    assert (error.status_code, error.detail, error.description) == (code, "Not today", "Not today")
    assert error.headers == {"Retry-After": "120"}
    structured = named(name)(detail={"why": ["closed"]})
    assert structured.detail == {"why": ["closed"]}
    assert structured.description == named(name).description


def test_the_table_holds_exactly_the_named_errors() -> None:
    assert sorted(NAMED_ERRORS) == [code for _, code in NAMED]
    assert list(NAMED_ERRORS) == sorted(NAMED_ERRORS)
    with pytest.raises(TypeError):
        NAMED_ERRORS[404] = HTTPException  # type: ignore[index]


def test_not_implemented_does_not_shadow_the_builtin_on_import_star() -> None:
    assert exc_module.NotImplemented.code == 501
    assert "NotImplemented" not in exc_module.__all__
    assert "NotImplemented" not in kettle.__all__
    namespace: dict[str, Any] = {}
    exec("from kettle.exceptions import *", namespace)
    assert "NotImplemented" not in namespace
    assert set(exc_module.__all__) <= set(namespace)


def test_the_named_errors_are_exported_from_kettle() -> None:
    for name, _ in NAMED:
        if name != "NotImplemented":
            assert getattr(kettle, name) is named(name)


def test_http_exception_keeps_its_constructor_and_attributes() -> None:
    error = HTTPException(404, "Item not found", headers={"X-Error": "missing"})
    assert (error.status_code, error.code, error.detail) == (404, 404, "Item not found")
    assert (error.headers, error.description) == ({"X-Error": "missing"}, "Item not found")
    assert error.args == (404, "Item not found")
    plain = HTTPException(499)
    assert (plain.detail, plain.description, plain.headers) == ("Error", None, None)
    assert HTTPException(status_code=418).detail == "I'm a Teapot"
    assert type(plain) is HTTPException


def test_bad_request_key_error_is_a_400_and_a_key_error() -> None:
    error = BadRequestKeyError("password")
    assert isinstance(error, BadRequest)
    assert isinstance(error, KeyError)
    assert (error.status_code, error.key) == (400, "password")
    assert error.get_description() == "Missing field 'password'"
    assert "password" not in error.detail  # the answer does not name the key
    with pytest.raises(KeyError):
        raise error


# -- abort ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "code"), NAMED, ids=NAMED_IDS)
def test_abort_raises_the_named_error(name: str, code: int) -> None:
    with pytest.raises(HTTPException) as info:
        abort(code)
    assert type(info.value) is named(name)
    assert info.value.detail == HTTPStatus(code).phrase
    with pytest.raises(HTTPException) as info:
        abort(code, "why", {"X-Why": "because"})
    assert type(info.value) is named(name)
    assert (info.value.detail, info.value.headers) == ("why", {"X-Why": "because"})


def test_abort_404_is_caught_as_not_found() -> None:
    with pytest.raises(NotFound):
        abort(404)


@pytest.mark.parametrize("code", [200, 302, 402, 407, 499, 506, 599])
def test_abort_with_an_unnamed_code_raises_a_plain_http_exception(code: int) -> None:
    with pytest.raises(HTTPException) as info:
        abort(code, "odd")
    assert type(info.value) is HTTPException
    assert (info.value.status_code, info.value.detail) == (code, "odd")


# -- handler lookup -------------------------------------------------------------------------------


def labelled(label: str) -> Callable[[BaseException], tuple[str, int]]:
    """A Flask-style handler answering ``label`` with status 299, so its use is visible."""

    def handler(exc: BaseException) -> tuple[str, int]:
        return label, 299

    return handler


def answer(handlers: dict[Any, Any], exc: BaseException, layers: Any = ()) -> str | None:
    errors = ExceptionHandlers(handlers, ThreadPool(2), None, layers)
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    async def main() -> Response:
        return await errors.response_for(request, exc)

    response = anyio.run(main)
    return response.body.decode() if response.status_code == 299 else None


def raised(code: int) -> HTTPException:
    try:
        abort(code)
    except HTTPException as exc:
        return exc
    raise AssertionError("abort() returned")  # pragma: no cover


class ItemMissing(NotFound):
    pass


@pytest.mark.parametrize(("name", "code"), NAMED, ids=NAMED_IDS)
@pytest.mark.parametrize("key", ["class", "code"])
def test_a_handler_by_class_or_by_code_answers_abort_and_plain_exceptions(
    name: str, code: int, key: str
) -> None:
    handlers = {named(name) if key == "class" else code: labelled("mine")}
    assert answer(handlers, raised(code)) == "mine"
    assert answer(handlers, HTTPException(code)) == "mine"
    assert answer(handlers, named(name)("custom")) == "mine"
    assert answer(handlers, HTTPException(418 if code != 418 else 404)) is None
    # ... and in a blueprint's layer, where the same rule holds.
    assert answer({}, raised(code), layers=[handlers]) == "mine"


@pytest.mark.parametrize(("name", "code"), NAMED, ids=NAMED_IDS)
def test_a_handler_for_http_exception_answers_every_named_error(name: str, code: int) -> None:
    assert answer({HTTPException: labelled("all")}, raised(code)) == "all"
    assert answer({HTTPException: labelled("all")}, named(name)()) == "all"


def test_the_code_handler_wins_over_the_http_exception_handler() -> None:
    handlers = {HTTPException: labelled("all"), NotFound: labelled("404")}
    assert answer(handlers, raised(404)) == "404"
    assert answer(handlers, raised(403)) == "all"


def test_a_subclass_of_a_named_error_stays_a_class_handler() -> None:
    handlers = {ItemMissing: labelled("item")}
    assert answer(handlers, ItemMissing()) == "item"
    assert answer(handlers, raised(404)) is None
    assert answer({NotFound: labelled("404")}, ItemMissing()) == "404"


def test_a_bad_request_handler_answers_bad_request_key_errors() -> None:
    assert answer({BadRequest: labelled("400")}, BadRequestKeyError("x")) == "400"
    assert answer({KeyError: labelled("key")}, BadRequestKeyError("x")) is None  # a 400 first
    assert answer({BadRequestKeyError: labelled("key")}, BadRequestKeyError("x")) == "key"


def test_an_internal_server_error_handler_answers_unhandled_errors() -> None:
    assert answer({exc_module.InternalServerError: labelled("500")}, RuntimeError()) == "500"


def test_through_an_app_not_found_handlers_answer_unrouted_urls_and_abort() -> None:
    app = Kettle(__name__)
    blueprint = Blueprint("shop", __name__, url_prefix="/shop")

    @app.get("/gone")
    def gone() -> None:
        abort(404)

    @blueprint.get("/teapot")
    def teapot() -> None:
        abort(418)

    @app.errorhandler(NotFound)
    def not_found(exc: HTTPException) -> tuple[dict[str, Any], int]:
        return {"missing": exc.detail, "class": type(exc).__name__}, exc.status_code

    @blueprint.errorhandler(418)
    def short_and_stout(exc: HTTPException) -> tuple[str, int]:
        return f"{type(exc).__name__}: {exc.description}", 418

    app.register_blueprint(blueprint)
    client = TestClient(app)
    assert client.get("/gone").json() == {"missing": "Not Found", "class": "NotFound"}
    assert client.get("/nowhere").status_code == 404
    assert client.get("/nowhere").json()["missing"] == "Not Found"
    teapot_response = client.get("/shop/teapot")
    assert teapot_response.status_code == 418
    assert teapot_response.text == f"ImATeapot: {exc_module.ImATeapot.description}"


# -- pickling and repr ----------------------------------------------------------------------------


PICKLED: list[BaseException] = [
    HTTPException(404, "Item not found", headers={"X-Error": "missing"}),
    HTTPException(499),
    RequestValidationError([{"type": "missing", "loc": ("query", "q"), "msg": "Field required"}]),
    BadRequestKeyError("password"),
    ResponseValidationError([{"type": "int_type", "loc": ("id",)}]),
    ClientDisconnect(),
    WebSocketDisconnect(1001, "going away"),
    WebSocketClose(1009, "too big"),
    kettle.ConfigurationError("bad route"),
    exc_module.PatternError("bad template"),
    *(named(name)() for name, _ in NAMED),
    *(named(name)("custom", {"Retry-After": "5"}) for name, _ in NAMED),
]


@pytest.mark.parametrize("error", PICKLED, ids=lambda e: f"{type(e).__name__}{e.args!r}")
def test_exceptions_survive_pickling(error: BaseException) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
    assert (str(copy), repr(copy)) == (str(error), repr(error))


def test_reprs_name_the_class_and_what_it_carries() -> None:
    assert repr(NotFound()) == "NotFound(detail='Not Found')"
    assert repr(BadRequestKeyError("x")) == (
        "BadRequestKeyError(detail='A field the request needs is missing.')"
    )
    assert repr(HTTPException(404)) == "HTTPException(status_code=404, detail='Not Found')"
    assert repr(RequestValidationError([])) == "RequestValidationError(status_code=422, detail=[])"


# -- the old import paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module_name", "name"),
    [
        ("kettle.requests", "ClientDisconnect"),
        ("kettle.websockets", "WebSocketClose"),
        ("kettle.flaskrequest", "BadRequestKeyError"),
        ("kettle.serialization", "ResponseValidationError"),
        ("kettle.routing.patterns", "PatternError"),
        ("kettle.fastapi.exceptions", "ResponseValidationError"),
        ("kettle", "HTTPException"),
    ],
)
def test_the_old_import_paths_name_the_same_objects(module_name: str, name: str) -> None:
    import importlib

    old = getattr(importlib.import_module(module_name), name)
    assert old is getattr(exc_module, name)
    assert old.__module__ in ("kettle.exceptions", "kettle.connectionerrors")


def test_kettle_abort_is_the_app_aware_one_and_outside_an_app_raises_the_named_error() -> None:
    import kettle
    from kettle.aborting import abort

    assert kettle.abort is abort
    with pytest.raises(exc_module.NotFound):
        kettle.abort(404)
