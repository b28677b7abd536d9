"""Hostile input against typed parameters: a precise 4xx naming the culprit, never a 500.

See HOSTILE-INPUTS (bodies, Content-Type, cookies, WebSocket) in the design notes.
"""

import datetime
import decimal
import uuid
from typing import Annotated, Any, Literal

import anyio
import httpx
import pytest
from pydantic import BaseModel, ConfigDict

from kettle import (
    Body,
    Cookie,
    Header,
    Kettle,
    Limits,
    Path,
    Query,
    WebSocket,
    WebSocketDisconnect,
)
from kettle.testing import TestClient
from kettle.types import Message


class Order(BaseModel):
    id: int
    qty: int = 1
    price: float = 0.0
    tags: list[str] = []
    meta: dict[str, Any] = {}


class StrictNumbers(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    price: float


def make_app() -> Kettle:
    app = Kettle(__name__, limits=Limits(max_body_size=64 * 1024, max_query_params=50))

    @app.get("/items/{item_id}")
    def item(
        item_id: Annotated[int, Path(ge=1, le=10**6)],
        q: Annotated[str | None, Query(max_length=50)] = None,
        n: Annotated[int, Query(ge=0, le=100)] = 0,
        when: datetime.datetime | None = None,
        uid: uuid.UUID | None = None,
        amount: Annotated[decimal.Decimal | None, Query(max_digits=10)] = None,
        mode: Literal["fast", "slow"] = "fast",
        x_count: Annotated[int | None, Header(le=100)] = None,
        session: Annotated[str | None, Cookie(pattern="^[a-f0-9]{8}$")] = None,
    ) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "n": n, "mode": mode, "session": session}

    @app.post("/orders")
    def create(order: Order) -> dict[str, Any]:
        return order.model_dump()

    @app.post("/strict")
    def strict(numbers: StrictNumbers) -> dict[str, Any]:
        return numbers.model_dump()

    @app.post("/any")
    def anything(payload: Annotated[Any, Body()]) -> dict[str, str]:
        return {"type": type(payload).__name__}

    @app.post("/floats")
    def floats(order: Order) -> dict[str, str]:
        return {"price": repr(order.price)}

    @app.post("/optional")
    def optional(order: Order | None = None) -> dict[str, Any]:
        return {"order": order.model_dump() if order else None}

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: int, token: Annotated[str, Query(min_length=4)]):
        await websocket.accept()
        await websocket.send_text(f"{room}:{token}")

    return app


APP = make_app()
CLIENT = TestClient(APP)
JSON = {"content-type": "application/json"}


def call(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, Any]:
    """GET /items/1 straight through ASGI: for inputs an HTTP client refuses to send."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/1",
        "raw_path": b"/items/1",
        "query_string": query,
        "root_path": "",
        "headers": headers or [],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    anyio.run(APP, scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], httpx.Response(200, content=body).json()


def only_error(response: httpx.Response | tuple[int, Any]) -> dict[str, Any]:
    """The single error item of a 422."""
    if isinstance(response, tuple):
        status, body = response
    else:
        status, body = response.status_code, response.json()
    assert status == 422, body
    (item,) = body["detail"]
    assert isinstance(item, dict)
    return item


# -- missing, wrong-typed, out of range -------------------------------------------------------

QUERY_CASES = [
    pytest.param("/items/x", "int_parsing", ["path", "item_id"], id="path-not-int"),
    pytest.param("/items/0", "greater_than_equal", ["path", "item_id"], id="path-too-small"),
    pytest.param("/items/1000001", "less_than_equal", ["path", "item_id"], id="path-too-big"),
    pytest.param("/items/1.5", "int_parsing", ["path", "item_id"], id="path-float"),
    pytest.param("/items/1?n=-1", "greater_than_equal", ["query", "n"], id="negative"),
    pytest.param("/items/1?n=", "int_parsing", ["query", "n"], id="empty-int"),
    pytest.param("/items/1?n=0x10", "int_parsing", ["query", "n"], id="hex-int"),
    pytest.param("/items/1?n=1e2", "int_parsing", ["query", "n"], id="exponent-int"),
    pytest.param("/items/1?n=%20", "int_parsing", ["query", "n"], id="blank-int"),
    pytest.param("/items/1?when=soon", "datetime_from_date_parsing", ["query", "when"], id="dt"),
    pytest.param(
        "/items/1?when=1e20", "datetime_from_date_parsing", ["query", "when"], id="dt-huge-epoch"
    ),
    pytest.param("/items/1?uid=1234", "uuid_parsing", ["query", "uid"], id="uuid"),
    pytest.param(
        "/items/1?amount=12345678901", "decimal_max_digits", ["query", "amount"], id="decimal"
    ),
    pytest.param("/items/1?mode=FAST", "literal_error", ["query", "mode"], id="literal-case"),
]


@pytest.mark.parametrize(("url", "kind", "loc"), QUERY_CASES)
def test_wrong_typed_or_out_of_range_values(url: str, kind: str, loc: list[str]) -> None:
    error = only_error(CLIENT.get(url))
    assert (error["type"], error["loc"]) == (kind, loc)


HEADER_COOKIE_CASES = [
    pytest.param({"x-count": "many"}, "int_parsing", ["header", "x-count"], id="header-type"),
    pytest.param({"x-count": "101"}, "less_than_equal", ["header", "x-count"], id="header-range"),
    pytest.param(
        {"cookie": "session=../../etc"},
        "string_pattern_mismatch",
        ["cookie", "session"],
        id="cookie-pattern",
    ),
]


@pytest.mark.parametrize(("headers", "kind", "loc"), HEADER_COOKIE_CASES)
def test_wrong_headers_and_cookies(headers: dict[str, str], kind: str, loc: list[str]) -> None:
    error = only_error(CLIENT.get("/items/1", headers=headers))
    assert (error["type"], error["loc"]) == (kind, loc)


def test_repeated_keys_take_the_first_value_and_cannot_smuggle_a_second() -> None:
    r = CLIENT.get("/items/1?n=1&n=1000&mode=slow&mode=bogus")
    assert r.json()["n"] == 1
    assert r.json()["mode"] == "slow"
    error = only_error(CLIENT.get("/items/1?n=1000&n=1"))
    assert (error["loc"], error["input"]) == (["query", "n"], "1000")


def test_too_many_query_parameters_is_a_400() -> None:
    r = CLIENT.get("/items/1?" + "&".join(f"k{i}=v" for i in range(51)))
    assert r.status_code == 400


# -- oversized --------------------------------------------------------------------------------


def test_a_megabyte_query_value_against_max_length() -> None:
    error = only_error(call(b"q=" + b"x" * 10**6))
    assert (error["type"], error["loc"], error["ctx"]) == (
        "string_too_long",
        ["query", "q"],
        {"max_length": 50},
    )


HUGE = "9" * 5000  # 10**5000 - 1: past Python's int-from-string digit limit


@pytest.mark.parametrize(
    ("url", "headers", "loc"),
    [
        pytest.param(f"/items/{HUGE}", {}, ["path", "item_id"], id="path"),
        pytest.param(f"/items/1?n={HUGE}", {}, ["query", "n"], id="query"),
        pytest.param("/items/1", {"x-count": HUGE}, ["header", "x-count"], id="header"),
    ],
)
def test_huge_integers_as_strings(url: str, headers: dict[str, str], loc: list[str]) -> None:
    error = only_error(CLIENT.get(url, headers=headers))
    assert (error["type"], error["loc"]) == ("int_parsing_size", loc)


def test_huge_integer_in_json() -> None:
    r = CLIENT.post("/orders", content=b'{"id": ' + HUGE.encode() + b"}", headers=JSON)
    error = only_error(r)
    assert (error["type"], error["loc"]) == ("json_invalid", ["body"])


def test_large_but_parseable_integer_is_checked_by_the_constraint() -> None:
    error = only_error(CLIENT.get(f"/items/1?n={'9' * 4000}"))
    assert (error["type"], error["loc"]) == ("less_than_equal", ["query", "n"])


def test_body_over_the_limit_is_a_413() -> None:
    r = CLIENT.post(
        "/orders", content=b'{"id": 1, "tags": ["' + b"x" * 70_000 + b'"]}', headers=JSON
    )
    assert r.status_code == 413


# -- wrongly encoded --------------------------------------------------------------------------


def test_invalid_utf8_in_a_percent_encoded_typed_value() -> None:
    error = only_error(CLIENT.get("/items/1?n=%ff%fe"))
    assert (error["type"], error["loc"]) == ("int_parsing", ["query", "n"])


@pytest.mark.parametrize(
    ("query", "value"),
    [
        pytest.param(b"q=%ff%fe", "\ufffd\ufffd", id="invalid-utf8-replaced"),
        pytest.param(b"q=%zz%", "%zz%", id="bad-escapes-kept"),
        pytest.param(b"q=%00", "\x00", id="nul"),
        pytest.param(b"q=\xff", "\xff", id="raw-byte-as-latin1"),
    ],
)
def test_wrongly_encoded_text_is_decoded_leniently(query: bytes, value: str) -> None:
    status, body = call(query)
    assert (status, body["q"]) == (200, value)


# -- JSON bodies ------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b'{"id": 1, "meta": {"a": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize("path", ["/orders", "/any"])
def test_deeply_nested_json_is_refused(path: str) -> None:
    body = nested(10_000) if path == "/orders" else b"[" * 10_000 + b"]" * 10_000
    error = only_error(CLIENT.post(path, content=body, headers=JSON))
    assert (error["type"], error["loc"]) == ("json_invalid", ["body"])
    assert "recursion limit" in error["msg"]


def test_moderately_nested_json_is_fine() -> None:
    assert CLIENT.post("/orders", content=nested(100), headers=JSON).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(b"NaN"),
        pytest.param(b"Infinity"),
        pytest.param(b"-Infinity"),
    ],
)
def test_non_finite_json_numbers_are_refused(token: bytes) -> None:
    r = CLIENT.post("/floats", content=b'{"id": 1, "price": ' + token + b"}", headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize("token", [b"NaN", b"Infinity"])
@pytest.mark.parametrize(("path", "field"), [("/strict", b"price"), ("/orders", b"id")])
def test_nan_and_infinity_tokens_are_refused_before_validation(
    token: bytes, path: str, field: bytes
) -> None:
    body = b'{"' + field + b'": ' + token + b"}"
    error = only_error(CLIENT.post(path, content=body, headers=JSON))
    assert (error["type"], error["loc"]) == ("json_invalid", ["body"])


@pytest.mark.parametrize(
    ("path", "field", "loc"),
    [("/strict", b"price", ["body", "price"]), ("/orders", b"id", ["body", "id"])],
)
def test_out_of_range_numbers_are_refused_by_the_field(
    path: str, field: bytes, loc: list[str]
) -> None:
    # 1e400 parses as infinity: a finite float field or an int field refuses it, by name.
    error = only_error(CLIENT.post(path, content=b'{"' + field + b'": 1e400}', headers=JSON))
    assert error["loc"] == loc


def test_duplicate_json_keys_the_last_one_counts_and_is_validated() -> None:
    r = CLIENT.post("/orders", content=b'{"id": "x", "id": 2}', headers=JSON)
    assert r.json()["id"] == 2
    error = only_error(CLIENT.post("/orders", content=b'{"id": 2, "id": "x"}', headers=JSON))
    assert (error["loc"], error["input"]) == (["body", "id"], "x")


MALFORMED = [
    pytest.param(b'{"id": 1', id="truncated"),
    pytest.param(b"{'id': 1}", id="single-quotes"),
    pytest.param(b'{"id": 1} {"id": 2}', id="trailing-data"),
    pytest.param(b'\xef\xbb\xbf{"id": 1}', id="bom"),
    pytest.param(b'{"id": 1, "tags": ["\xff"]}', id="invalid-utf8"),
    pytest.param(b'{"id": 1, "tags": ["\\ud800"]}', id="lone-surrogate"),
    pytest.param('{"id": 1}'.encode("utf-16"), id="utf-16"),
    pytest.param(b'{"id": 1,}', id="trailing-comma"),
    pytest.param(b"\x00", id="nul"),
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_is_a_json_invalid_422(body: bytes) -> None:
    error = only_error(CLIENT.post("/orders", content=body, headers=JSON))
    assert (error["type"], error["loc"], error["input"]) == ("json_invalid", ["body"], None)


SHAPES = [
    pytest.param(b"", "missing", id="empty"),
    pytest.param(b"null", "model_type", id="null"),
    pytest.param(b'[{"id": 1}]', "model_type", id="top-level-array"),
    pytest.param(b'"order"', "model_type", id="string"),
    pytest.param(b"42", "model_type", id="number"),
]


@pytest.mark.parametrize(("body", "kind"), SHAPES)
def test_wrong_top_level_shapes(body: bytes, kind: str) -> None:
    error = only_error(CLIENT.post("/orders", content=body, headers=JSON))
    assert (error["type"], error["loc"]) == (kind, ["body"])


def test_empty_body_without_content_type_for_a_required_model() -> None:
    error = only_error(CLIENT.post("/orders"))
    assert (error["type"], error["loc"]) == ("missing", ["body"])


def test_null_or_empty_body_for_an_optional_model_is_none() -> None:
    assert CLIENT.post("/optional").json() == {"order": None}
    assert CLIENT.post("/optional", content=b"null", headers=JSON).json() == {"order": None}


def test_wrong_types_deep_inside_the_body_point_at_the_field() -> None:
    body = b'{"id": 1, "tags": ["ok", 2, {"x": 1}]}'
    r = CLIENT.post("/orders", content=body, headers=JSON)
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "tags", 1], ["body", "tags", 2]]


# -- content types ----------------------------------------------------------------------------

ACCEPTED_TYPES = [
    "application/json",
    "Application/JSON",
    " application/json ; charset=utf-8",
    'application/json; charset="utf-8"',
    "application/merge-patch+json",
    "application/vnd.api+json",
]


@pytest.mark.parametrize("content_type", ACCEPTED_TYPES)
def test_json_content_type_variants_are_accepted(content_type: str) -> None:
    r = CLIENT.post("/orders", content=b'{"id": 1}', headers={"content-type": content_type})
    assert r.status_code == 200, r.text


REFUSED_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "text/plain; x=application/json",
    "text/json",
    "application/jsonp",
    "application/json-seq",
    "application/json, text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
]


@pytest.mark.parametrize("content_type", REFUSED_TYPES)
def test_a_body_with_another_content_type_is_a_415(content_type: str) -> None:
    r = CLIENT.post("/orders", content=b'{"id": 1}', headers={"content-type": content_type})
    assert r.status_code == 415
    assert "JSON" in r.json()["detail"]


def test_a_body_without_content_type_is_a_415() -> None:
    request = CLIENT.build_request("POST", "/orders", content=b'{"id": 1}')
    assert "content-type" not in request.headers
    assert CLIENT.send(request).status_code == 415


def test_form_data_sent_to_a_json_route_is_a_415() -> None:
    assert CLIENT.post("/orders", data={"id": "1"}).status_code == 415
    assert CLIENT.post("/orders", files={"id": ("f", b"1")}).status_code == 415


# -- cookies ----------------------------------------------------------------------------------


def test_duplicate_cookie_names_the_first_one_counts() -> None:
    status, body = call(headers=[(b"cookie", b"session=0123abcd; session=ffffffff")])
    assert (status, body["session"]) == (200, "0123abcd")


def test_cookies_split_across_header_lines() -> None:
    status, body = call(headers=[(b"cookie", b"theme=dark"), (b"cookie", b"session=0123abcd")])
    assert (status, body["session"]) == (200, "0123abcd")


# -- WebSocket --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/ws/x?token=abcd", "/ws/1?token=ab", "/ws/1"])
def test_websocket_with_bad_typed_input_is_refused(url: str) -> None:
    with pytest.raises(WebSocketDisconnect) as info, CLIENT.websocket_connect(url):
        pass  # pragma: no cover
    assert info.value.code == 1008


def test_websocket_with_good_typed_input() -> None:
    with CLIENT.websocket_connect("/ws/7?token=abcd") as session:
        assert session.receive_text() == "7:abcd"
