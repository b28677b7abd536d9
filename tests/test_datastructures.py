"""Data structures (kettle/datastructures.py), without a request: the query-string parser
gives exactly what the standard library's ``parse_qsl`` gives, on its fast path too."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from kettle.datastructures import MultiDict, QueryParams

QUERIES = [
    "", "a", "a=", "=b", "==", "&", "&&a=1&&", "a=1&a=2&b=", "a=1=2", "x&y=&=z", "a==b",
    "é=ü", "q=tea%20pot", "q=tea+pot", "%2B=%26", "a=%zz", "k=v;w=x",
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_query_parsing_matches_parse_qsl(query: str) -> None:
    expected = parse_qsl(query, keep_blank_values=True)
    assert QueryParams(query).multi_items() == expected
    assert QueryParams(query.encode("utf-8").decode("latin-1").encode("latin-1")).multi_items() == (
        parse_qsl(query.encode("utf-8").decode("latin-1"), keep_blank_values=True)
    )


@pytest.mark.parametrize("query", ["a=1", "a=1&b=2", "a=1&b=2&c=3", "a&b&c&d", "a=%201&b=2"])
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_the_field_limit_is_parse_qsls(query: str, limit: int) -> None:
    try:
        parse_qsl(query, keep_blank_values=True, max_num_fields=limit)
    except ValueError:
        with pytest.raises(ValueError, match="Max number of fields"):
            QueryParams(query, max_fields=limit)
    else:
        QueryParams(query, max_fields=limit)


def test_first_value_wins_and_getlist_keeps_all() -> None:
    q = QueryParams("tag=a&tag=b&x=1")
    assert (q["tag"], q.getlist("tag"), list(q)) == ("a", ["a", "b"], ["tag", "x"])
    assert q == MultiDict([("x", "1"), ("tag", "a"), ("tag", "b")])
