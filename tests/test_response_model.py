"""Response models and return-value encoding: filtering, options, status codes, plain JSON."""

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import logging
import pathlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pydantic import BaseModel, Field

from kettle import HTMLResponse, JSONResponse, Kettle, PlainTextResponse, Response
from kettle.testing import TestClient


class Inner(BaseModel):
    x: int = 0
    secret: str | None = None


class PublicInner(BaseModel):
    x: int = 0


class UserOut(BaseModel):
    id: int
    name: str = "anon"
    note: str | None = None
    inner: PublicInner = PublicInner()
    display_name: str = Field("shown", alias="displayName")


class UserIn(BaseModel):
    id: int
    name: str
    password: str
    inner: Inner = Inner()


@dataclasses.dataclass
class Row:
    """An ORM-like object: read through attributes."""

    id: int
    name: str
    password: str


def client_for(handler: Callable[..., Any], **options: Any) -> TestClient:
    app = Kettle(__name__)
    app.add_route("/", handler, ["GET"], **options)
    return TestClient(app, raise_server_exceptions=False)


# -- filtering -----------------------------------------------------------------------------------

LEAKY = [
    pytest.param(
        lambda: {"id": 1, "name": "n", "password": "pw", "inner": {"secret": "s"}}, id="dict"
    ),
    pytest.param(
        lambda: UserIn(id=1, name="n", password="pw", inner=Inner(secret="s")), id="other-model"
    ),
    pytest.param(lambda: Row(1, "n", "pw"), id="attributes"),
]


@pytest.mark.parametrize("produce", LEAKY)
@pytest.mark.parametrize("declared", ["response_model", "annotation"])
def test_undeclared_fields_are_filtered_out(produce: Callable[[], Any], declared: str) -> None:
    if declared == "response_model":

        def handler() -> Any:
            return produce()

        client = client_for(handler, response_model=UserOut)
    else:

        def handler() -> UserOut:
            return produce()  # type: ignore[no-any-return]

        client = client_for(handler)
    body = client.get("/").json()
    assert body == {
        "id": 1,
        "name": "n",
        "note": None,
        "inner": {"x": 0},
        "displayName": "shown",
    }


CONTAINERS = [
    pytest.param(list[UserOut], [{"id": 1, "password": "pw"}], id="list"),
    pytest.param(Sequence[UserOut], [{"id": 1, "password": "pw"}], id="sequence"),
    pytest.param(tuple[UserOut, ...], [{"id": 1, "password": "pw"}], id="tuple"),
    pytest.param(dict[str, UserOut], {"a": {"id": 1, "password": "pw"}}, id="dict"),
    pytest.param(UserOut | None, {"id": 1, "password": "pw"}, id="optional"),
]


@pytest.mark.parametrize(("model", "value"), CONTAINERS)
def test_containers_of_models_are_filtered_with_response_model(model: Any, value: Any) -> None:
    client = client_for(lambda: value, response_model=model)
    assert "pw" not in client.get("/").text


@pytest.mark.parametrize(
    ("model", "value"),
    [pytest.param(*case.values, id=case.id) for case in CONTAINERS],
)
def test_containers_of_models_are_filtered_by_the_return_annotation(model: Any, value: Any) -> None:
    def handler() -> Any:
        return value

    handler.__annotations__["return"] = model
    r = client_for(handler).get("/")
    assert r.status_code == 200
    assert "pw" not in r.text
    assert "displayName" in r.text


def test_nested_models_filter_at_every_level() -> None:
    class Team(BaseModel):
        name: str
        members: list[UserOut]
        lead: UserOut | None = None

    def handler() -> Team:
        return {  # type: ignore[return-value]
            "name": "core",
            "members": [UserIn(id=1, name="a", password="p1"), {"id": 2, "password": "p2"}],
            "lead": Row(3, "c", "p3"),
            "budget": 10,
        }

    body = client_for(handler).get("/").json()
    assert [m["id"] for m in body["members"]] == [1, 2]
    assert body["lead"]["id"] == 3
    assert set(body) == {"name", "members", "lead"}
    assert "p1" not in str(body)
    assert "p3" not in str(body)


# -- serialization options ---------------------------------------------------------------------

DATA = {"id": 1, "note": None, "inner": {"x": 0}}
OPTIONS = [
    pytest.param({}, {"id", "name", "note", "inner", "displayName"}, id="default"),
    pytest.param({"response_model_exclude_unset": True}, {"id", "note", "inner"}, id="unset"),
    pytest.param(
        {"response_model_exclude_none": True}, {"id", "name", "inner", "displayName"}, id="none"
    ),
    pytest.param({"response_model_exclude_defaults": True}, {"id"}, id="defaults"),
    pytest.param({"response_model_include": {"id", "name"}}, {"id", "name"}, id="include"),
    pytest.param(
        {"response_model_exclude": {"inner", "note"}}, {"id", "name", "displayName"}, id="exclude"
    ),
    pytest.param(
        {"response_model_by_alias": False},
        {"id", "name", "note", "inner", "display_name"},
        id="by-field-name",
    ),
]


@pytest.mark.parametrize(("options", "keys"), OPTIONS)
def test_serialization_options(options: dict[str, Any], keys: set[str]) -> None:
    client = client_for(lambda: dict(DATA), response_model=UserOut, **options)
    assert set(client.get("/").json()) == keys


def test_exclude_unset_follows_what_a_returned_model_was_given() -> None:
    def handler() -> UserOut:
        return UserOut(id=1, note=None)

    body = client_for(handler, response_model_exclude_unset=True).get("/").json()
    assert body == {"id": 1, "note": None}


def test_nested_include_and_exclude() -> None:
    client = client_for(
        lambda: {"id": 1, "inner": {"x": 5}},
        response_model=UserOut,
        response_model_include={"id": True, "inner": {"x"}},
    )
    assert client.get("/").json() == {"id": 1, "inner": {"x": 5}}


# -- which return values use the model ----------------------------------------------------------


def test_returning_a_response_bypasses_the_model() -> None:
    def handler() -> UserOut:
        return JSONResponse({"anything": "goes"}, status_code=202)  # type: ignore[return-value]

    r = client_for(handler).get("/")
    assert (r.status_code, r.json()) == (202, {"anything": "goes"})


def test_response_model_none_turns_the_annotation_off() -> None:
    def handler() -> UserOut:
        return {"raw": True}  # type: ignore[return-value]

    assert client_for(handler, response_model=None).get("/").json() == {"raw": True}


def test_explicit_response_model_wins_over_the_annotation() -> None:
    def handler() -> UserIn:
        return UserIn(id=1, name="n", password="pw")

    body = client_for(handler, response_model=PublicInner).get("/").json()
    assert body == {"x": 0}


PASSTHROUGH = [
    pytest.param(dict, {"a": 1}, "application/json", '{"a":1}', id="dict"),
    pytest.param(list, [1, "x"], "application/json", '[1,"x"]', id="list"),
    pytest.param(dict[str, Any], {"a": 1}, "application/json", '{"a":1}', id="dict-str-any"),
    pytest.param(Any, {"a": 1}, "application/json", '{"a":1}', id="any"),
    pytest.param(str, "<b>hi</b>", "text/html; charset=utf-8", "<b>hi</b>", id="str-is-html"),
    pytest.param(bytes, b"<i>x</i>", "text/html; charset=utf-8", "<i>x</i>", id="bytes"),
    pytest.param(Response, PlainTextResponse("t"), "text/plain; charset=utf-8", "t", id="resp"),
    pytest.param(
        HTMLResponse | dict,  # type: ignore[operator]
        {"a": 1},
        "application/json",
        '{"a":1}',
        id="response-union",
    ),
    pytest.param(
        str | None,
        "<b>hi</b>",
        "text/html; charset=utf-8",
        "<b>hi</b>",
        id="optional-str",
    ),
]


@pytest.mark.parametrize(("annotation", "value", "media", "text"), PASSTHROUGH)
def test_annotations_that_are_not_validated(
    annotation: Any, value: Any, media: str, text: str
) -> None:
    def handler() -> Any:
        return value

    handler.__annotations__["return"] = annotation
    r = client_for(handler).get("/")
    assert (r.status_code, r.headers["content-type"], r.text) == (200, media, text)


def test_parametrized_dict_annotations_are_validated() -> None:
    def handler() -> dict[str, int]:
        return {"a": "1"}  # type: ignore[dict-item]

    assert client_for(handler).get("/").json() == {"a": 1}


def test_scalar_annotations_encode_as_json() -> None:
    def handler() -> int:
        return "5"  # type: ignore[return-value]

    r = client_for(handler).get("/")
    assert (r.headers["content-type"], r.text) == ("application/json", "5")


# -- response validation failures ---------------------------------------------------------------


def bad_handler() -> UserOut:
    return {"name": "no id", "password": "hunter2"}  # type: ignore[return-value]


def test_response_validation_failure_is_a_500_that_leaks_nothing() -> None:
    r = client_for(bad_handler).get("/")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    assert "hunter2" not in r.text


def test_response_validation_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        client_for(bad_handler).get("/")
    assert "bad_handler" in caplog.text or "UserOut" in caplog.text


# -- status codes ----------------------------------------------------------------------------------


def test_status_code_option_with_a_model() -> None:
    client = client_for(lambda: {"id": 5, "password": "x"}, response_model=UserOut, status_code=201)
    r = client.get("/")
    assert (r.status_code, r.json()["id"], "password" in r.text) == (201, 5, False)


def test_none_annotation_means_204() -> None:
    def handler() -> None:
        return None

    r = client_for(handler).get("/")
    assert (r.status_code, r.content, r.headers.get("content-type")) == (204, b"", None)


def test_optional_model_returning_none_is_json_null() -> None:
    def handler() -> UserOut | None:
        return None

    r = client_for(handler).get("/")
    assert (r.status_code, r.text) == (200, "null")


def _returns_dict_with_none_annotation() -> None:
    return {"a": 1}  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("handler", "options"),
    [
        pytest.param(lambda: None, {"status_code": 204}, id="none-204"),
        pytest.param(lambda: "", {"status_code": 204}, id="empty-str-204"),
        pytest.param(lambda: {"a": 1}, {"status_code": 204}, id="dict-204"),
        pytest.param(
            lambda: {"id": 1},
            {"status_code": 204, "response_model": UserOut},
            id="model-204",
        ),
        pytest.param(_returns_dict_with_none_annotation, {}, id="none-annotation"),
    ],
)
def test_a_204_never_has_a_body(handler: Callable[[], Any], options: dict[str, Any]) -> None:
    r = client_for(handler, **options).get("/")
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers.get("content-length") in (None, "0")


def test_response_parameter_works_with_a_model() -> None:
    def handler(response: Response) -> UserOut:
        response.headers["X-Total"] = "1"
        response.status_code = 202
        return {"id": 1, "password": "pw"}  # type: ignore[return-value]

    r = client_for(handler).get("/")
    assert (r.status_code, r.headers["x-total"], "pw" in r.text) == (202, "1", False)


def test_head_request_on_a_model_route_has_no_body() -> None:
    def handler() -> UserOut:
        return {"id": 1}  # type: ignore[return-value]

    r = client_for(handler).head("/")
    assert (r.status_code, r.content) == (200, b"")
    assert int(r.headers["content-length"]) > 0


# -- plain values encoded with orjson ------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Stamp:
    at: datetime.datetime
    tags: tuple[str, ...] = ()


class Alias(BaseModel):
    user_name: str = Field(alias="userName")


PLAIN = [
    pytest.param(datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05", id="datetime"),
    pytest.param(
        datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC), "2024-01-02T00:00:00+00:00", id="aware"
    ),
    pytest.param(datetime.date(2024, 1, 2), "2024-01-02", id="date"),
    pytest.param(datetime.time(12, 30), "12:30:00", id="time"),
    pytest.param(uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001", id="uuid"),
    pytest.param(decimal.Decimal("1.5"), 1.5, id="decimal"),
    pytest.param(decimal.Decimal("NaN"), None, id="decimal-nan"),
    pytest.param(Color.RED, "red", id="enum"),
    pytest.param(Level.HIGH, 3, id="int-enum"),
    pytest.param(
        Stamp(datetime.datetime(2024, 1, 1), ("a",)),
        {"at": "2024-01-01T00:00:00", "tags": ["a"]},
        id="dataclass",
    ),
    pytest.param(PublicInner(x=2), {"x": 2}, id="model"),
    pytest.param({"a"}, ["a"], id="set"),
    pytest.param(("a", 1), ["a", 1], id="tuple"),
    pytest.param(pathlib.PurePosixPath("/a/b"), "/a/b", id="path"),
    pytest.param({1: "int key"}, {"1": "int key"}, id="int-keys"),
    pytest.param(
        datetime.timedelta(seconds=90),
        "PT1M30S",
        id="timedelta",
    ),
    pytest.param(
        ipaddress.IPv4Address("10.0.0.1"),
        "10.0.0.1",
        id="ip-address",
    ),
    pytest.param(
        Alias(userName="u"),
        {"userName": "u"},
        id="model-alias",
    ),
]


@pytest.mark.parametrize(("value", "encoded"), PLAIN)
def test_plain_data_encodes_with_orjson(value: Any, encoded: Any) -> None:
    client = client_for(lambda: {"value": value, "nested": [{"value": value}]})
    r = client.get("/")
    assert r.status_code == 200, r.text
    assert r.json() == {"value": encoded, "nested": [{"value": encoded}]}


def test_a_model_returned_without_annotation_is_json() -> None:
    r = client_for(lambda: UserIn(id=1, name="n", password="pw")).get("/")
    assert r.json()["password"] == "pw"  # no model declared: nothing is filtered


def test_decimals_keep_their_digits_only_through_a_model() -> None:
    class Price(BaseModel):
        amount: decimal.Decimal

    def typed() -> Price:
        return Price(amount=decimal.Decimal("12345678901234567890.10"))

    assert client_for(typed).get("/").json() == {"amount": "12345678901234567890.10"}
    plain = client_for(lambda: {"amount": decimal.Decimal("12345678901234567890.10")})
    assert plain.get("/").json() == {"amount": 1.2345678901234567e19}  # a float: digits lost
