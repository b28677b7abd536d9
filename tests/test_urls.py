"""The URL map (kettle/routing/urls.py), without an app: names to patterns, both lookups."""

from __future__ import annotations

import pytest

from kettle.routing.converters import DEFAULT_CONVERTERS
from kettle.routing.patterns import parse_pattern
from kettle.routing.urls import NoMatchFound, URLMap


def view() -> None:  # pragma: no cover - never called
    pass


def other() -> None:  # pragma: no cover - never called
    pass


def make(*entries: tuple[str, str, object]) -> URLMap:
    urls = URLMap()
    for name, template, handler in entries:
        urls.add(name, parse_pattern(template, DEFAULT_CONVERTERS), handler)  # type: ignore[arg-type]
    return urls


def test_path_for_needs_exactly_the_parameters() -> None:
    urls = make(("item", "/items/{id:int}", view), ("item", "/items", view))
    assert urls.path_for("item", {"id": 3}) == "/items/3"
    assert urls.path_for("item", {}) == "/items"
    with pytest.raises(NoMatchFound, match=r"takes parameters \['x'\]"):
        urls.path_for("item", {"x": 1})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"id": 3}, ("/items/3", {})),
        ({"id": 3, "page": 2}, ("/items/3", {"page": 2})),
        ({"page": 2}, ("/items", {"page": 2})),
        ({"id": None, "page": 2}, ("/items", {"id": None, "page": 2})),
    ],
)
def test_build_uses_the_most_parameters_and_queries_the_rest(
    values: dict[str, object], expected: tuple[str, dict[str, object]]
) -> None:
    urls = make(("item", "/items/{id:int}", view), ("item", "/items", view))
    assert urls.build("item", values) == expected


def test_build_says_what_is_missing() -> None:
    urls = make(("user", "/users/{uid:int}/posts/{pid:int}", view))
    with pytest.raises(NoMatchFound, match="needs values for pid, uid"):
        urls.build("user", {})


@pytest.mark.parametrize("lookup", ["path_for", "build"])
def test_unknown_names(lookup: str) -> None:
    with pytest.raises(NoMatchFound, match="'nope'"):
        getattr(make(), lookup)("nope", {})


@pytest.mark.parametrize("lookup", ["path_for", "build"])
def test_a_name_shared_by_two_handlers_is_ambiguous_only_when_looked_up(lookup: str) -> None:
    urls = make(("read_all", "/users", view), ("read_all", "/items", other))
    assert list(urls.names()) == ["read_all"]
    with pytest.raises(NoMatchFound, match=r"ambiguous: it is used by .*view.* and .*other"):
        getattr(urls, lookup)("read_all", {})
