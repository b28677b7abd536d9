"""Plans (kettle/plan.py), built and run without a client or a server: which binder a
handler gets, what it returns for a request, and how return values are encoded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated, Any

import orjson
import pytest
from pydantic import BaseModel

from kettle import Depends, Header, Query, Request, Response
from kettle.concurrency import ThreadPool
from kettle.di import CallState
from kettle.exceptions import RequestValidationError
from kettle.plan import RoutePlan
from kettle.serialization import ResponseEncoder
from kettle.signature import analyze

POOL = ThreadPool(2)


class Ctx:
    """Stands in for the per-request context: a request, and the DI state slot.

    ``made=True``: made as dispatch makes one for a plan that ``reads_request`` (the request
    already built and set as ``created_request``); else the binder reads ``ctx.request``.
    """

    def __init__(
        self, query: bytes = b"", headers: Any = (), body: bytes = b"", made: bool = False
    ) -> None:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "query_string": query,
            "headers": [(b"content-type", b"application/json"), *headers],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        self.request = Request(scope, receive)
        self.created_request = self.request if made else None
        self.call: CallState | None = None


def plan_for(func: Any, path_params: tuple[str, ...] = ()) -> RoutePlan:
    return RoutePlan(analyze(func, list(path_params)), POOL)


def run(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return asyncio.run(_await(value))
    return value


async def _await(value: Awaitable[Any]) -> Any:
    return await value


class Item(BaseModel):
    name: str
    price: float


async def no_inputs() -> None: ...
async def path_only(item_id) -> None: ...  # type: ignore[no-untyped-def]
# (unannotated, as after the compile step: the matcher's converter already typed it)
async def typed_query(q: Annotated[str, Query(max_length=3)], limit: int = 10) -> None: ...
async def with_request(request: Request, q: str = "") -> None: ...
async def body_only(item: Item) -> None: ...
async def get_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def with_dependency(token: Annotated[str, Depends(get_token)]) -> None: ...
async def with_response(response: Response) -> None: ...


@pytest.mark.parametrize("made", [False, True], ids=["lazy-request", "made-with-request"])
@pytest.mark.parametrize(
    ("func", "params", "binder", "awaits", "reads_request"),
    [
        (no_inputs, (), "_no_arguments", False, False),
        (path_only, ("item_id",), "_path_values", False, False),
        (typed_query, (), "one_call", False, True),
        (with_request, (), "one_call", False, True),
        (body_only, (), "arguments", True, True),  # the body reader's own method
        (with_dependency, (), "solved", True, True),
        (with_response, (), "solved", True, True),
    ],
)
def test_the_cheapest_binder_is_chosen_once(
    func: Any,
    params: tuple[str, ...],
    binder: str,
    awaits: bool,
    reads_request: bool,
    made: bool,
) -> None:
    plan = plan_for(func, params)
    assert plan.arguments.__name__ == binder
    assert plan.binder_awaits is awaits
    assert plan.reads_request is reads_request
    values = {"item_id": 3} if params else {}
    body = b'{"name": "tea", "price": 2.5}'
    ctx = Ctx(query=b"q=abc", headers=[(b"x-token", b"t")], body=body, made=made)
    out = plan.arguments(ctx, values)  # type: ignore[arg-type]
    assert isinstance(out, Awaitable) is awaits
    kwargs = run(out) if awaits else out
    if func is with_request:
        assert kwargs["request"] is ctx.request


def test_path_values_arrive_as_the_matcher_converted_them() -> None:
    assert plan_for(path_only, ("item_id",)).arguments(Ctx(), {"item_id": 7}) == {"item_id": 7}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [(b"q=abc", {"q": "abc", "limit": 10}), (b"q=ab&limit=2", {"q": "ab", "limit": 2})],
)
def test_one_validation_call_for_query_values(query: bytes, expected: dict[str, Any]) -> None:
    assert plan_for(typed_query).arguments(Ctx(query=query), {}) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "loc"),
    [(b"", ["query", "q"]), (b"q=abcd", ["query", "q"]), (b"q=a&limit=x", ["query", "limit"])],
)
def test_invalid_inputs_are_422s_that_say_where(query: bytes, loc: list[str]) -> None:
    with pytest.raises(RequestValidationError) as caught:
        plan_for(typed_query).arguments(Ctx(query=query), {})  # type: ignore[arg-type]
    assert [e["loc"] for e in caught.value.errors()] == [loc]


def test_the_body_is_validated_from_its_bytes() -> None:
    ctx = Ctx(body=b'{"name": "tea", "price": "2.5"}')
    kwargs = run(plan_for(body_only).arguments(ctx, {}))  # type: ignore[arg-type]
    assert kwargs == {"item": Item(name="tea", price=2.5)}
    with pytest.raises(RequestValidationError) as caught:
        run(plan_for(body_only).arguments(Ctx(body=b'{"name": "tea"}'), {}))  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"] == ["body", "price"]


def test_the_solver_attaches_its_state_before_running() -> None:
    ctx = Ctx(headers=[(b"x-token", b"secret")])
    assert run(plan_for(with_dependency).arguments(ctx, {})) == {"token": "secret"}  # type: ignore[arg-type]
    assert ctx.call is not None
    assert ctx.call.values[0] == "secret"
    failing = Ctx()
    with pytest.raises(RequestValidationError):
        run(plan_for(with_dependency).arguments(failing, {}))  # type: ignore[arg-type]
    assert failing.call is not None  # teardown can still find what was entered


def test_an_injected_response_is_recorded_for_merging() -> None:
    ctx = Ctx()
    kwargs = run(plan_for(with_response).arguments(ctx, {}))  # type: ignore[arg-type]
    assert isinstance(kwargs["response"], Response)
    assert ctx.call is not None
    assert ctx.call.shapes_response


# -- encoding -----------------------------------------------------------------------------


async def returns_dict() -> dict[str, int]:
    return {}


async def returns_none() -> None: ...


async def returns_item() -> Item:
    return Item(name="x", price=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"a": 1}, b'{"a":1}'), ([1, 2], b"[1,2]")],
)
def test_plain_data_is_encoded_straight_to_json_bytes(value: Any, expected: bytes) -> None:
    plan = plan_for(returns_dict)
    plan.respond_with(None, None)
    assert plan.status == 200
    assert plan.encode(value) == expected


def test_other_values_become_responses() -> None:
    plan = plan_for(returns_dict)
    plan.respond_with(201, None)
    page = plan.encode("<p>hi</p>")
    assert isinstance(page, Response)
    assert (page.status_code, page.body) == (201, b"<p>hi</p>")


@pytest.mark.parametrize(("status", "sent"), [(None, 204), (202, 202)])
def test_none_is_empty_where_the_handler_says_so(status: int | None, sent: int) -> None:
    plan = plan_for(returns_none)
    plan.respond_with(status, None)
    empty = plan.encode(None)
    assert (empty.status_code, empty.body) == (sent, b"")


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_drop_whatever_was_returned(status: int) -> None:
    plan = plan_for(returns_dict)
    plan.respond_with(status, None)
    empty = plan.encode({"ignored": True})
    assert (empty.status_code, empty.body) == (status, b"")


def test_a_response_model_validates_and_filters() -> None:
    plan = plan_for(returns_item)
    plan.respond_with(None, ResponseEncoder(Item, {}))
    assert orjson.loads(plan.encode({"name": "x", "price": 1, "secret": "s"})) == {
        "name": "x",
        "price": 1.0,
    }
