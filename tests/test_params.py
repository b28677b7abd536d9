"""Typed handler parameters: where each value comes from, how it is validated, what a 422 says."""

import dataclasses
import datetime
import decimal
import enum
import inspect
import sys
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional

import httpx
import pytest
from pydantic import BaseModel, EmailStr, Field
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
    HTTPException,
    JSONResponse,
    Kettle,
    Path,
    PlainTextResponse,
    Query,
    Request,
    RequestValidationError,
    Response,
    UploadFile,
)
from kettle.exceptions import FastAPIDeprecationWarning
from kettle.testing import TestClient

# -- helpers ----------------------------------------------------------------------------------


def detail(response: httpx.Response) -> list[dict[str, Any]]:
    """The error items of a 422 response."""
    assert response.status_code == 422, response.text
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


def locs(response: httpx.Response) -> list[list[Any]]:
    return [item["loc"] for item in detail(response)]


def make_handler(**params: tuple[Any, Any]) -> Callable[..., dict[str, Any]]:
    """A handler whose parameters are ``name=(annotation, default)``; it echoes its arguments.

    Building the signature from a table lets one test run the same case over every location
    and both declaration styles.
    """

    def handler(**values: Any) -> dict[str, Any]:
        return values

    empty = inspect.Parameter.empty
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=dflt)
            for name, (ann, dflt) in params.items()
        ]
    )
    handler.__annotations__ = {name: ann for name, (ann, _) in params.items() if ann is not empty}
    return handler


def app_with(path: str, handler: Callable[..., Any], method: str = "GET", **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.add_route(path, handler, [method], **options)
    return app


# -- every location, both declaration styles --------------------------------------------------

EMPTY = inspect.Parameter.empty


def _send_path(raw: str | None) -> dict[str, Any]:
    return {"url": f"/it/{raw}"}


def _send_query(raw: str | None) -> dict[str, Any]:
    return {"url": "/it", "params": {} if raw is None else {"x_v": raw}}


def _send_header(raw: str | None) -> dict[str, Any]:
    return {"url": "/it", "headers": {} if raw is None else {"X-V": raw}}


def _send_cookie(raw: str | None) -> dict[str, Any]:
    return {"url": "/it", "headers": {} if raw is None else {"cookie": f"x_v={raw}"}}


def _send_body(raw: str | None) -> dict[str, Any]:
    return {"url": "/it", "json": {} if raw is None else {"x_v": raw}}


def _send_form(raw: str | None) -> dict[str, Any]:
    return {"url": "/it", "data": {} if raw is None else {"x_v": raw}, "files": {"_": b""}}


# (location in errors, wire name, marker factory, how to send a raw value)
LOCATIONS = [
    pytest.param("path", "x_v", Path, _send_path, id="path"),
    pytest.param("query", "x_v", Query, _send_query, id="query"),
    pytest.param("header", "x-v", Header, _send_header, id="header"),
    pytest.param("cookie", "x_v", Cookie, _send_cookie, id="cookie"),
    pytest.param("body", "x_v", lambda **kw: Body(embed=True, **kw), _send_body, id="body"),
    pytest.param("body", "x_v", Form, _send_form, id="form"),
]
STYLES = ["annotated", "default"]


def located_app(marker: Callable[..., Any], style: str, method: str) -> Kettle:
    if style == "annotated":
        handler = make_handler(x_v=(Annotated[int, marker(ge=1)], EMPTY))
    else:
        handler = make_handler(x_v=(int, marker(ge=1)))
    path = "/it/{x_v}" if marker is Path else "/it"
    return app_with(path, handler, method)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("location", "wire", "marker", "send"), LOCATIONS)
def test_every_location_and_style(
    location: str, wire: str, marker: Any, send: Any, style: str
) -> None:
    method = "POST" if send in (_send_body, _send_form) else "GET"
    client = TestClient(located_app(marker, style, method))

    def request(raw: str | None) -> httpx.Response:
        return client.request(method, **send(raw))

    ok = request("7")
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"x_v": 7}

    (wrong,) = detail(request("seven"))
    assert wrong["type"] == "int_parsing"
    assert wrong["loc"] == [location, wire]
    assert wrong["input"] == "seven"

    (low,) = detail(request("0"))
    assert low == {
        "type": "greater_than_equal",
        "loc": [location, wire],
        "msg": "Input should be greater than or equal to 1",
        "input": "0",
        "ctx": {"ge": 1},
    }
    if marker is not Path:
        (missing,) = detail(request(None))
        assert missing == {
            "type": "missing",
            "loc": [location, wire],
            "msg": "Field required",
            # One of a handler's body parameters is read on its own, as in FastAPI: its
            # absence has no input (a body model's missing field echoes the model's).
            "input": None,
        }


def test_unmarked_parameters_are_inferred() -> None:
    class Item(BaseModel):
        name: str

    app = Kettle(__name__)

    @app.post("/items/{item_id}")
    def handler(item_id: int, item: Item, q: str | None = None, n: list[int] | None = None):
        return {"id": item_id, "item": item.name, "q": q, "n": n}

    client = TestClient(app)
    r = client.post("/items/3?q=x&n=1&n=2", json={"name": "kettle"})
    assert r.json() == {"id": 3, "item": "kettle", "q": "x", "n": [1, 2]}
    r = client.post("/items/x?n=y", json={"name": "kettle"})
    assert locs(r) == [["path", "item_id"], ["query", "n", 0]]
    assert locs(client.post("/items/3", json={})) == [["body", "name"]]


def test_body_and_parameter_errors_are_reported_together() -> None:
    handler = make_handler(item_id=(int, Path()), item=(Item, EMPTY), n=(int, Query()))
    client = TestClient(app_with("/items/{item_id}", handler, "POST"))
    r = client.post("/items/x?n=y", json={})
    assert locs(r) == [["body", "name"], ["path", "item_id"], ["query", "n"]]


def test_fastapi_style_user_example() -> None:
    class UserIn(BaseModel):
        name: str
        email: EmailStr
        age: int
        tags: list[str] = []

    app = Kettle(__name__)

    @app.post("/users", status_code=201)
    async def create_user(
        user: UserIn, x_request_id: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        return {"user": user.model_dump(), "request_id": x_request_id}

    client = TestClient(app)
    sent = {"name": "Ada", "email": "ada@example.com", "age": 36}
    r = client.post("/users", json=sent, headers={"X-Request-ID": "r-1"})
    assert r.status_code == 201
    assert r.json() == {"user": {**sent, "tags": []}, "request_id": "r-1"}
    r = client.post("/users", json={"name": "Ada", "email": "nope", "age": "old"})
    assert [(e["loc"], e["type"]) for e in detail(r)] == [
        (["body", "email"], "value_error"),
        (["body", "age"], "int_parsing"),
    ]


# -- aliases and header names -----------------------------------------------------------------


ALIASES = [
    pytest.param(Query, {"params": {"item-q": "v"}}, {"params": {"item_q": "v"}}, "query", id="q"),
    pytest.param(
        Header, {"headers": {"X-Item-Q": "v"}}, {"headers": {"item-q": "v"}}, "header", id="header"
    ),
    pytest.param(
        Cookie,
        {"headers": {"cookie": "item-q=v"}},
        {"headers": {"cookie": "item_q=v"}},
        "cookie",
        id="cookie",
    ),
]


@pytest.mark.parametrize(("marker", "good", "ignored", "location"), ALIASES)
def test_alias_is_the_only_wire_name(
    marker: Any, good: dict[str, Any], ignored: dict[str, Any], location: str
) -> None:
    alias = "x-item-q" if marker is Header else "item-q"
    handler = make_handler(item_q=(Annotated[str, marker(alias=alias)], EMPTY))
    client = TestClient(app_with("/", handler))
    assert client.get("/", **good).json() == {"item_q": "v"}
    assert locs(client.get("/", **ignored)) == [[location, alias]]


def test_body_and_form_aliases() -> None:
    app = Kettle(__name__)

    @app.post("/body")
    def body(item_id: Annotated[int, Body(alias="itemId", embed=True)]) -> dict[str, int]:
        return {"item_id": item_id}

    @app.post("/form")
    def form(item_id: Annotated[int, Form(alias="item-id")]) -> dict[str, int]:
        return {"item_id": item_id}

    client = TestClient(app)
    assert client.post("/body", json={"itemId": 4}).json() == {"item_id": 4}
    assert locs(client.post("/body", json={"item_id": 4})) == [["body", "itemId"]]
    assert client.post("/form", data={"item-id": "5"}).json() == {"item_id": 5}
    assert [loc[1:] for loc in locs(client.post("/form", data={"item_id": "5"}))] == [["item-id"]]


def test_header_names_convert_underscores() -> None:
    app = Kettle(__name__)

    @app.get("/")
    def handler(
        user_agent: Annotated[str, Header()],
        x_token: Annotated[str | None, Header()] = None,
        x_raw: Annotated[str | None, Header(convert_underscores=False)] = None,
    ) -> dict[str, Any]:
        return {"ua": user_agent, "token": x_token, "raw": x_raw}

    client = TestClient(app)
    r = client.get("/", headers={"User-Agent": "probe", "X-TOKEN": "t", "x_raw": "r"})
    assert r.json() == {"ua": "probe", "token": "t", "raw": "r"}
    # The underscore spelling is not the same header as the hyphenated one.
    r = client.get("/", headers={"x_token": "t", "x-raw": "r"})
    assert r.json() == {"ua": "testclient", "token": None, "raw": None}


# -- repeated values --------------------------------------------------------------------------


def test_list_parameters_collect_repeated_query_and_header_values() -> None:
    app = Kettle(__name__)

    @app.get("/")
    def handler(
        n: Annotated[list[int], Query()],
        tag: set[str] | None = None,
        pair: Annotated[tuple[int, int] | None, Query()] = None,
        x_forwarded: Annotated[list[str], Header()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"n": n, "tag": sorted(tag or ()), "pair": pair, "fwd": x_forwarded}

    client = TestClient(app)
    headers = [("x-forwarded", "a"), ("x-forwarded", "b")]
    r = client.get("/?n=1&n=2&tag=b&tag=a&tag=b&pair=3&pair=4", headers=headers)
    assert r.json() == {"n": [1, 2], "tag": ["a", "b"], "pair": [3, 4], "fwd": ["a", "b"]}
    r = client.get("/?n=1&n=x&n=3&pair=1")
    assert [(e["loc"], e["type"]) for e in detail(r)] == [
        (["query", "n", 1], "int_parsing"),
        (["query", "pair", 1], "missing"),
    ]
    assert locs(client.get("/")) == [["query", "n"]]


def test_scalar_parameter_takes_the_first_of_repeated_values() -> None:
    handler = make_handler(
        q=(str, Query()), x_h=(Annotated[str, Header()], EMPTY), c=(str, Cookie())
    )
    client = TestClient(app_with("/", handler))
    r = client.get(
        "/?q=first&q=second",
        headers=[("x-h", "first"), ("x-h", "second"), ("cookie", "c=first; c=second")],
    )
    assert r.json() == {"q": "first", "x_h": "first", "c": "first"}


# -- constraints: the exact error shape -------------------------------------------------------

CONSTRAINTS = [
    (
        "ge",
        int,
        {"ge": 3},
        "2",
        "3",
        ("greater_than_equal", "Input should be greater than or equal to 3", {"ge": 3}),
    ),
    ("gt", int, {"gt": 3}, "3", "4", ("greater_than", "Input should be greater than 3", {"gt": 3})),
    (
        "le",
        int,
        {"le": 3},
        "4",
        "3",
        ("less_than_equal", "Input should be less than or equal to 3", {"le": 3}),
    ),
    ("lt", int, {"lt": 3}, "3", "2", ("less_than", "Input should be less than 3", {"lt": 3})),
    (
        "min_length",
        str,
        {"min_length": 2},
        "a",
        "ab",
        ("string_too_short", "String should have at least 2 characters", {"min_length": 2}),
    ),
    (
        "max_length",
        str,
        {"max_length": 2},
        "abc",
        "ab",
        ("string_too_long", "String should have at most 2 characters", {"max_length": 2}),
    ),
    (
        "pattern",
        str,
        {"pattern": "^k[a-z]+$"},
        "Kettle",
        "kettle",
        ("string_pattern_mismatch", "String should match pattern '^k[a-z]+$'", None),
    ),
    (
        "multiple_of",
        int,
        {"multiple_of": 5},
        "12",
        "15",
        ("multiple_of", "Input should be a multiple of 5", {"multiple_of": 5}),
    ),
    (
        "max_digits",
        decimal.Decimal,
        {"max_digits": 3},
        "12.34",
        "1.23",
        ("decimal_max_digits", "Decimal input should have no more than 3 digits in total", None),
    ),
    (
        "allow_inf_nan",
        float,
        {"allow_inf_nan": False},
        "nan",
        "1.5",
        ("finite_number", "Input should be a finite number", None),
    ),
]


@pytest.mark.parametrize(
    ("kind", "tp", "options", "bad", "good", "expected"),
    CONSTRAINTS,
    ids=[c[0] for c in CONSTRAINTS],
)
def test_constraint_error_shape(
    kind: str, tp: Any, options: dict[str, Any], bad: str, good: str, expected: tuple[Any, ...]
) -> None:
    handler = make_handler(v=(Annotated[tp, Query(**options)], EMPTY))
    client = TestClient(app_with("/", handler))
    assert client.get("/", params={"v": good}).status_code == 200
    (error,) = detail(client.get("/", params={"v": bad}))
    kind_, msg, ctx = expected
    want = {"type": kind_, "loc": ["query", "v"], "msg": msg, "input": bad}
    if ctx is not None:
        want["ctx"] = ctx
    if kind == "pattern":
        want["ctx"] = {"pattern": "^k[a-z]+$"}
    if kind == "max_digits":
        want["ctx"] = {"max_digits": 3}
    assert error == want


def test_constraints_in_the_default_value_style_and_regex_alias() -> None:
    app = Kettle(__name__)

    with pytest.warns(FastAPIDeprecationWarning, match="use `pattern`") as caught:

        @app.get("/")
        def handler(
            q: str = Query(min_length=2, regex="^[a-z]+$"), page: int = Query(1, gt=0, le=10)
        ) -> dict[str, Any]:
            return {"q": q, "page": page}

    assert caught[0].filename == __file__  # the warning points at the user's line

    client = TestClient(app)
    assert client.get("/?q=ab").json() == {"q": "ab", "page": 1}
    r = client.get("/?q=A&page=11")
    assert [e["type"] for e in detail(r)] == ["string_too_short", "less_than_equal"]
    r = client.get("/?q=A1&page=0")
    assert [e["type"] for e in detail(r)] == ["string_pattern_mismatch", "greater_than"]


@pytest.mark.parametrize(
    ("marker", "options", "message"),
    [
        (Query, {"regex": "^a"}, "use `pattern`"),
        (Header, {"regex": "^a"}, "use `pattern`"),
        (Body, {"example": 1}, "use `examples`"),
        (File, {"example": 1}, "use `examples`"),
        (Path, {"example": 1}, "use `examples`"),
    ],
)
def test_fastapis_deprecated_marker_options_warn_at_the_callers_line(
    marker: Callable[..., Any], options: dict[str, Any], message: str
) -> None:
    with pytest.warns(FastAPIDeprecationWarning, match=message) as caught:
        marker(**options)
    assert caught[0].filename == __file__


def test_schema_options_are_accepted_and_do_not_change_binding() -> None:
    app = Kettle(__name__)

    @app.get("/")
    def handler(
        q: Annotated[
            str,
            Query(
                title="Query",
                description="What to look for",
                examples=["tea"],
                deprecated=True,
                include_in_schema=False,
                json_schema_extra={"x-kettle": True},
                openapi_examples={"tea": {"value": "tea"}},
            ),
        ] = "coffee",
    ) -> dict[str, str]:
        return {"q": q}

    client = TestClient(app)
    assert client.get("/").json() == {"q": "coffee"}
    assert client.get("/?q=tea").json() == {"q": "tea"}


# -- defaults ---------------------------------------------------------------------------------


def test_mutable_defaults_are_not_shared_between_requests() -> None:
    app = Kettle(__name__)

    @app.post("/")
    def handler(
        label: Annotated[list[str], Query(default_factory=lambda: ["fresh"])],
        tags: list[str] = [],  # noqa: B006
        extra: Annotated[dict[str, int], Body(embed=True)] = {"seen": 0},  # noqa: B006
    ) -> dict[str, Any]:
        tags.append("mutated")
        extra["seen"] += 1
        label.append("mutated")
        return {"tags": tags, "extra": extra, "label": label}

    client = TestClient(app)
    first = client.post("/").json()
    second = client.post("/").json()
    assert (
        first
        == second
        == {
            "tags": ["mutated"],
            "extra": {"seen": 1},
            "label": ["fresh", "mutated"],
        }
    )


def test_nested_mutable_defaults_are_not_shared_between_requests() -> None:
    app = Kettle(__name__)

    @app.post("/")
    def handler(
        extra: Annotated[dict[str, list[int]], Body(embed=True)] = {"seen": []},  # noqa: B006
    ) -> dict[str, Any]:
        extra["seen"].append(1)
        return extra

    client = TestClient(app)
    assert [client.post("/").json() for _ in range(2)] == [{"seen": [1]}, {"seen": [1]}]


def test_default_factory_is_called_per_request() -> None:
    calls: list[int] = []

    def factory() -> int:
        calls.append(1)
        return len(calls)

    handler = make_handler(n=(Annotated[int, Query(default_factory=factory)], EMPTY))
    client = TestClient(app_with("/", handler))
    assert [client.get("/").json()["n"] for _ in range(3)] == [1, 2, 3]
    assert client.get("/?n=9").json() == {"n": 9}
    assert len(calls) == 3


# -- types ------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


UID = "12345678-1234-5678-1234-567812345678"
TYPES = [
    pytest.param(int | None, None, "None", "NoneType", id="optional-absent"),
    pytest.param(Optional[int], "3", "3", "int", id="Optional"),  # noqa: UP045
    pytest.param(int | str, "abc", "abc", "str", id="union-fallback"),
    pytest.param(int | str, "12", "12", "str", id="union-smart-str"),
    pytest.param(Color, "red", "Color.RED", "Color", id="enum"),
    pytest.param(Level, "2", "2", "Level", id="int-enum"),
    pytest.param(Literal["a", "b"], "b", "b", "str", id="literal"),
    pytest.param(bool, "yes", "True", "bool", id="bool-yes"),
    pytest.param(bool, "0", "False", "bool", id="bool-0"),
    pytest.param(float, "1.5", "1.5", "float", id="float"),
    pytest.param(
        datetime.datetime,
        "2024-01-02T03:04:05Z",
        "2024-01-02 03:04:05+00:00",
        "datetime",
        id="datetime",
    ),
    pytest.param(datetime.date, "2024-01-02", "2024-01-02", "date", id="date"),
    pytest.param(datetime.time, "12:30", "12:30:00", "time", id="time"),
    pytest.param(datetime.timedelta, "PT1M30S", "0:01:30", "timedelta", id="timedelta"),
    pytest.param(uuid.UUID, UID, UID, "UUID", id="uuid"),
    pytest.param(decimal.Decimal, "1.50", "1.50", "Decimal", id="decimal"),
]


@pytest.mark.parametrize(("annotation", "raw", "text", "kind"), TYPES)
def test_query_types(annotation: Any, raw: str | None, text: str, kind: str) -> None:
    def handler(v: Any = None) -> dict[str, str]:
        return {"text": str(v), "kind": type(v).__name__}

    handler.__annotations__ = {"v": annotation}
    client = TestClient(app_with("/", handler))
    r = client.get("/", params={} if raw is None else {"v": raw})
    assert r.json() == {"text": text, "kind": kind}


BAD_TYPES = [
    (Color, "green", "enum"),
    (Level, "3", "enum"),
    (Literal["a", "b"], "c", "literal_error"),
    (bool, "maybe", "bool_parsing"),
    (datetime.datetime, "yesterday", "datetime_from_date_parsing"),
    (datetime.date, "2024-13-01", "date_from_datetime_parsing"),
    (uuid.UUID, "not-a-uuid", "uuid_parsing"),
    (decimal.Decimal, "1,5", "decimal_parsing"),
    (float, "one", "float_parsing"),
]


@pytest.mark.parametrize(("annotation", "raw", "error"), BAD_TYPES)
def test_query_type_errors(annotation: Any, raw: str, error: str) -> None:
    handler = make_handler(v=(annotation, EMPTY))
    client = TestClient(app_with("/", handler))
    (item,) = detail(client.get("/", params={"v": raw}))
    assert (item["type"], item["loc"], item["input"]) == (error, ["query", "v"], raw)


# -- bodies -----------------------------------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float = 0.0


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


BODIES = [
    pytest.param(Item, {"name": "tea", "price": 2}, {"name": "tea", "price": 2.0}, id="model"),
    pytest.param(Point, {"x": "1"}, {"x": 1, "y": 0}, id="dataclass"),
    pytest.param(Movie, {"title": "M", "year": 1931}, {"title": "M", "year": 1931}, id="typeddict"),
    pytest.param(list[Item], [{"name": "a"}], [{"name": "a", "price": 0.0}], id="list-of-models"),
    pytest.param(list[int], ["1", 2], [1, 2], id="list-of-ints"),
    pytest.param(dict[str, int], {"a": "1"}, {"a": 1}, id="dict"),
]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize(("annotation", "sent", "received"), BODIES)
def test_body_types(annotation: Any, sent: Any, received: Any) -> None:
    def handler(payload: Any) -> dict[str, Any]:
        return {"payload": _plain(payload)}

    handler.__annotations__["payload"] = Annotated[annotation, Body()]
    assert TestClient(app_with("/", handler, "POST")).post("/", json=sent).json() == {
        "payload": received
    }


@pytest.mark.parametrize(("annotation", "sent", "received"), BODIES[:4])
def test_structured_types_are_bodies_without_a_marker(
    annotation: Any, sent: Any, received: Any
) -> None:
    def handler(payload: Any) -> dict[str, Any]:
        return {"payload": _plain(payload)}

    handler.__annotations__["payload"] = annotation
    client = TestClient(app_with("/", handler, "POST"))
    assert client.post("/", json=sent).json() == {"payload": received}
    # Nothing else feeds a body parameter: not the query string, not a form.
    assert locs(client.post("/?name=n&x=1")) == [["body"]]


BODY_ERRORS = [
    pytest.param(Item, {"price": "x"}, [["body", "name"], ["body", "price"]], id="model"),
    pytest.param(Point, {"x": "a"}, [["body", "x"]], id="dataclass"),
    pytest.param(Movie, {"title": "M"}, [["body", "year"]], id="typeddict"),
    pytest.param(list[Item], [{"name": "a"}, {}], [["body", 1, "name"]], id="list"),
]


@pytest.mark.parametrize(("annotation", "sent", "where"), BODY_ERRORS)
def test_body_errors_point_into_the_body(annotation: Any, sent: Any, where: list[Any]) -> None:
    handler = make_handler(payload=(Annotated[annotation, Body()], EMPTY))
    client = TestClient(app_with("/", handler, "POST"))
    assert locs(client.post("/", json=sent)) == where


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="pydantic takes typing.TypedDict")
def test_typing_typeddict_body_on_python_3_11_is_a_configuration_error() -> None:
    import typing

    class Plain(typing.TypedDict):
        a: int

    def handler(payload: Plain) -> dict[str, Any]:
        return dict(payload)

    app = app_with("/", handler, "POST")
    with pytest.raises(ConfigurationError, match="typing_extensions") as info:
        app.compile()
    assert "handler" in str(info.value)


def test_optional_body_defaults_when_absent() -> None:
    app = Kettle(__name__)

    @app.post("/")
    def handler(item: Item | None = None) -> dict[str, Any]:
        return {"item": item.model_dump() if item else None}

    client = TestClient(app)
    assert client.post("/").json() == {"item": None}
    assert client.post("/", json={"name": "n"}).json() == {"item": {"name": "n", "price": 0.0}}
    assert client.post("/", json=None).json() == {"item": None}


def test_single_scalar_body_is_the_whole_body_unless_embedded() -> None:
    app = Kettle(__name__)

    @app.post("/raw")
    def raw(count: Annotated[int, Body(gt=0)]) -> dict[str, int]:
        return {"count": count}

    @app.post("/embedded")
    def embedded(item: Annotated[Item, Body(embed=True)]) -> dict[str, str]:
        return {"name": item.name}

    client = TestClient(app)
    assert client.post("/raw", json=3).json() == {"count": 3}
    assert [(e["type"], e["loc"]) for e in detail(client.post("/raw", json=0))] == [
        ("greater_than", ["body"])
    ]
    assert client.post("/embedded", json={"item": {"name": "a"}}).json() == {"name": "a"}
    assert locs(client.post("/embedded", json={"name": "a"})) == [["body", "item"]]


def test_several_bodies_are_embedded_by_name() -> None:
    class User(BaseModel):
        id: int

    app = Kettle(__name__)

    @app.put("/items/{item_id}")
    def handler(
        item_id: int,
        item: Item,
        user: User,
        importance: Annotated[int, Body(gt=0)],
        note: Annotated[str | None, Body()] = None,
    ) -> dict[str, Any]:
        return {"id": item_id, "item": item.name, "user": user.id, "imp": importance, "note": note}

    client = TestClient(app)
    sent = {"item": {"name": "a"}, "user": {"id": 1}, "importance": 2}
    assert client.put("/items/1", json=sent).json() == {
        "id": 1,
        "item": "a",
        "user": 1,
        "imp": 2,
        "note": None,
    }
    r = client.put("/items/1", json={"item": {}, "importance": 0})
    assert locs(r) == [["body", "item", "name"], ["body", "user"], ["body", "importance"]]


# -- models as groups of query / header / cookie / form parameters ----------------------------


class Filters(BaseModel):
    limit: int = Field(10, le=100)
    tag: list[str] = []
    order: Literal["asc", "desc"] = "asc"


def test_query_model_group() -> None:
    handler = make_handler(f=(Annotated[Filters, Query()], EMPTY))
    client = TestClient(app_with("/", handler))
    r = client.get("/?limit=5&tag=a&tag=b&order=desc&unknown=1")
    assert r.json()["f"] == {"limit": 5, "tag": ["a", "b"], "order": "desc"}
    assert client.get("/").json()["f"] == {"limit": 10, "tag": [], "order": "asc"}
    assert locs(client.get("/?limit=500&order=up")) == [["query", "limit"], ["query", "order"]]


def test_cookie_model_group() -> None:
    class Prefs(BaseModel):
        session: str
        theme: str = "light"

    handler = make_handler(p=(Annotated[Prefs, Cookie()], EMPTY))
    client = TestClient(app_with("/", handler))
    r = client.get("/", headers={"cookie": "session=s1; theme=dark"})
    assert r.json()["p"] == {"session": "s1", "theme": "dark"}
    assert locs(client.get("/")) == [["cookie", "session"]]


def test_header_model_group_single_word_fields() -> None:
    class Auth(BaseModel):
        authorization: str
        accept: str | None = None

    handler = make_handler(h=(Annotated[Auth, Header()], EMPTY))
    client = TestClient(app_with("/", handler))
    r = client.get("/", headers={"Authorization": "Bearer t", "Accept": "text/html"})
    assert r.json()["h"] == {"authorization": "Bearer t", "accept": "text/html"}
    assert locs(client.get("/")) == [["header", "authorization"]]


def test_header_model_group_converts_underscores() -> None:
    class Tracing(BaseModel):
        x_request_id: str
        user_agent: str | None = None

    handler = make_handler(h=(Annotated[Tracing, Header()], EMPTY))
    client = TestClient(app_with("/", handler))
    r = client.get("/", headers={"X-Request-ID": "r1", "User-Agent": "ua"})
    assert r.status_code == 200, r.text
    assert r.json()["h"] == {"x_request_id": "r1", "user_agent": "ua"}


def test_form_model_group() -> None:
    class Login(BaseModel):
        username: str
        remember: bool = False
        scopes: list[str] = []

    handler = make_handler(form=(Annotated[Login, Form()], EMPTY))
    client = TestClient(app_with("/", handler, "POST"))
    r = client.post("/", data={"username": "u", "remember": "on", "scopes": ["a", "b"]})
    assert r.json()["form"] == {"username": "u", "remember": True, "scopes": ["a", "b"]}
    r = client.post("/", data={"remember": "perhaps"})
    assert [loc[1:] for loc in locs(r)] == [["username"], ["remember"]]


# -- forms and files --------------------------------------------------------------------------


def forms_app() -> Kettle:
    app = Kettle(__name__)

    @app.post("/fields")
    def fields(
        name: Annotated[str, Form(min_length=2)],
        age: Annotated[int, Form()] = 0,
        tags: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "tags": tags}

    @app.post("/upload")
    async def upload(
        doc: UploadFile,
        raw: Annotated[bytes, File()],
        many: list[UploadFile],
        note: Annotated[str, Form()] = "",
    ) -> dict[str, Any]:
        return {
            "doc": [doc.filename, doc.content_type, (await doc.read()).decode()],
            "raw": raw.decode(),
            "many": [[f.filename, (await f.read()).decode()] for f in many],
            "note": note,
        }

    @app.post("/optional")
    async def optional(
        doc: UploadFile | None = None, raw: Annotated[bytes | None, File()] = None
    ) -> dict[str, Any]:
        return {"doc": doc.filename if doc else None, "raw": raw.decode() if raw else None}

    return app


def test_urlencoded_and_multipart_form_fields() -> None:
    client = TestClient(forms_app())
    sent = {"name": "ab", "age": "3", "tags": ["x", "y"]}
    assert client.post("/fields", data=sent).json() == {"name": "ab", "age": 3, "tags": ["x", "y"]}
    multipart = client.post("/fields", data=sent, files={"unused": ("f", b"")})
    assert multipart.json() == {"name": "ab", "age": 3, "tags": ["x", "y"]}
    errors = detail(client.post("/fields", data={"name": "a", "age": "z"}))
    assert [(e["type"], e["loc"][1:]) for e in errors] == [
        ("string_too_short", ["name"]),
        ("int_parsing", ["age"]),
    ]
    assert [loc[1:] for loc in locs(client.post("/fields"))] == [["name"]]


def test_a_form_route_reads_no_field_from_a_json_body() -> None:
    """As FastAPI: the fields of a form route are missing from a JSON body (422)."""
    r = TestClient(forms_app()).post("/fields", json={"name": "ab"})
    assert r.status_code == 422
    assert {e["type"] for e in r.json()["detail"]} == {"missing"}


def test_upload_file_bytes_and_file_lists() -> None:
    client = TestClient(forms_app())
    files = [
        ("doc", ("a.txt", b"AAA", "text/plain")),
        ("raw", ("r.bin", b"RRR", "application/octet-stream")),
        ("many", ("m1.txt", b"1")),
        ("many", ("m2.txt", b"2")),
    ]
    r = client.post("/upload", files=files, data={"note": "n"})
    assert r.json() == {
        "doc": ["a.txt", "text/plain", "AAA"],
        "raw": "RRR",
        "many": [["m1.txt", "1"], ["m2.txt", "2"]],
        "note": "n",
    }
    r = client.post("/upload", files=[("doc", ("a.txt", b"AAA"))])
    assert [loc[1:] for loc in locs(r)] == [["raw"], ["many"]]
    r = client.post("/upload", data={"doc": "not a file", "raw": "x", "many": "y"})
    assert [(e["type"], e["loc"][1:]) for e in detail(r)] == [
        ("is_instance_of", ["doc"]),
        ("is_instance_of", ["many", 0]),
    ]


def test_optional_files() -> None:
    client = TestClient(forms_app())
    assert client.post("/optional").json() == {"doc": None, "raw": None}
    r = client.post("/optional", files={"doc": ("d.txt", b"d"), "raw": ("r", b"rr")})
    assert r.json() == {"doc": "d.txt", "raw": "rr"}


def test_form_and_file_errors_are_located_in_the_body() -> None:
    client = TestClient(forms_app())
    assert locs(client.post("/fields", data={"age": "z"})) == [["body", "name"], ["body", "age"]]
    r = client.post("/upload", files=[("doc", ("a.txt", b"A"))])
    assert locs(r) == [["body", "raw"], ["body", "many"]]


# -- special parameters -----------------------------------------------------------------------


def test_request_parameter_receives_the_request() -> None:
    app = Kettle(__name__)

    @app.post("/echo/{name}")
    async def echo(request: Request, name: str, item: Item) -> dict[str, Any]:
        return {
            "path": request.url.path,
            "name": name,
            "item": item.name,
            "raw": (await request.json())["name"],
        }

    r = TestClient(app).post("/echo/x", json={"name": "n"})
    assert r.json() == {"path": "/echo/x", "name": "x", "item": "n", "raw": "n"}


RESPONSE_RETURNS = [
    pytest.param(lambda: {"ok": True}, 201, "application/json", id="dict"),
    pytest.param(lambda: "<p>ok</p>", 201, "text/html; charset=utf-8", id="html"),
    pytest.param(
        lambda: PlainTextResponse("ok", status_code=203),
        201,
        "text/plain; charset=utf-8",
        id="resp",
    ),
    pytest.param(lambda: None, 201, "application/json", id="none"),
]


@pytest.mark.parametrize(("produce", "status", "media"), RESPONSE_RETURNS)
def test_response_parameter_sets_headers_cookies_and_status(
    produce: Callable[[], Any], status: int, media: str | None
) -> None:
    app = Kettle(__name__)

    @app.post("/")
    def handler(response: Response) -> Any:
        response.set_cookie("sid", "abc")
        response.headers["X-Extra"] = "1"
        response.status_code = 201
        return produce()

    r = TestClient(app).post("/")
    assert r.status_code == status
    assert r.headers["x-extra"] == "1"
    assert r.headers["set-cookie"] == "sid=abc; Path=/; HttpOnly; SameSite=Lax"
    assert r.headers.get("content-type") == media


def test_response_parameter_without_a_status_keeps_the_route_status() -> None:
    app = Kettle(__name__)

    @app.post("/", status_code=202)
    def handler(response: Response) -> dict[str, bool]:
        response.headers["X-Seen"] = "yes"
        return {"ok": True}

    r = TestClient(app).post("/")
    assert (r.status_code, r.headers["x-seen"], r.json()) == (202, "yes", {"ok": True})


def test_response_parameter_changes_are_dropped_when_the_handler_raises() -> None:
    app = Kettle(__name__)

    @app.get("/")
    def handler(response: Response) -> None:
        response.set_cookie("half", "done")
        raise HTTPException(409, "conflict")

    r = TestClient(app).get("/")
    assert (r.status_code, r.json(), r.headers.get("set-cookie")) == (
        409,
        {"detail": "conflict"},
        None,
    )


def test_background_tasks_parameter() -> None:
    done: list[str] = []
    app = Kettle(__name__)

    @app.post("/")
    async def handler(tasks: BackgroundTasks, name: str = "x") -> dict[str, str]:
        tasks.add_task(done.append, f"sync {name}")

        async def later(value: str) -> None:
            done.append(value)

        tasks.add_task(later, value=f"async {name}")
        return {"queued": name}

    r = TestClient(app).post("/?name=mail")
    assert r.json() == {"queued": "mail"}
    assert done == ["sync mail", "async mail"]


def test_special_parameters_need_no_marker_and_can_be_anywhere() -> None:
    app = Kettle(__name__)

    def dep(request: Request, response: Response, tasks: BackgroundTasks) -> str:
        response.headers["X-From-Dep"] = request.url.path
        tasks.add_task(lambda: None)
        return "dep"

    @app.get("/special")
    def handler(d: str = Depends(dep), request: Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        return {"d": d, "method": request.method}

    r = TestClient(app).get("/special")
    assert r.json() == {"d": "dep", "method": "GET"}
    assert r.headers["x-from-dep"] == "/special"


# -- Flask style ------------------------------------------------------------------------------


def test_flask_style_untyped_handlers_still_work() -> None:
    app = Kettle(__name__)

    @app.route("/items/<int:item_id>", methods=["GET", "POST"])
    def item(item_id):  # type: ignore[no-untyped-def]
        return {"item_id": item_id, "type": type(item_id).__name__}

    @app.route("/hello/<name>")
    def hello(name):  # type: ignore[no-untyped-def]
        return f"<h1>Hello {name}</h1>"

    @app.route("/all/<a>/<b>")
    def everything(**values):  # type: ignore[no-untyped-def]
        return values

    @app.route("/search")
    def search(q=None, page=1):  # type: ignore[no-untyped-def]
        return {"q": q, "page": page}

    client = TestClient(app)
    assert client.post("/items/3").json() == {"item_id": 3, "type": "int"}
    assert client.get("/items/x").status_code == 404
    r = client.get("/hello/bob")
    assert (r.text, r.headers["content-type"]) == ("<h1>Hello bob</h1>", "text/html; charset=utf-8")
    assert client.get("/all/1/2").json() == {"a": "1", "b": "2"}
    # Untyped query values arrive as the strings that were sent.
    assert client.get("/search?q=tea&page=2").json() == {"q": "tea", "page": "2"}
    assert client.get("/search").json() == {"q": None, "page": 1}


# -- the 422 handler --------------------------------------------------------------------------


def test_request_validation_error_handler_can_be_overridden() -> None:
    app = Kettle(__name__)

    @app.exception_handler(RequestValidationError)
    async def as_400(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(part) for part in e["loc"]) for e in exc.errors()]
        return JSONResponse({"invalid": fields, "path": request.url.path}, status_code=400)

    @app.get("/")
    def handler(n: int, x_key: Annotated[str, Header()]) -> dict[str, int]:
        return {"n": n}

    r = TestClient(app).get("/?n=x")
    assert r.status_code == 400
    assert r.json() == {"invalid": ["query.n", "header.x-key"], "path": "/"}


# -- declaration mistakes ---------------------------------------------------------------------


def _both_defaults(q: Annotated[int, Query(3)] = 4) -> None: ...


def _path_marker_without_placeholder(item_id: Annotated[int, Path()]) -> None: ...


def _dict_in_query(thing: Annotated[dict[str, int], Query()]) -> None: ...


class _Opaque:
    pass


def _unvalidatable_body(thing: _Opaque) -> None: ...


def _positional_only(q: int, /) -> None: ...


def _json_and_form(item: Item, name: Annotated[str, Form()]) -> None: ...


MISTAKES = [
    pytest.param(_both_defaults, "/", "default both", id="two-defaults"),
    pytest.param(_path_marker_without_placeholder, "/", "route path has no", id="path-marker"),
    pytest.param(_dict_in_query, "/", "cannot be read from a query", id="dict-query"),
    pytest.param(_unvalidatable_body, "/", "cannot validate the body", id="opaque-body"),
    pytest.param(_positional_only, "/", "positional-only", id="positional-only"),
    pytest.param(_both_defaults, "/{missing}", "has no parameter of that name", id="path-unbound"),
    pytest.param(
        _json_and_form,
        "/",
        "form",
        id="json-and-form",
    ),
]


@pytest.mark.parametrize(("handler", "path", "message"), MISTAKES)
def test_unbindable_parameters_fail_at_startup(
    handler: Callable[..., Any], path: str, message: str
) -> None:
    app = app_with(path, handler, "POST")
    with pytest.raises(ConfigurationError, match=message) as info:
        app.compile()
    assert handler.__name__ in str(info.value)


@pytest.mark.parametrize(
    ("strict", "headers", "status"),
    [
        (True, {}, 415),
        (True, {"Content-Type": "application/json"}, 200),
        (False, {}, 200),
        (False, {"Content-Type": "application/json"}, 200),
        (False, {"Content-Type": "text/plain"}, 415),
        (False, {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_strict_content_type(strict: bool, headers: dict[str, str], status: int) -> None:
    """``Kettle(strict_content_type=False)``, FastAPI's lax mode: a body with no
    Content-Type at all is read as JSON; a body declaring another type is still refused."""
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str

    app = Kettle(__name__, strict_content_type=strict)

    @app.post("/items")
    async def create(item: Item) -> dict[str, str]:
        return {"name": item.name}

    with TestClient(app) as client:
        response = client.post("/items", content=b'{"name": "tea"}', headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"name": "tea"}


def test_a_large_body_is_not_echoed_by_each_missing_field() -> None:
    """FastAPI repeats the whole body as the input of every missing field's error; kettle
    does for a small body only, so a 1 MiB body missing many fields cannot make a response
    many times its size."""

    class Wide(BaseModel):
        a: int
        b: int
        c: int
        padding: str = ""

    app = Kettle(__name__)

    @app.post("/wide")
    async def wide(item: Wide) -> dict[str, int]:
        return {"a": item.a}

    client = TestClient(app)
    small = detail(client.post("/wide", json={"padding": "x"}))
    assert [e["input"] for e in small] == [{"padding": "x"}] * 3
    big = client.post("/wide", json={"padding": "x" * 100_000})
    assert big.status_code == 422
    assert [e["input"] for e in big.json()["detail"]] == [None] * 3
    assert len(big.content) < 1000


class Strict(BaseModel):
    model_config = {"extra": "forbid"}

    known: str = "k"


def _strict_app(marker: Any) -> Kettle:
    app = Kettle(__name__)

    @app.post("/strict")
    async def strict(values: Annotated[Strict, marker()]) -> dict[str, str]:
        return {"known": values.known}

    return app


@pytest.mark.parametrize(
    ("marker", "location", "send", "key"),
    [
        (Query, "query", {"params": {"known": "a", "tool": "plumbus"}}, "tool"),
        (Header, "header", {"headers": {"known": "a", "x-tool": "plumbus"}}, "x_tool"),
        (Cookie, "cookie", {"headers": {"cookie": "known=a; tool=plumbus"}}, "tool"),
        (Form, "body", {"data": {"known": "a", "tool": "plumbus"}}, "tool"),
    ],
)
def test_a_parameter_model_that_forbids_extra_fields_refuses_them(
    marker: Any, location: str, send: dict[str, Any], key: str
) -> None:
    """As in FastAPI: a ``Query``/``Header``/``Cookie``/``Form`` model with
    ``extra="forbid"`` sees every value of its location, so an unexpected one is a 422."""
    client = TestClient(_strict_app(marker))
    if marker is Header:
        client.headers.clear()
    response = client.post("/strict", **send)
    assert response.status_code == 422, response.text
    errors = [e for e in response.json()["detail"] if e["type"] == "extra_forbidden"]
    assert [e["loc"] for e in errors if e["loc"][-1] == key] == [[location, key]]


# -- validation aliases: the name a value is read by -----------------------------------------


class _AliasedQuery(BaseModel):
    p: str = Field(validation_alias="p_val")


class _AliasedHeaders(BaseModel):
    plain_name: str = "-"
    p: str = Field(alias="p_alias", default="-")


def _alias_app() -> Kettle:
    app = Kettle(__name__)

    @app.get("/query")
    async def query(p: Annotated[str, Query(alias="p_alias", validation_alias="p_val")]) -> str:
        return p

    @app.get("/header")
    async def header(p: Annotated[str, Header(validation_alias="x_val")]) -> str:
        return p

    @app.get("/path/{item_id}")
    async def path(item: Annotated[int, Path(alias="item_id")]) -> int:
        return item

    @app.get("/model")
    async def model(q: Annotated[_AliasedQuery, Query()]) -> str:
        return q.p

    @app.get("/headers")
    async def headers(h: Annotated[_AliasedHeaders, Header()]) -> list[str]:
        return [h.plain_name, h.p]

    @app.post("/form")
    async def form(f: Annotated[_AliasedQuery, Form()]) -> str:
        return f.p

    return app


@pytest.mark.parametrize(
    ("method", "url", "send", "status", "body"),
    [
        ("GET", "/query?p_val=a", {}, 200, "a"),
        ("GET", "/query?p_alias=a", {}, 422, ["query", "p_val"]),
        ("GET", "/query?p=a", {}, 422, ["query", "p_val"]),
        ("GET", "/header", {"headers": {"x_val": "a"}}, 200, "a"),
        ("GET", "/header", {"headers": {"x-val": "a"}}, 422, ["header", "x_val"]),
        ("GET", "/path/7", {}, 200, 7),
        ("GET", "/model?p_val=a", {}, 200, "a"),
        ("GET", "/model?p=a", {}, 422, ["query", "p_val"]),
        # a header model converts plain field names only: an alias is read as written
        ("GET", "/headers", {"headers": {"plain-name": "x", "p_alias": "y"}}, 200, ["x", "y"]),
        ("GET", "/headers", {"headers": {"plain_name": "x", "p-alias": "y"}}, 200, ["-", "-"]),
        ("POST", "/form", {"data": {"p_val": "a"}}, 200, "a"),
        ("POST", "/form", {"data": {"p": "a"}}, 422, ["body", "p_val"]),
    ],
)
def test_a_validation_alias_is_the_name_read(
    method: str, url: str, send: dict[str, Any], status: int, body: Any
) -> None:
    response = TestClient(_alias_app()).request(method, url, **send)
    assert response.status_code == status, response.text
    if status == 200:
        # kettle answers a str as a text page, anything else as JSON
        assert (response.text if isinstance(body, str) else response.json()) == body
    else:
        assert response.json()["detail"][0]["loc"] == body


def test_a_form_model_error_echoes_the_form_as_sent() -> None:
    response = TestClient(_alias_app()).post("/form", data={"p": ["a", "b"], "other": "c"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == {"p": ["a", "b"], "other": "c"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/query", [("p_val", "query")]),
        ("/header", [("x_val", "header")]),
        ("/path/{item_id}", [("item_id", "path")]),
        ("/model", [("p_val", "query")]),
        ("/headers", [("plain-name", "header"), ("p_alias", "header")]),
    ],
)
def test_a_validation_alias_is_the_documented_name(
    path: str, expected: list[tuple[str, str]]
) -> None:
    operation = _alias_app().openapi()["paths"][path]["get"]
    assert [(prm["name"], prm["in"]) for prm in operation["parameters"]] == expected


def test_a_path_alias_must_name_a_path_value() -> None:
    app = Kettle(__name__)

    @app.get("/items/{item_id}")
    async def item(item: Annotated[int, Path(alias="other")]) -> int:
        return item

    with pytest.raises(ConfigurationError, match="item_id"):
        TestClient(app).get("/items/1")
