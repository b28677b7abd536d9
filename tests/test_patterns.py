"""Path templates on their own: parsing both syntaxes, rejecting bad ones, building paths."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from kettle import ConfigurationError, Kettle
from kettle.routing.converters import (
    DEFAULT_CONVERTERS,
    FloatConverter,
    IntConverter,
    PathConverter,
    StringConverter,
    UUIDConverter,
)
from kettle.routing.patterns import Literal, Mixed, Param, PatternError, parse_pattern


def parse(template: str) -> Any:
    return parse_pattern(template, DEFAULT_CONVERTERS)


def describe(template: str) -> list[Any]:
    """Each segment as plain data: text, (name, converter class) or a list of those."""

    def one(part: Any) -> Any:
        if isinstance(part, Literal):
            return part.text
        return (part.name, type(part.converter))

    out: list[Any] = []
    for segment in parse(template).segments:
        out.append([one(p) for p in segment.parts] if isinstance(segment, Mixed) else one(segment))
    return out


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "segments"),
    [
        ("/", [""]),
        ("/items", ["items"]),
        ("/items/", ["items", ""]),
        ("/a/b/c", ["a", "b", "c"]),
        ("/items/{item_id}", ["items", ("item_id", StringConverter)]),
        ("/items/{item_id:int}", ["items", ("item_id", IntConverter)]),
        ("/items/{ item_id : int }", ["items", ("item_id", IntConverter)]),
        ("/p/{price:float}", ["p", ("price", FloatConverter)]),
        ("/u/{ident:uuid}", ["u", ("ident", UUIDConverter)]),
        ("/s/{rest:path}", ["s", ("rest", PathConverter)]),
        ("/s/{name:string}", ["s", ("name", StringConverter)]),
        # Flask's syntax
        ("/items/<item_id>", ["items", ("item_id", StringConverter)]),
        ("/items/<int:item_id>", ["items", ("item_id", IntConverter)]),
        ("/p/<float:price>", ["p", ("price", FloatConverter)]),
        ("/s/<path:rest>", ["s", ("rest", PathConverter)]),
        ("/s/<string:name>", ["s", ("name", StringConverter)]),
        # both in one template
        ("/<name>/{n:int}", [("name", StringConverter), ("n", IntConverter)]),
        # mixed segments
        (
            "/docs/{stem}.{ext}",
            ["docs", [("stem", StringConverter), ".", ("ext", StringConverter)]],
        ),
        ("/v{major:int}", [["v", ("major", IntConverter)]]),
        ("/<name>.json", [[("name", StringConverter), ".json"]]),
        ("/caf\u00e9/{x}", ["caf\u00e9", ("x", StringConverter)]),
    ],
)
def test_parse(template: str, segments: list[Any]) -> None:
    assert describe(template) == segments


@pytest.mark.parametrize(
    ("template", "names"),
    [
        ("/", []),
        ("/a/{x}", ["x"]),
        ("/<int:a>/{b}/{c}.{d}", ["a", "b", "c", "d"]),
    ],
)
def test_params_lists_every_parameter_including_mixed_ones(template: str, names: list[str]) -> None:
    params = parse(template).params
    assert list(params) == names
    assert all(isinstance(p, Param) and p.name == name for name, p in params.items())


@pytest.mark.parametrize(
    ("template", "static"),
    [("/", True), ("/a/b/", True), ("/a/{b}", False), ("/a/<b>", False), ("/{a}.txt", False)],
)
def test_is_static(template: str, static: bool) -> None:
    assert parse(template).is_static is static


def test_each_parameter_gets_its_own_converter_instance() -> None:
    pattern = parse("/{a:int}/{b:int}")
    assert pattern.params["a"].converter is not pattern.params["b"].converter
    assert pattern.params["a"].converter_name == "int"


def test_flask_default_converter_name_is_kept() -> None:
    assert parse("/<x>").params["x"].converter_name == "default"
    assert parse("/{x}").params["x"].converter_name == "str"


@pytest.mark.parametrize(
    ("template", "segment", "expected"),
    [
        ("/{stem}.{ext}", "readme.md", {"stem": "readme", "ext": "md"}),
        ("/{stem}.{ext}", "archive.tar.gz", {"stem": "archive", "ext": "tar.gz"}),
        ("/v{major:int}", "v2", {"major": 2}),
        ("/v{major:int}.{minor:int}", "v2.10", {"major": 2, "minor": 10}),
        ("/{name}+{x:float}", "a+1.5", {"name": "a", "x": 1.5}),
        (
            "/id-{u:uuid}",
            "id-12345678-1234-5678-1234-567812345678",
            {"u": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        ),
    ],
)
def test_mixed_segment_matches_and_converts(
    template: str, segment: str, expected: dict[str, Any]
) -> None:
    (mixed,) = parse(template).segments
    assert isinstance(mixed, Mixed)
    assert mixed.match(segment) == expected


@pytest.mark.parametrize(
    ("template", "segment"),
    [
        ("/{stem}.{ext}", "readme"),
        ("/{stem}.{ext}", ".bashrc"),
        ("/{stem}.{ext}", "trailing."),
        ("/v{major:int}", "v"),
        ("/v{major:int}", "vx"),
        ("/v{major:int}", "V2"),
        ("/v{major:int}", "v2x"),
        ("/v{major:int}", "v" + "9" * 30),  # the regex fits, the converter's length limit not
        ("/{name}.json", "a.jsonx"),
        ("/{name}.json", "a-json"),  # the dot is literal, not a regex wildcard
        ("/id-{u:uuid}", "id-not-a-uuid"),
    ],
)
def test_mixed_segment_rejects_with_value_error(template: str, segment: str) -> None:
    (mixed,) = parse(template).segments
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: the matcher moves on
        mixed.match(segment)


def test_mixed_segment_uses_a_custom_converters_regex() -> None:
    class Letters(StringConverter):
        regex = "[a-z]+"

    pattern = parse_pattern("/{word:letters}{n:int}", {**DEFAULT_CONVERTERS, "letters": Letters})
    (mixed,) = pattern.segments
    assert isinstance(mixed, Mixed)
    assert mixed.match("abc123") == {"word": "abc", "n": 123}
    with pytest.raises(ValueError, match="ABC123"):
        mixed.match("ABC123")


# -- invalid templates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("items", "must start with '/'"),
        ("", "must start with '/'"),
        ("{x}", "must start with '/'"),
        ("/x/{x:nope}", "unknown converter 'nope'"),
        ("/x/<nope:x>", "unknown converter 'nope'"),
        ("/x/{x:INT}", "unknown converter 'INT'"),
        ("/{x}/{x}", "'x' appears twice"),
        ("/<x>/{x:int}", "'x' appears twice"),
        ("/{x}.{x}", "'x' appears twice"),
        ("/x/{x", "unbalanced"),
        ("/x/x}", "unbalanced"),
        ("/x/<x", "unbalanced"),
        ("/x/x>", "unbalanced"),
        ("/x/{{x}}", "unbalanced"),
        ("/x/{a<b>}", "invalid parameter name"),
        ("/{}", "invalid parameter name ''"),
        ("/<>", "invalid parameter name ''"),
        ("/{1x}", "invalid parameter name '1x'"),
        ("/{a-b}", "invalid parameter name 'a-b'"),
        ("/<int:a b>", "invalid parameter name 'a b'"),
        ("/{p:path}/x", "last segment"),
        ("/<path:p>/", "last segment"),
        ("/{p:path}.txt", "fill its segment"),
    ],
)
def test_invalid_templates_raise_pattern_error(template: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse(template)


def test_unknown_converter_message_lists_the_known_ones() -> None:
    known = r"known: any, default, float, int, path, str, string, uuid"
    with pytest.raises(PatternError, match=known):
        parse("/{x:hex}")


def test_converters_come_from_the_mapping_given() -> None:
    with pytest.raises(PatternError, match="unknown converter 'int'"):
        parse_pattern("/{x:int}", {"str": StringConverter})


def test_pattern_error_is_a_value_error() -> None:
    assert issubclass(PatternError, ValueError)


@pytest.mark.parametrize("template", ["/x/{x:nope}", "/{x}/{x}", "/x/{x", "/{p:path}/x"])
def test_the_app_turns_pattern_errors_into_configuration_errors(template: str) -> None:
    app = Kettle(__name__)

    def broken_view(**values: Any) -> None:  # pragma: no cover - never called
        pass

    app.add_route(template, broken_view)
    with pytest.raises(ConfigurationError, match="broken_view") as info:
        app.compile()
    assert __file__ in str(info.value)
    assert not isinstance(info.value, PatternError)


# -- building paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "values", "path"),
    [
        ("/", {}, "/"),
        ("/a/b/", {}, "/a/b/"),
        ("/items/{item_id:int}", {"item_id": 7}, "/items/7"),
        ("/items/<int:item_id>", {"item_id": "7"}, "/items/7"),
        ("/p/{x:float}", {"x": 2.5}, "/p/2.5"),
        ("/u/{u:uuid}", {"u": uuid.UUID(int=1)}, "/u/00000000-0000-0000-0000-000000000001"),
        ("/f/{name}", {"name": "a b"}, "/f/a%20b"),
        ("/f/{name}", {"name": "a/b"}, "/f/a%2Fb"),  # one segment stays one segment
        ("/f/{name}", {"name": "a?b#c%"}, "/f/a%3Fb%23c%25"),
        ("/f/{name}", {"name": "caf\u00e9"}, "/f/caf%C3%A9"),
        ("/f/{name}", {"name": "a:b@c"}, "/f/a:b@c"),
        ("/s/{rest:path}", {"rest": "a b/c?"}, "/s/a%20b/c%3F"),
        ("/caf\u00e9/{x}", {"x": "1"}, "/caf%C3%A9/1"),
        ("/d/{stem}.{ext}", {"stem": "readme", "ext": "md"}, "/d/readme.md"),
        ("/v{n:int}", {"n": 3}, "/v3"),
    ],
)
def test_format(template: str, values: dict[str, Any], path: str) -> None:
    assert parse(template).format(values) == path


@pytest.mark.parametrize(
    ("template", "values", "error"),
    [
        ("/f/{name}", {}, KeyError),
        ("/f/{name}", {"name": ""}, ValueError),
        ("/i/{n:int}", {"n": -1}, ValueError),
        ("/i/{n:int}", {"n": "x"}, ValueError),
        ("/d/{stem}.{ext}", {"stem": "a"}, KeyError),
    ],
)
def test_format_refuses_values_that_do_not_fit(
    template: str, values: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse(template).format(values)


@pytest.mark.parametrize(
    ("template", "openapi"),
    [
        ("/", "/"),
        ("/items/{item_id:int}", "/items/{item_id}"),
        ("/items/<int:item_id>", "/items/{item_id}"),
        ("/s/<path:rest>", "/s/{rest}"),
        ("/d/{stem}.{ext:int}", "/d/{stem}.{ext}"),
        ("/a/", "/a/"),
    ],
)
def test_openapi_path(template: str, openapi: str) -> None:
    assert parse(template).openapi_path == openapi


def test_parsed_patterns_are_immutable() -> None:
    pattern = parse("/a/{b}")
    with pytest.raises(AttributeError):
        pattern.template = "/other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("template", "segment", "value"),
    [
        ("/<any(xhr, jquery, fetch):js>", "jquery", "jquery"),
        ("/<any('a-b', c):x>", "a-b", "a-b"),
        ("/<string(length=2):code>", "fr", "fr"),
        ("/<string(minlength=2, maxlength=3):code>", "abc", "abc"),
        ("/{code:string(length=2)}", "de", "de"),
    ],
)
def test_converter_arguments(template: str, segment: str, value: str) -> None:
    param = parse_pattern(template, DEFAULT_CONVERTERS).segments[0]
    assert isinstance(param, Param)
    assert param.converter.convert(segment) == value


@pytest.mark.parametrize(
    ("template", "segment"),
    [
        ("/<any(xhr, fetch):js>", "jquery"),
        ("/<string(length=2):code>", "fra"),
        ("/<string(minlength=2):code>", "f"),
    ],
)
def test_converter_arguments_refuse(template: str, segment: str) -> None:
    param = parse_pattern(template, DEFAULT_CONVERTERS).segments[0]
    assert isinstance(param, Param)
    with pytest.raises(ValueError, match=re.escape(segment)):
        param.converter.convert(segment)


@pytest.mark.parametrize(
    "template",
    ["/<any():x>", "/<int(3):x>", "/<string(size=2):x>", "/<any(a=1, b):x>"],
)
def test_bad_converter_arguments_are_pattern_errors(template: str) -> None:
    with pytest.raises(PatternError, match="converter"):
        parse_pattern(template, DEFAULT_CONVERTERS)
