"""``jsonable_encoder``: every kind of value to plain JSON data, bounded against hostile input."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import json
import pathlib
import re
import uuid
from collections import deque
from typing import Any

import pytest
from pydantic import BaseModel, Field, RootModel, SecretStr

from kettle.encoders import jsonable_encoder


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Tag(BaseModel):
    label: str


class Item(BaseModel):
    name: str = Field(alias="itemName")
    price: float | None = None
    tags: list[Tag] = []
    color: Color = Color.RED


@dataclasses.dataclass
class Point:
    x: int
    y: datetime.date


class Plain:
    def __init__(self) -> None:
        self.a = 1
        self.when = datetime.time(8, 30)


def _gen() -> Any:
    yield from (1, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        ("text", "text"),
        (1.5, 1.5),
        (Color.RED, "red"),
        (Level.HIGH, 3),
        (datetime.datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05"),
        (datetime.date(2026, 1, 2), "2026-01-02"),
        (datetime.time(3, 4), "03:04:00"),
        (datetime.timedelta(minutes=5), 300.0),
        (decimal.Decimal("2"), 2),
        (decimal.Decimal("2.5"), 2.5),
        (uuid.UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
        (pathlib.PurePosixPath("/srv/a.txt"), "/srv/a.txt"),
        (ipaddress.ip_address("10.0.0.1"), "10.0.0.1"),
        (re.compile(r"^a+$"), "^a+$"),
        (b"bytes", "bytes"),
        (SecretStr("hidden"), "**********"),
        ((1, 2), [1, 2]),
        ({3}, [3]),
        (frozenset({4}), [4]),
        (deque([5]), [5]),
        (_gen(), [1, 2]),
        (Point(1, datetime.date(2026, 5, 6)), {"x": 1, "y": "2026-05-06"}),
        (Plain(), {"a": 1, "when": "08:30:00"}),
        ({"k": [Color.RED, {"n": decimal.Decimal("1.25")}]}, {"k": ["red", {"n": 1.25}]}),
        (RootModel[str]("abc"), "abc"),
        (RootModel[list[Tag]]([Tag(label="a")]), [{"label": "a"}]),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_become_plain_json_data(value: Any, expected: Any) -> None:
    encoded = jsonable_encoder(value)
    assert encoded == expected
    json.dumps(encoded)  # really plain data


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"itemName": "Pen", "price": None, "tags": [{"label": "a"}], "color": "red"}),
        (
            {"by_alias": False},
            {"name": "Pen", "price": None, "tags": [{"label": "a"}], "color": "red"},
        ),
        ({"exclude_unset": True}, {"itemName": "Pen", "tags": [{"label": "a"}]}),
        ({"exclude_defaults": True}, {"itemName": "Pen", "tags": [{"label": "a"}]}),
        ({"exclude_none": True}, {"itemName": "Pen", "tags": [{"label": "a"}], "color": "red"}),
        ({"include": {"name"}}, {"itemName": "Pen"}),
        ({"exclude": {"tags", "color"}}, {"itemName": "Pen", "price": None}),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else "",
)
def test_model_options(options: dict[str, Any], expected: dict[str, Any]) -> None:
    item = Item(itemName="Pen", tags=[Tag(label="a")])
    assert jsonable_encoder(item, **options) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"a": 1, "b": None}),
        ({"exclude_none": True}, {"a": 1}),
        ({"include": {"b"}}, {"b": None}),
        ({"exclude": {"a"}}, {"b": None}),
        ({"sqlalchemy_safe": False}, {"a": 1, "b": None, "_sa_instance_state": "state"}),
    ],
)
def test_mapping_options(options: dict[str, Any], expected: dict[str, Any]) -> None:
    data = {"a": 1, "b": None, "_sa_instance_state": "state"}
    assert jsonable_encoder(data, **options) == expected


def test_a_custom_encoder_wins_over_the_built_in_one() -> None:
    value = {"when": datetime.datetime(2026, 1, 1), "n": 1}
    encoders = {datetime.datetime: lambda d: d.year}
    assert jsonable_encoder(value, custom_encoder=encoders) == {"when": 2026, "n": 1}


def test_a_value_containing_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append({"again": loop})
    with pytest.raises(ValueError, match="contains itself"):
        jsonable_encoder(loop)


def test_a_shared_value_that_is_no_cycle_is_encoded_each_time() -> None:
    shared = {"x": 1}
    assert jsonable_encoder([shared, shared]) == [{"x": 1}, {"x": 1}]


@pytest.mark.parametrize("depth", [10_000, 300])
def test_nesting_is_bounded(depth: int) -> None:
    deep: list[Any] = []
    current = deep
    for _ in range(depth):
        current.append([])
        current = current[0]
    with pytest.raises(ValueError, match="deeper than"):
        jsonable_encoder(deep)
    assert jsonable_encoder([[[]]], max_depth=4) == [[[]]]


def test_an_unencodable_value_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot encode a object"):
        jsonable_encoder(object())
