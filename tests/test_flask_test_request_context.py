"""app.test_request_context builds its request as the test client does."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, request


@pytest.mark.parametrize(
    ("config", "args", "kwargs", "url"),
    [
        ({}, (), {}, "http://localhost/"),
        (
            {"SERVER_NAME": "example.com:1234", "APPLICATION_ROOT": "/foo"},
            (),
            {},
            "http://example.com:1234/foo/",
        ),
        ({"PREFERRED_URL_SCHEME": "https"}, ("/a?b=1",), {}, "https://localhost/a?b=1"),
        ({}, ("/",), {"url_scheme": "https"}, "https://localhost/"),
        (
            {"SERVER_NAME": "example.com"},
            ("/",),
            {"base_url": "http://other.test/r"},
            "http://other.test/r/",
        ),
        ({}, ("https://whole.test/x",), {}, "https://whole.test/x"),
    ],
)
def test_the_request_url_comes_from_the_arguments_then_the_config(
    config: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any], url: str
) -> None:
    app = Kettle(__name__)
    app.config.update(config)
    with app.test_request_context(*args, **kwargs):
        assert str(request.url) == url


@pytest.mark.parametrize(
    ("kwargs", "form"),
    [
        ({"method": "POST", "data": {"name": "ada"}}, {"name": "ada"}),
        (
            {
                "method": "POST",
                "data": "name=ada",
                "content_type": "application/x-www-form-urlencoded",
            },
            {"name": "ada"},
        ),
    ],
)
def test_the_request_carries_a_body(kwargs: dict[str, Any], form: dict[str, str]) -> None:
    with Kettle(__name__).test_request_context("/", **kwargs):
        assert request.method == "POST"
        assert dict(request.form) == form
