"""Path converters on their own: segment → value, value → segment, and the edges of each."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from kettle import Converter, Kettle
from kettle.routing.converters import (
    DEFAULT_CONVERTERS,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from kettle.routing.patterns import parse_pattern

UUID_TEXT = "12345678-1234-5678-1234-567812345678"


@pytest.mark.parametrize(
    ("converter", "segment", "expected"),
    [
        (StringConverter(), "abc", "abc"),
        (StringConverter(), "café", "café"),
        (StringConverter(), "a b", "a b"),
        (StringConverter(), "..", ".."),
        (PathConverter(), "a/b/c.txt", "a/b/c.txt"),
        (PathConverter(), "x", "x"),
        (IntConverter(), "0", 0),
        (IntConverter(), "42", 42),
        (IntConverter(), "007", 7),
        (IntConverter(), "9" * 19, int("9" * 19)),  # 19 digits: the longest accepted
        (FloatConverter(), "3", 3.0),
        (FloatConverter(), "2.5", 2.5),
        (FloatConverter(), "0.0", 0.0),
        (FloatConverter(), ".5", 0.5),
        (FloatConverter(), "5.", 5.0),
        (FloatConverter(), "1" * 64, float("1" * 64)),  # 64 characters: the longest accepted
        (UUIDConverter(), UUID_TEXT, uuid.UUID(UUID_TEXT)),
        (UUIDConverter(), UUID_TEXT.upper(), uuid.UUID(UUID_TEXT)),
    ],
)
def test_convert_accepts(converter: Converter, segment: str, expected: Any) -> None:
    value = converter.convert(segment)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("converter", "segment"),
    [
        (StringConverter(), ""),
        (PathConverter(), ""),
        (IntConverter(), ""),
        (IntConverter(), "-1"),
        (IntConverter(), "+1"),
        (IntConverter(), "1.0"),
        (IntConverter(), "1_000"),
        (IntConverter(), " 1"),
        (IntConverter(), "1 "),
        (IntConverter(), "0x10"),
        (IntConverter(), "٣"),  # an Arabic-Indic digit: str.isdigit() says yes
        (IntConverter(), "²"),  # a superscript: str.isdigit() says yes
        (IntConverter(), "9" * 20),  # past 19 digits
        (IntConverter(), "1" * 5000),  # would trip int()'s own digit limit
        (FloatConverter(), ""),
        (FloatConverter(), "."),
        (FloatConverter(), "1.2.3"),
        (FloatConverter(), "-1.5"),
        (FloatConverter(), "+1.5"),
        (FloatConverter(), "1e5"),
        (FloatConverter(), "1E5"),
        (FloatConverter(), "inf"),
        (FloatConverter(), "nan"),
        (FloatConverter(), "Infinity"),
        (FloatConverter(), "1_0"),
        (FloatConverter(), "٣.5"),
        (FloatConverter(), "1" * 65),  # past 64 characters
        (FloatConverter(), "9" * 400),  # would be inf if parsed
        (UUIDConverter(), ""),
        (UUIDConverter(), "not-a-uuid"),
        (UUIDConverter(), UUID_TEXT.replace("-", "")),  # 32 hex digits, no hyphens
        (UUIDConverter(), "{" + UUID_TEXT + "}"),
        (UUIDConverter(), UUID_TEXT[:-1] + "g"),
        (UUIDConverter(), UUID_TEXT + "0"),
    ],
)
def test_convert_rejects_with_value_error(converter: Converter, segment: str) -> None:
    # Any ValueError is the contract: the matcher catches it and tries the next route.
    with pytest.raises(ValueError):  # noqa: PT011
        converter.convert(segment)


@pytest.mark.parametrize(
    "segment",
    [
        "urn:" + UUID_TEXT.replace("-", ""),
        "----" + UUID_TEXT.replace("-", ""),
        "123456781-234-5678-1234-567812345678",  # hyphens in the wrong places
        "1234567_-1234-5678-1234-567812345678",  # int(..., 16) takes underscores
        "{2345678-1234-5678-1234-56781234567}",  # uuid.UUID() strips braces
    ],
)
def test_uuid_rejects_non_canonical_forms_of_canonical_length(segment: str) -> None:
    assert len(segment) == 36
    with pytest.raises(ValueError):  # noqa: PT011
        UUIDConverter().convert(segment)


@pytest.mark.parametrize(
    ("converter", "value", "expected"),
    [
        (StringConverter(), "abc", "abc"),
        (StringConverter(), 5, "5"),
        (PathConverter(), "a/b", "a/b"),
        (IntConverter(), 0, "0"),
        (IntConverter(), 42, "42"),
        (IntConverter(), "7", "7"),
        (FloatConverter(), 2.5, "2.5"),
        (FloatConverter(), 3, "3.0"),
        (UUIDConverter(), uuid.UUID(UUID_TEXT), UUID_TEXT),
        (UUIDConverter(), UUID_TEXT, UUID_TEXT),
    ],
)
def test_to_url(converter: Converter, value: Any, expected: str) -> None:
    assert converter.to_url(value) == expected


@pytest.mark.parametrize("value", [-1, -(10**30), "-3"])
def test_int_to_url_refuses_negative_values(value: Any) -> None:
    with pytest.raises(ValueError, match="negative"):
        IntConverter().to_url(value)


@pytest.mark.parametrize(
    ("converter", "value"),
    [
        (IntConverter(), 0),
        (IntConverter(), 123456789),
        (FloatConverter(), 0.0),
        (FloatConverter(), 2.5),
        (FloatConverter(), 1234.125),
        (UUIDConverter(), uuid.UUID(UUID_TEXT)),
        (StringConverter(), "hello"),
        (PathConverter(), "a/b/c"),
    ],
)
def test_to_url_round_trips_through_convert(converter: Converter, value: Any) -> None:
    assert converter.convert(converter.to_url(value)) == value


@pytest.mark.parametrize(
    "spelling",
    [UUID_TEXT, "urn:uuid:" + UUID_TEXT, "{" + UUID_TEXT + "}", UUID_TEXT.replace("-", "")],
)
def test_uuid_to_url_writes_the_canonical_form_convert_reads(spelling: str) -> None:
    converter = UUIDConverter()
    assert converter.to_url(spelling) == UUID_TEXT
    assert converter.convert(converter.to_url(spelling)) == uuid.UUID(UUID_TEXT)


def test_float_to_url_refuses_an_int_too_large_for_a_float() -> None:
    with pytest.raises(ValueError, match="finite"):
        FloatConverter().to_url(10**400)


def test_uuid_accepts_either_case_of_the_canonical_form() -> None:
    assert UUIDConverter().convert(UUID_TEXT.upper()) == uuid.UUID(UUID_TEXT)


@pytest.mark.parametrize(
    ("value", "expected"), [(1e16, "10000000000000000"), (1e-05, "0.00001"), (2.5, "2.5")]
)
def test_float_to_url_writes_digits_and_a_point_only(value: float, expected: str) -> None:
    assert FloatConverter().to_url(value) == expected


@pytest.mark.parametrize("value", [1e16, 1e-05, -1.0, -0.0, math.inf, math.nan, 1e300])
def test_float_to_url_never_builds_a_segment_convert_rejects(value: float) -> None:
    converter = FloatConverter()
    try:
        segment = converter.to_url(value)
    except ValueError:
        return  # refusing to build is fine too
    assert converter.convert(segment) == value


def test_default_converters_are_tried_most_specific_first() -> None:
    order = sorted(DEFAULT_CONVERTERS.values(), key=lambda c: c.priority)
    names = [c.__name__ for c in dict.fromkeys(order)]
    assert names == [
        "UUIDConverter",
        "IntConverter",
        "FloatConverter",
        "AnyConverter",
        "StringConverter",
        "PathConverter",
    ]


@pytest.mark.parametrize(
    ("name", "python_type", "greedy"),
    [
        ("str", str, False),
        ("string", str, False),
        ("default", str, False),
        ("path", str, True),
        ("int", int, False),
        ("float", float, False),
        ("uuid", uuid.UUID, False),
    ],
)
def test_default_converter_table(name: str, python_type: type, greedy: bool) -> None:
    converter = DEFAULT_CONVERTERS[name]
    assert converter.python_type is python_type
    assert converter.greedy is greedy


class Hex(Converter):
    python_type = int
    priority = 15

    def convert(self, value: str) -> int:
        if not value or any(c not in "0123456789abcdef" for c in value):
            raise ValueError(value)
        return int(value, 16)

    def to_url(self, value: Any) -> str:
        return format(int(value), "x")


def test_base_converter_is_a_non_empty_string() -> None:
    assert Converter().convert("x") == "x"
    assert Converter().to_url(3) == "3"
    with pytest.raises(ValueError, match="empty segment"):
        Converter().convert("")


def test_custom_converter_in_a_pattern() -> None:
    pattern = parse_pattern("/color/{value:hex}", {**DEFAULT_CONVERTERS, "hex": Hex})
    param = pattern.params["value"]
    assert isinstance(param.converter, Hex)
    assert param.converter.convert("ff") == 255
    assert pattern.format({"value": 255}) == "/color/ff"


def test_register_converter_makes_it_available_to_one_app_only() -> None:
    app = Kettle(__name__)
    app.register_converter("hex", Hex)

    @app.get("/color/<hex:value>", name="color")
    async def color(value: int) -> int:  # pragma: no cover - never called
        return value

    assert app.url_path_for("color", value=4095) == "/color/fff"
    assert "hex" not in DEFAULT_CONVERTERS
    assert "hex" not in Kettle(__name__).converters


def test_register_converter_can_replace_a_default() -> None:
    app = Kettle(__name__)
    app.register_converter("int", Hex)

    @app.get("/n/{n:int}", name="n")
    async def n(n: int) -> int:  # pragma: no cover - never called
        return n

    assert app.url_path_for("n", n=16) == "/n/10"
    assert DEFAULT_CONVERTERS["int"] is IntConverter
