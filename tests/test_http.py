"""kettle.http: header values parsed and written, hostile input never raising."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kettle.http import (
    dump_header,
    http_date,
    parse_cache_control_header,
    parse_date,
    parse_dict_header,
    parse_list_header,
    parse_options_header,
    parse_set_header,
    quote_header_value,
    unquote_header_value,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (datetime(2024, 2, 29, 12, 30), "Thu, 29 Feb 2024 12:30:00 GMT"),
        (date(2024, 2, 29), "Thu, 29 Feb 2024 00:00:00 GMT"),
    ],
)
def test_http_date_and_back(value: object, text: str) -> None:
    assert http_date(value) == text  # type: ignore[arg-type]
    parsed = parse_date(text)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert http_date(parsed) == text


@pytest.mark.parametrize("bad", ["", "yesterday", "Thu, 99 Foo 2024", "\x00" * 50, None])
def test_a_date_that_does_not_parse_is_none(bad: str | None) -> None:
    assert parse_date(bad) is None


def test_a_date_without_zone_is_utc() -> None:
    assert parse_date("Thu, 29 Feb 2024 12:30:00") == datetime(2024, 2, 29, 12, 30, tzinfo=UTC)


def test_lists_dicts_and_sets() -> None:
    assert parse_list_header('a, "b, c", , d') == ["a", "b, c", "d"]
    assert parse_dict_header('no-store, max-age=5, realm="x \\"y\\""') == {
        "no-store": None,
        "max-age": "5",
        "realm": 'x "y"',
    }
    items = parse_set_header("Accept, cookie, ACCEPT")
    assert list(items) == ["Accept", "cookie"]
    assert "COOKIE" in items
    assert len(items) == 2
    items.discard("accept")
    assert items.to_header() == "cookie"
    assert not parse_set_header(None)


def test_options_header() -> None:
    assert parse_options_header('multipart/form-data; boundary="a;b"; Charset=utf-8') == (
        "multipart/form-data",
        {"boundary": "a;b", "charset": "utf-8"},
    )
    assert parse_options_header(None) == ("", {})
    assert parse_options_header("text/plain; junk") == ("text/plain", {})


@pytest.mark.parametrize(
    ("header", "max_age", "flags"),
    [
        ("public, max-age=600", 600, {"public"}),
        ("no-cache, NO-STORE", None, {"no_cache", "no_store"}),
        ("max-age=-1, private", None, {"private"}),
        ("max-age=abc, immutable, must-revalidate", None, {"immutable", "must_revalidate"}),
    ],
)
def test_cache_control(header: str, max_age: int | None, flags: set[str]) -> None:
    cc = parse_cache_control_header(header)
    assert cc.max_age == max_age
    for flag in ("public", "private", "no_cache", "no_store", "immutable", "must_revalidate"):
        assert getattr(cc, flag) is (flag in flags)
    assert cc.s_maxage is None


def test_dump_and_quote() -> None:
    assert dump_header({"max-age": 60, "public": None}) == "max-age=60, public"
    assert dump_header(["a", "b c"]) == 'a, "b c"'
    assert quote_header_value('say "hi"') == '"say \\"hi\\""'
    assert unquote_header_value(quote_header_value('say "hi"')) == 'say "hi"'
    assert quote_header_value("token", allow_token=False) == '"token"'
