"""Signature analysis on its own: what ``analyze`` says about a handler, with no request.

This module deliberately does not use ``from __future__ import annotations``: handlers
and models are declared inside tests, and their hints must be real objects.
"""

import dataclasses
import datetime
import enum
import functools
import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Literal, Optional, get_args, get_origin

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from kettle import (
    BackgroundTasks,
    Body,
    ConfigurationError,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    SecurityScopes,
    UploadFile,
    WebSocket,
)
from kettle.params import Param
from kettle.requests import HTTPConnection
from kettle.signature import CallSpec, ParamSpec, analyze


class Item(BaseModel):
    name: str
    price: float


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str


class Color(enum.Enum):
    RED = "red"


def only(spec: CallSpec) -> ParamSpec:
    (param,) = spec.params
    return param


def where(spec: CallSpec) -> dict[str, str]:
    return {prm.name: prm.location for prm in spec.params}


def handler_with(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    """A handler taking one keyword parameter, built from a case table's row."""

    def handler(**kwargs: Any) -> None: ...

    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)]
    )
    handler.__annotations__ = {name: annotation}
    return handler


# -- where a parameter comes from -------------------------------------------------------------


def _h_scalars(
    a: int,
    b: str,
    c: float,
    d: bool,
    e: uuid.UUID,
    f: datetime.date,
    g: Color,
    h: Literal["x", "y"],
    i: Optional[int],  # noqa: UP045 - typing.Union, not types.UnionType
    j: int | None,
    k: Any,
    untyped,
) -> None: ...


def _h_bodies(
    item: Item, point: Point, movie: Movie, maybe: Item | None, raw: dict[str, Any]
) -> None: ...


def _h_uploads(one: UploadFile, many: list[UploadFile], maybe: UploadFile | None) -> None: ...


def _h_markers(
    q: str = Query(),
    h: str = Header(),
    c: str = Cookie(),
    b: int = Body(),
    f: str = Form(),
    up: bytes = File(),
) -> None: ...


def _h_annotated(
    q: Annotated[str, Query()],
    h: Annotated[str, Header()],
    c: Annotated[str, Cookie()],
    b: Annotated[int, Body()],
    f: Annotated[str, Form()],
    up: Annotated[bytes, File()],
) -> None: ...


@pytest.mark.parametrize(
    ("handler", "path_params", "locations"),
    [
        (
            _h_scalars,
            [],
            dict.fromkeys("abcdefghijk", "query") | {"untyped": "query"},
        ),
        (
            _h_bodies,
            [],
            {"item": "body", "point": "body", "movie": "body", "maybe": "body", "raw": "body"},
        ),
        (_h_uploads, [], {"one": "file", "many": "file", "maybe": "file"}),
        (
            _h_markers,
            [],
            {"q": "query", "h": "header", "c": "cookie", "b": "body", "f": "form", "up": "file"},
        ),
        (
            _h_annotated,
            [],
            {"q": "query", "h": "header", "c": "cookie", "b": "body", "f": "form", "up": "file"},
        ),
        # a name in the path is a path parameter, whatever its type
        (_h_scalars, ["a", "b", "untyped"], dict.fromkeys("cdefghijk", "query")),
    ],
)
def test_locations_inferred_from_hints_and_markers(
    handler: Callable[..., Any], path_params: list[str], locations: dict[str, str]
) -> None:
    found = where(analyze(handler, path_params))
    assert found == dict.fromkeys(path_params, "path") | locations


@pytest.mark.parametrize(
    ("annotation", "sequence"),
    [
        (list[str], True),
        (list[int], True),
        (set[str], True),
        (tuple[int, ...], True),
        (frozenset[uuid.UUID], True),
        (list[int] | None, True),
        (Optional[list[str]], True),  # noqa: UP045
        (str, False),
        (int | None, False),
    ],
)
def test_lists_of_scalars_collect_repeated_query_keys(annotation: Any, sequence: bool) -> None:
    param = only(analyze(handler_with("q", annotation, None), []))
    assert (param.location, param.sequence) == ("query", sequence)


@pytest.mark.parametrize(
    ("marker", "sequence"),
    [(Header(), True), (Form(), True), (Cookie(), False)],
)
def test_sequences_in_other_locations(marker: Param, sequence: bool) -> None:
    assert only(analyze(handler_with("v", list[str], marker), [])).sequence is sequence


def test_a_list_of_uploads_is_a_sequence_of_files() -> None:
    spec = analyze(_h_uploads, [])
    assert {p.name: p.sequence for p in spec.params} == {
        "one": False,
        "many": True,
        "maybe": False,
    }


@pytest.mark.parametrize("location", [Query, Header, Cookie, Form])
def test_a_model_read_from_a_string_location_is_a_group(location: type[Param]) -> None:
    def handler(filters: Annotated[Item, location()]) -> None: ...

    param = only(analyze(handler, []))
    assert param.group is True
    assert param.location == location.location


def test_a_model_in_the_body_is_not_a_group() -> None:
    def handler(item: Item) -> None: ...

    param = only(analyze(handler, []))
    assert (param.location, param.group) == ("body", False)


# -- aliases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "name", "alias"),
    [
        (Header(), "user_agent", "user-agent"),
        (Header(), "X_Token", "x-token"),
        (Header(convert_underscores=False), "x_token", "x_token"),
        (Header(alias="X_Custom"), "anything", "x_custom"),
        (Header(alias="X-Custom"), "anything", "x-custom"),
        (Query(alias="item-query"), "item_query", "item-query"),
        (Query(), "item_query", "item_query"),
        (Cookie(alias="session-id"), "sid", "session-id"),
        (Form(alias="e-mail"), "email", "e-mail"),
    ],
)
def test_aliases(marker: Param, name: str, alias: str) -> None:
    param = only(analyze(handler_with(name, str, marker), []))
    assert (param.name, param.alias) == (name, alias)


# -- Annotated, defaults, requiredness -----------------------------------------------------------


def test_annotated_keeps_foreign_metadata_and_drops_the_marker() -> None:
    def handler(n: Annotated[int, "doc", Query(ge=1), Field(lt=10)] = 5) -> None: ...

    param = only(analyze(handler, []))
    assert param.location == "query"
    assert param.marker.ge == 1
    assert get_origin(param.annotation) is Annotated
    base, doc, field = get_args(param.annotation)
    assert (base, doc) == (int, "doc")
    assert field.metadata[0].lt == 10


def test_annotated_without_a_marker_is_inferred_as_usual() -> None:
    def handler(n: Annotated[int, Field(ge=1)], item: Annotated[Item, "doc"]) -> None: ...

    assert where(analyze(handler, [])) == {"n": "query", "item": "body"}


def test_the_last_marker_in_annotated_wins() -> None:
    def handler(v: Annotated[str, Query(), Header()]) -> None: ...

    assert only(analyze(handler, [])).location == "header"


def test_a_marker_as_default_beats_one_in_annotated() -> None:
    def handler(v: Annotated[str, Query()] = Header()) -> None: ...  # type: ignore[assignment]

    assert only(analyze(handler, [])).location == "header"


def _factory() -> list[str]:
    return []


@pytest.mark.parametrize(
    ("handler", "required", "default"),
    [
        (lambda q: None, True, None),
        (lambda q=None: None, False, None),
        (lambda q=3: None, False, 3),
        (lambda q=Query(): None, True, None),
        (lambda q=Query(None): None, False, None),
        (lambda q=Query(7): None, False, 7),
        (lambda q=Query(default_factory=_factory): None, False, None),
    ],
)
def test_required_and_default(handler: Callable[..., Any], required: bool, default: Any) -> None:
    param = only(analyze(handler, []))
    assert (param.required, param.default) == (required, default)


def test_annotated_marker_with_signature_default() -> None:
    def handler(q: Annotated[int, Query(ge=0)] = 4) -> None: ...

    param = only(analyze(handler, []))
    assert (param.required, param.default) == (False, 4)


def test_path_parameters_are_always_required() -> None:
    def handler(item_id: int = 5, other: Annotated[int, Path()] = 1) -> None: ...

    spec = analyze(handler, ["item_id", "other"])
    assert [(p.name, p.location, p.required, p.default) for p in spec.params] == [
        ("item_id", "path", True, None),
        ("other", "path", True, None),
    ]


def test_kwargs_handler_receives_every_path_value_untyped() -> None:
    def view(known: int, *args: Any, **values: Any) -> None: ...

    spec = analyze(view, ["known", "b", "a"])
    assert [(p.name, p.location, p.annotation) for p in spec.params] == [
        ("known", "path", int),
        ("a", "path", Any),
        ("b", "path", Any),
    ]


# -- specials -----------------------------------------------------------------------------------


class MyRequest(Request):
    pass


def test_special_parameters_receive_objects_not_request_values() -> None:
    def handler(
        request: Request,
        mine: MyRequest,
        ws: WebSocket,
        conn: HTTPConnection,
        response: Response,
        tasks: BackgroundTasks,
        scopes: SecurityScopes,
        annotated: Annotated[Request, "doc"],
        q: int = 0,
    ) -> None: ...

    spec = analyze(handler, [])
    assert spec.specials == [
        ("request", "request"),
        ("mine", "request"),
        ("ws", "websocket"),
        ("conn", "connection"),
        ("response", "response"),
        ("tasks", "background"),
        ("scopes", "scopes"),
        ("annotated", "request"),
    ]
    assert where(spec) == {"q": "query"}


def test_a_special_type_with_a_marker_is_a_configuration_error() -> None:
    def handler(request: Request = Query()) -> None: ...  # type: ignore[assignment]

    with pytest.raises(ConfigurationError, match="cannot be read from a query string"):
        analyze(handler, [])


# -- sync, async, return annotation ---------------------------------------------------------------


class AsyncCallable:
    async def __call__(self, q: int) -> int:
        return q


class SyncCallable:
    def __call__(self, q: int) -> int:
        return q


async def _async_handler(q: int) -> int:
    return q


def _sync_handler(q: int) -> int:
    return q


@pytest.mark.parametrize(
    ("handler", "is_async"),
    [
        (_async_handler, True),
        (_sync_handler, False),
        (functools.partial(_async_handler), True),
        (functools.partial(_sync_handler), False),
        (AsyncCallable(), True),
        (SyncCallable(), False),
        (lambda q: q, False),
    ],
)
def test_sync_and_async_handlers(handler: Callable[..., Any], is_async: bool) -> None:
    spec = analyze(handler, [])
    assert spec.is_async is is_async
    assert spec.generator is None
    assert [p.name for p in spec.params] == ["q"]
    assert spec.func is handler


def test_return_annotation() -> None:
    def typed() -> dict[str, int]: ...

    def untyped(): ...

    assert analyze(typed, []).return_annotation == dict[str, int]
    assert analyze(untyped, []).return_annotation is inspect.Signature.empty


def test_label_names_the_handler_and_where_it_is() -> None:
    label = analyze(_sync_handler, []).label
    assert "_sync_handler" in label
    assert __file__ in label


# -- dependencies ------------------------------------------------------------------------------


def get_db() -> Iterator[str]:
    yield "db"


async def get_user(db: Annotated[str, Depends(get_db)], token: str = Header()) -> str:
    return token


async def stream_user() -> AsyncIterator[str]:
    yield "u"


class Pagination:
    def __init__(self, page: int = 1, size: int = 20) -> None:
        self.page, self.size = page, size


def test_dependencies_form_a_tree() -> None:
    def handler(user: Annotated[str, Depends(get_user)], q: int = 0) -> None: ...

    spec = analyze(handler, [])
    assert where(spec) == {"q": "query"}
    (dep,) = spec.dependencies
    assert (dep.name, dep.call.func, dep.call.is_async) == ("user", get_user, True)
    assert where(dep.call) == {"token": "header"}
    (inner,) = dep.call.dependencies
    assert (inner.name, inner.call.func, inner.call.generator) == ("db", get_db, "sync")


@pytest.mark.parametrize(
    ("dependency", "is_async", "generator"),
    [
        (get_db, False, "sync"),
        (stream_user, False, "async"),
        (get_user, True, None),
        (Pagination, False, None),
    ],
)
def test_dependency_kinds(dependency: Callable[..., Any], is_async: bool, generator: str) -> None:
    def handler(v: Any = Depends(dependency)) -> None: ...

    call = analyze(handler, []).dependencies[0].call
    assert (call.is_async, call.generator) == (is_async, generator)


def test_depends_without_a_callable_uses_the_class_annotation() -> None:
    def handler(paging: Annotated[Pagination, Depends()]) -> None: ...

    (dep,) = analyze(handler, []).dependencies
    assert dep.call.func is Pagination
    assert where(dep.call) == {"page": "query", "size": "query"}


def test_depends_options_are_kept() -> None:
    def handler(
        a: Annotated[str, Depends(get_db, use_cache=False)],
        b: Annotated[str, Depends(get_db, scope="app")],
    ) -> None: ...

    a, b = analyze(handler, []).dependencies
    assert (a.depends.use_cache, a.call.scope) == (False, "request")
    assert (b.depends.use_cache, b.call.scope) == (True, "app")


def test_route_dependencies_come_first_and_have_no_name() -> None:
    def handler(user: Annotated[str, Depends(get_user)]) -> None: ...

    spec = analyze(handler, [], dependencies=[Depends(get_db)])
    assert [(d.name, d.call.func) for d in spec.dependencies] == [
        (None, get_db),
        ("user", get_user),
    ]


def test_overrides_replace_a_dependency_anywhere_in_the_tree() -> None:
    def fake_db(fixture: str = Query("x")) -> str:
        return fixture

    def handler(user: Annotated[str, Depends(get_user)]) -> None: ...

    spec = analyze(handler, [], overrides={get_db: fake_db})
    (inner,) = spec.dependencies[0].call.dependencies
    assert inner.call.func is fake_db
    assert where(inner.call) == {"fixture": "query"}


def cycle_a(b: "Annotated[str, Depends(cycle_b)]") -> str:
    return b


def cycle_b(a: "Annotated[str, Depends(cycle_a)]") -> str:
    return a


def test_a_dependency_cycle_is_a_configuration_error_showing_the_chain() -> None:
    def handler(v: Annotated[str, Depends(cycle_a)]) -> None: ...

    with pytest.raises(ConfigurationError, match="dependency cycle") as info:
        analyze(handler, [])
    message = str(info.value)
    assert message.index("handler") < message.index("cycle_a") < message.index("cycle_b")
    assert message.count("cycle_a") == 2


def test_an_override_can_make_a_cycle() -> None:
    def handler(user: Annotated[str, Depends(get_user)]) -> None: ...

    with pytest.raises(ConfigurationError, match="dependency cycle"):
        analyze(handler, [], overrides={get_db: get_user})


# -- mistakes found at analysis, naming the handler ---------------------------------------------


def _bad_path_marker(item: Annotated[int, Path()]) -> None: ...


def _bad_unbound_path(other: int) -> None: ...


def _bad_two_defaults(q: Annotated[int, Query(3)] = 4) -> None: ...


def _bad_positional_only(q: int, /) -> None: ...


def _bad_query_dict(q: dict[str, int] = Query()) -> None: ...  # type: ignore[assignment]


def _bad_header_model(h: Annotated[list[Item], Header()]) -> None: ...


def _bad_cookie_list_of_models(c: Annotated[dict[str, str], Cookie()]) -> None: ...


def _bad_path_model(item_id: Item) -> None: ...


def _bad_depends_no_callable(v=Depends()) -> None: ...


def _bad_forward_ref(v: "NoSuchType") -> None: ...  # type: ignore[name-defined] # noqa: F821


@pytest.mark.parametrize(
    ("handler", "path_params", "message"),
    [
        (_bad_path_marker, [], r"'item' is declared Path\(\) but the route path has no \{item\}"),
        (_bad_unbound_path, ["item_id"], "declares 'item_id' but the handler has no parameter"),
        (_bad_two_defaults, [], "'q' has a default both in the signature and in its marker"),
        (_bad_positional_only, [], "positional-only parameter 'q' cannot be bound"),
        (_bad_query_dict, [], "'q' is a query parameter of type"),
        (_bad_header_model, [], "'h' is a header parameter of type"),
        (_bad_cookie_list_of_models, [], "'c' is a cookie parameter of type"),
        (_bad_path_model, ["item_id"], "'item_id' is a path parameter of type"),
        (_bad_depends_no_callable, [], r"Depends\(\) without a callable needs a class annotation"),
        (_bad_forward_ref, [], "cannot read the signature of .*NoSuchType"),
    ],
)
def test_configuration_errors_name_the_handler_and_its_file(
    handler: Callable[..., Any], path_params: list[str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        analyze(handler, path_params)
    assert handler.__name__ in str(info.value)
    assert __file__ in str(info.value)


def test_a_mistake_in_a_dependency_names_the_dependency() -> None:
    def handler(v: Annotated[Any, Depends(_bad_query_dict)]) -> None: ...

    with pytest.raises(ConfigurationError, match="_bad_query_dict") as info:
        analyze(handler, [])
    assert __file__ in str(info.value)


def test_depends_on_an_unreadable_annotation_names_the_handler() -> None:
    def handler_with_int_dependency(v: Annotated[int, Depends()]) -> None: ...

    with pytest.raises(ConfigurationError) as info:
        analyze(handler_with_int_dependency, [])
    assert "handler_with_int_dependency" in str(info.value)


def test_analyze_does_not_call_anything() -> None:
    calls: list[str] = []

    def dependency() -> str:
        calls.append("dependency")
        return "x"

    def handler(v: Annotated[str, Depends(dependency)]) -> None:
        calls.append("handler")

    analyze(handler, [])
    assert calls == []


def test_pydantic_url_types_are_read_from_one_string() -> None:
    from pydantic import AnyUrl, HttpUrl

    from kettle.signature import is_scalar

    assert is_scalar(HttpUrl)
    assert is_scalar(AnyUrl | None)
