"""The compiled route table on its own: (path, method) → endpoint and converted values.

No app, no client: a ``Matcher`` is built from parsed templates and asked directly. Paths
are what an ASGI server puts in ``scope["path"]``: already percent-decoded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

import pytest

from kettle import Converter
from kettle.routing.converters import DEFAULT_CONVERTERS
from kettle.routing.matcher import Matcher
from kettle.routing.patterns import parse_pattern

UUID_TEXT = "12345678-1234-5678-1234-567812345678"


def build(
    routes: Iterable[tuple[str, str, str]], converters: dict[str, type[Converter]] | None = None
) -> Matcher[str]:
    """A matcher whose endpoints are labels: ``(template, method, label)``."""
    matcher: Matcher[str] = Matcher()
    for template, method, label in routes:
        assert matcher.add(parse_pattern(template, converters or DEFAULT_CONVERTERS), method, label)
    return matcher


ROUTES = [
    ("/", "GET", "index"),
    ("/about", "GET", "about"),
    ("/about/", "GET", "about-slash"),
    ("/caf\u00e9", "GET", "cafe"),
    ("/items/me", "GET", "item-me"),
    ("/items/{item_id:int}", "GET", "item-int"),
    ("/items/{slug}", "GET", "item-str"),
    ("/items/{item_id:int}", "DELETE", "item-delete"),
    ("/items/{slug}", "PATCH", "item-patch"),
    ("/items/{item_id:int}/tags/{tag}", "GET", "item-tag"),
    ("/ids/{ident:uuid}", "GET", "ident"),
    ("/ids/{num:int}", "GET", "ident-int"),
    ("/prices/<float:price>", "GET", "price"),
    ("/docs/{stem}.{ext}", "GET", "doc-mixed"),
    ("/docs/{name}", "GET", "doc-name"),
    ("/docs/index", "GET", "doc-index"),
    ("/v{major:int}/status", "GET", "versioned"),
    ("/files/{rest:path}", "GET", "files"),
    ("/files/special", "GET", "files-special"),
    ("/files/{rest:path}", "PUT", "files-put"),
    ("/users/{user}/posts", "GET", "user-posts"),
    ("/users/me/settings", "GET", "me-settings"),
    ("/a/{x}/c", "GET", "a-x-c"),
    ("/{y}/b/d", "GET", "y-b-d"),
    ("/trail/{x}/", "GET", "trail"),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher[str]:
    return build(ROUTES)


@pytest.mark.parametrize(
    ("path", "method", "label", "params"),
    [
        # static paths
        ("/", "GET", "index", {}),
        ("/about", "GET", "about", {}),
        ("/about/", "GET", "about-slash", {}),
        ("/caf\u00e9", "GET", "cafe", {}),
        # parametrized segments and their converters
        ("/items/42", "GET", "item-int", {"item_id": 42}),
        ("/items/0", "GET", "item-int", {"item_id": 0}),
        ("/items/abc", "GET", "item-str", {"slug": "abc"}),
        ("/items/-1", "GET", "item-str", {"slug": "-1"}),
        ("/items/4.2", "GET", "item-str", {"slug": "4.2"}),
        ("/items/\u0663", "GET", "item-str", {"slug": "\u0663"}),  # not an ASCII digit
        ("/items/" + "9" * 30, "GET", "item-str", {"slug": "9" * 30}),  # too long for int
        ("/items/42", "DELETE", "item-delete", {"item_id": 42}),
        ("/items/7/tags/red", "GET", "item-tag", {"item_id": 7, "tag": "red"}),
        ("/ids/" + UUID_TEXT, "GET", "ident", {"ident": uuid.UUID(UUID_TEXT)}),
        ("/ids/" + UUID_TEXT.upper(), "GET", "ident", {"ident": uuid.UUID(UUID_TEXT)}),
        ("/ids/12", "GET", "ident-int", {"num": 12}),
        ("/prices/2.5", "GET", "price", {"price": 2.5}),
        ("/prices/3", "GET", "price", {"price": 3.0}),
        # mixed segments beat a whole-segment parameter, a literal beats both
        ("/docs/readme.md", "GET", "doc-mixed", {"stem": "readme", "ext": "md"}),
        ("/docs/a.tar.gz", "GET", "doc-mixed", {"stem": "a", "ext": "tar.gz"}),
        ("/docs/readme", "GET", "doc-name", {"name": "readme"}),
        ("/docs/.hidden", "GET", "doc-name", {"name": ".hidden"}),
        ("/docs/index", "GET", "doc-index", {}),
        ("/v2/status", "GET", "versioned", {"major": 2}),
        # the path converter takes the rest, slashes included
        ("/files/a", "GET", "files", {"rest": "a"}),
        ("/files/a/b/c.txt", "GET", "files", {"rest": "a/b/c.txt"}),
        ("/files/a/b/", "GET", "files", {"rest": "a/b/"}),
        ("/files/special", "GET", "files-special", {}),
        ("/files/special/x", "GET", "files", {"rest": "special/x"}),
        ("/files/a/b", "PUT", "files-put", {"rest": "a/b"}),
        # a static segment wins over a parameter at the same depth
        ("/users/me/settings", "GET", "me-settings", {}),
        ("/users/bob/posts", "GET", "user-posts", {"user": "bob"}),
        ("/users/me/posts", "GET", "user-posts", {"user": "me"}),  # backtracks off "me"
        # backtracking across levels
        ("/a/q/c", "GET", "a-x-c", {"x": "q"}),
        ("/a/b/d", "GET", "y-b-d", {"y": "a"}),
        ("/trail/1/", "GET", "trail", {"x": "1"}),
        # a static path without the method falls through to the parametrized routes
        ("/items/me", "PATCH", "item-patch", {"slug": "me"}),
    ],
)
def test_match(
    matcher: Matcher[str],
    path: str,
    method: str,
    label: str | None,
    params: dict[str, Any] | None,
) -> None:
    found = matcher.match(path, method)
    if label is None:
        assert found is None
        return
    assert found is not None, path
    assert found == (label, params)
    for name, value in (params or {}).items():
        assert type(found[1][name]) is type(value)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/nope", "GET"),
        ("/about", "POST"),
        ("/ABOUT", "GET"),  # matching is case-sensitive
        ("/about//", "GET"),
        ("//about", "GET"),
        ("/items", "GET"),
        ("/items/", "GET"),  # an empty segment is no value
        ("/items/1/extra", "GET"),
        ("/items/me", "DELETE"),  # DELETE wants an int
        ("/items/1/tags", "GET"),
        ("/items/1/tags/", "GET"),
        ("/items//tags/red", "GET"),
        ("/items/x/tags/red", "GET"),  # item_id must be an int
        ("/ids/not-a-uuid", "GET"),
        ("/prices/nan", "GET"),
        ("/prices/inf", "GET"),
        ("/prices/1e400", "GET"),
        ("/prices/-1", "GET"),
        ("/docs/readme.md/x", "GET"),
        ("/v/status", "GET"),
        ("/vx/status", "GET"),
        ("/files", "GET"),
        ("/files/", "GET"),  # the path converter takes no empty rest
        ("/files/a", "DELETE"),
        ("/users//posts", "GET"),
        ("/a/b/c/d", "GET"),
        ("/trail/1", "GET"),  # trailing-slash policy is not the matcher's business
        ("/x", "GET"),
        ("", "GET"),
    ],
)
def test_miss(matcher: Matcher[str], path: str, method: str) -> None:
    assert matcher.match(path, method) is None


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/about", {"GET"}),
        ("/items/42", {"GET", "DELETE", "PATCH"}),
        ("/items/abc", {"GET", "PATCH"}),
        ("/items/me", {"GET", "PATCH"}),
        ("/files/a/b", {"GET", "PUT"}),
        ("/files/special", {"GET", "PUT"}),  # the static route and the path route
        ("/nope", set()),
        ("/items", set()),
        ("/items/1/extra", set()),
        ("", set()),
    ],
)
def test_allowed_methods(matcher: Matcher[str], path: str, allowed: set[str]) -> None:
    assert matcher.allowed_methods(path) == allowed


def test_allowed_methods_for_405() -> None:
    matcher = build(
        [
            ("/things", "GET", "list"),
            ("/things", "POST", "create"),
            ("/things/{id:int}", "PUT", "replace"),
            ("/things/{name}", "PATCH", "rename"),
            ("/things/{rest:path}", "DELETE", "purge"),
        ]
    )
    assert matcher.match("/things", "DELETE") is None
    assert matcher.allowed_methods("/things") == {"GET", "POST"}
    assert matcher.match("/things/3", "GET") is None
    assert matcher.allowed_methods("/things/3") == {"PUT", "PATCH", "DELETE"}
    assert matcher.allowed_methods("/things/x") == {"PATCH", "DELETE"}
    assert matcher.allowed_methods("/things/x/y") == {"DELETE"}


@pytest.mark.parametrize(
    ("template", "again"),
    [
        ("/static", "/static"),
        ("/items/{id:int}", "/items/<int:id>"),  # the same route in the other syntax
        ("/files/{p:path}", "/files/<path:p>"),
    ],
)
def test_adding_the_same_path_and_method_twice_is_refused(template: str, again: str) -> None:
    first, second, post = object(), object(), object()
    matcher: Matcher[object] = Matcher()
    assert matcher.add(parse_pattern(template, DEFAULT_CONVERTERS), "GET", first) is True
    assert matcher.add(parse_pattern(again, DEFAULT_CONVERTERS), "GET", second) is False
    assert matcher.add(parse_pattern(again, DEFAULT_CONVERTERS), "POST", post) is True
    path = template.replace("{id:int}", "1").replace("{p:path}", "x")
    found = matcher.match(path, "GET")
    assert found is not None
    assert found[0] is first


def test_adding_the_same_mixed_path_and_method_twice_is_refused() -> None:
    matcher: Matcher[object] = Matcher()
    assert matcher.add(parse_pattern("/d/{stem}.{ext}", DEFAULT_CONVERTERS), "GET", object())
    assert not matcher.add(parse_pattern("/d/{stem}.{ext}", DEFAULT_CONVERTERS), "GET", object())


def test_same_mixed_template_with_several_methods() -> None:
    matcher = build([("/d/{stem}.{ext}", "GET", "get"), ("/d/{stem}.{ext}", "POST", "post")])
    assert matcher.match("/d/a.b", "POST") == ("post", {"stem": "a", "ext": "b"})
    assert matcher.allowed_methods("/d/a.b") == {"GET", "POST"}


@pytest.mark.parametrize(
    ("segment", "label"),
    [
        (UUID_TEXT, "uuid"),
        ("12", "int"),
        ("1.5", "float"),
        ("x~y", "mixed"),
        ("1~2", "mixed"),  # literal text around parameters is the most specific of all
        ("abc", "str"),
    ],
)
def test_converter_precedence_does_not_depend_on_declaration_order(
    segment: str, label: str
) -> None:
    templates = [
        ("/p/{v:str}", "str"),
        ("/p/{v:float}", "float"),
        ("/p/{v:int}", "int"),
        ("/p/{a}~{b}", "mixed"),
        ("/p/{v:uuid}", "uuid"),
    ]
    for order in (templates, templates[::-1]):
        matcher = build((t, "GET", name) for t, name in order)
        found = matcher.match("/p/" + segment, "GET")
        assert found is not None
        assert found[0] == label


def test_a_failed_branch_leaves_no_values_behind() -> None:
    matcher = build(
        [
            ("/{a:int}/{b:int}/x", "GET", "ints"),
            ("/{c}/{d}/y", "GET", "strs"),
        ]
    )
    assert matcher.match("/1/2/y", "GET") == ("strs", {"c": "1", "d": "2"})


class Counting(Converter):
    """Counts how often the matcher asks it to convert a segment."""

    calls: ClassVar[int] = 0

    def convert(self, value: str) -> str:
        type(self).calls += 1
        return super().convert(value)


def test_matching_cost_does_not_grow_with_the_number_of_routes() -> None:
    converters = {**DEFAULT_CONVERTERS, "counting": Counting}
    routes = [(f"/r{i}/{{x:counting}}", "GET", f"route-{i}") for i in range(2000)]
    routes += [(f"/static/{i}", "GET", f"static-{i}") for i in range(2000)]
    matcher = build(routes, converters)
    Counting.calls = 0
    assert matcher.match("/r1999/v", "GET") == ("route-1999", {"x": "v"})
    assert matcher.match("/static/1999", "GET") == ("static-1999", {})
    assert matcher.match("/r2000/v", "GET") is None
    assert Counting.calls == 1


@pytest.mark.parametrize("count", [1, 10, 500])
def test_many_routes(count: int) -> None:
    routes = [(f"/api/v{i}/items/{{item_id:int}}", "GET", f"v{i}") for i in range(count)]
    routes += [(f"/api/v{i}/items", "POST", f"v{i}-create") for i in range(count)]
    matcher = build(routes)
    for i in (0, count // 2, count - 1):
        assert matcher.match(f"/api/v{i}/items/{i}", "GET") == (f"v{i}", {"item_id": i})
        assert matcher.match(f"/api/v{i}/items", "POST") == (f"v{i}-create", {})
    assert matcher.match(f"/api/v{count}/items/1", "GET") is None


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/t/caf\u00e9", {"name": "caf\u00e9"}),
        ("/t/\u65e5\u672c", {"name": "\u65e5\u672c"}),
        ("/t/\U0001f600", {"name": "\U0001f600"}),
        ("/t/a b", {"name": "a b"}),
        # already decoded by the server: the matcher must not decode a second time
        ("/t/a%2Fb", {"name": "a%2Fb"}),
        ("/t/%2e%2e", {"name": "%2e%2e"}),
        ("/t/100%", {"name": "100%"}),
    ],
)
def test_unicode_and_percent_signs_are_matched_as_they_are(
    path: str, params: dict[str, str]
) -> None:
    matcher = build([("/t/{name}", "GET", "t"), ("/t/a/b", "GET", "decoded-twice")])
    assert matcher.match(path, "GET") == ("t", params)


def test_percent_encoded_static_path_is_not_the_decoded_one() -> None:
    matcher = build([("/caf\u00e9", "GET", "cafe")])
    assert matcher.match("/caf%C3%A9", "GET") is None


HOSTILE_PATHS = [
    "/" + "a" * 100_000,
    "/x" * 20_000,
    "/" * 10_000,
    "/" + "/".join(["{x}"] * 1000),
    "/.." * 1000,
    "/files/" + "../" * 1000 + "etc/passwd",
    "/items/" + "9" * 10_000,
    "/prices/" + "1" * 10_000 + ".5",
    "/docs/" + "." * 10_000,
    "/docs/" + "a." * 5_000,
    "/\x00/\r\n/\t",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: f"{p[:12]!r}..{len(p)}")
def test_hostile_paths_are_answered_quickly_and_safely(matcher: Matcher[str], path: str) -> None:
    found = matcher.match(path, "GET")
    assert found is None or found[0] in {"files", "item-str", "doc-name", "doc-mixed"}
    assert matcher.allowed_methods(path) <= {"GET", "PUT", "DELETE", "PATCH"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/..", ("item-str", {"slug": ".."})),  # ".." is an ordinary segment
        ("/items/../about", None),  # not /about
        ("/about/../items/me", None),
        ("/about/..", None),
        ("/items/./", None),
        ("/files/../../etc/passwd", ("files", {"rest": "../../etc/passwd"})),
        ("/files//etc/passwd", ("files", {"rest": "/etc/passwd"})),
    ],
)
def test_dot_segments_are_not_resolved(
    matcher: Matcher[str], path: str, expected: tuple[str, dict[str, Any]] | None
) -> None:
    # Normalising ".." belongs to whoever serves files; the matcher must not walk up a
    # level and land on a different route.
    assert matcher.match(path, "GET") == expected


def test_very_long_segment_against_a_converter_chain() -> None:
    matcher = build(
        [
            ("/n/{v:uuid}", "GET", "uuid"),
            ("/n/{v:int}", "GET", "int"),
            ("/n/{v:float}", "GET", "float"),
        ]
    )
    assert matcher.match("/n/" + "1" * 100_000, "GET") is None
    assert matcher.allowed_methods("/n/" + "1" * 100_000) == set()


def test_empty_matcher_matches_nothing() -> None:
    matcher: Matcher[str] = Matcher()
    assert matcher.match("/", "GET") is None
    assert matcher.allowed_methods("/") == set()


@pytest.mark.parametrize(
    ("path", "method", "in_static", "by_pattern"),
    [
        ("/about", "GET", "about", None),
        ("/items/me", "GET", "item-me", None),
        ("/items/42", "GET", None, ("item-int", {"item_id": 42})),
        ("/items/tea", "GET", None, ("item-str", {"slug": "tea"})),
    ],
)
def test_static_paths_are_a_dict_dispatch_reads_before_the_pattern_tree(
    path: str, method: str, in_static: str | None, by_pattern: tuple[str, dict[str, Any]] | None
) -> None:
    # Dispatch looks a path up in `static` and calls `match_pattern` only on a miss there:
    # between them they answer what `match` answers.
    matcher = build(ROUTES)
    assert matcher.static.get(path, {}).get(method) == in_static
    if in_static is None:
        assert matcher.match_pattern(path, method) == by_pattern
        assert matcher.match(path, method) == by_pattern
    else:
        assert matcher.match(path, method) == (in_static, {})


def test_mixed_segments_that_differ_only_in_converter_arguments_are_two_routes() -> None:
    # Regression: `any(a,b)` and `any(c,d)` in the same mixed segment shared one node, so
    # the second route's method was answered by the first's handler (and its values 404).
    matcher = build(
        [("/f/<any(a,b):kind>.json", "GET", "ab"), ("/f/<any(c,d):kind>.json", "POST", "cd")]
    )
    assert matcher.match("/f/a.json", "GET") == ("ab", {"kind": "a"})
    assert matcher.match("/f/c.json", "POST") == ("cd", {"kind": "c"})
    assert matcher.match("/f/a.json", "POST") is None
