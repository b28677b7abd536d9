"""SecurityHeadersMiddleware: safe defaults, HSTS on HTTPS only, CSP from a string or a
dict, and a header the handler set never replaced."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import ConfigurationError, Kettle, Response
from kettle.middleware import SecurityHeadersMiddleware
from kettle.middleware.headers import merge_vary
from kettle.testing import TestClient

DEFAULTS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def make_client(base_url: str = "https://example.com", **options: Any) -> TestClient:
    app = Kettle(__name__)
    app.add_middleware(SecurityHeadersMiddleware, **options)

    @app.get("/")
    async def index() -> str:
        return "hi"

    @app.get("/embeddable")
    async def embeddable() -> Response:
        return Response("frame me", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/missing")
    async def missing() -> None:
        from kettle import NotFound

        raise NotFound()

    return TestClient(app, base_url=base_url)


def test_defaults_on_https() -> None:
    headers = make_client().get("/").headers
    for name, value in DEFAULTS.items():
        assert headers[name] == value
    assert headers["strict-transport-security"] == "max-age=31536000"
    assert "content-security-policy" not in headers


def test_hsts_only_over_https() -> None:
    headers = make_client("http://example.com").get("/").headers
    assert "strict-transport-security" not in headers
    assert headers["x-frame-options"] == "DENY"


def test_error_responses_get_them_too() -> None:
    response = make_client().get("/missing")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_header_the_handler_set_is_kept() -> None:
    response = make_client().get("/embeddable")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]


@pytest.mark.parametrize(
    ("options", "value"),
    [
        ({"hsts_include_subdomains": True}, "max-age=31536000; includeSubDomains"),
        (
            {"hsts_max_age": 63072000, "hsts_include_subdomains": True, "hsts_preload": True},
            "max-age=63072000; includeSubDomains; preload",
        ),
        ({"hsts_max_age": 0}, "max-age=0"),
    ],
)
def test_hsts_options(options: dict[str, Any], value: str) -> None:
    assert make_client(**options).get("/").headers["strict-transport-security"] == value


@pytest.mark.parametrize(
    ("policy", "value"),
    [
        ("default-src 'self'", "default-src 'self'"),
        (
            {
                "default-src": "'self'",
                "img-src": ["'self'", "data:"],
                "upgrade-insecure-requests": "",
            },
            "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests",
        ),
        (
            {"frame-ancestors": ["https://partner.example"]},
            "frame-ancestors https://partner.example",
        ),
    ],
)
def test_content_security_policy(policy: Any, value: str) -> None:
    headers = make_client(content_security_policy=policy).get("/").headers
    assert headers["content-security-policy"] == value


def test_report_only_csp() -> None:
    client = make_client(
        content_security_policy="default-src 'self'", content_security_policy_report_only=True
    )
    headers = client.get("/").headers
    assert headers["content-security-policy-report-only"] == "default-src 'self'"
    assert "content-security-policy" not in headers


def test_each_header_can_be_turned_off() -> None:
    client = make_client(
        hsts=False,
        content_type_options=False,
        referrer_policy=None,
        frame_options=None,
        cross_origin_opener_policy=None,
    )
    headers = client.get("/").headers
    assert not any(name in headers for name in [*DEFAULTS, "strict-transport-security"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"referrer_policy": "always"}, "unknown referrer_policy"),
        ({"frame_options": "ALLOW-FROM https://a.com"}, "frame_options"),
        ({"cross_origin_opener_policy": "open"}, "cross_origin_opener_policy"),
        ({"hsts_max_age": -1}, "negative"),
        ({"hsts_max_age": "1 year"}, "number of seconds"),
        ({"hsts_preload": True}, "hsts_preload"),
        ({"hsts_preload": True, "hsts_include_subdomains": True, "hsts_max_age": 60}, "a year"),
        ({"content_security_policy": "default-src 'self'\r\nSet-Cookie: a=b"}, "one line"),
        ({"content_security_policy": ""}, "one line"),
        ({"content_security_policy": {"default-src": "'self'; script-src *"}}, "no ';'"),
        ({"content_security_policy": {"Default Src": "'self'"}}, "directive name"),
        ({"content_security_policy": {}}, "no directives"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SecurityHeadersMiddleware(Kettle(__name__), **options)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ([], [(b"vary", b"Origin")]),
        ([(b"vary", b"Cookie")], [(b"vary", b"Cookie, Origin")]),
        ([(b"Vary", b"origin")], [(b"Vary", b"origin")]),
        ([(b"vary", b"*")], [(b"vary", b"*")]),
        (
            [(b"vary", b"Cookie"), (b"vary", b"Accept")],
            [(b"vary", b"Cookie"), (b"vary", b"Accept, Origin")],
        ),
        ([(b"vary", b"")], [(b"vary", b"Origin")]),
    ],
)
def test_merge_vary(before: list[tuple[bytes, bytes]], after: list[tuple[bytes, bytes]]) -> None:
    merge_vary(before, b"Origin")
    assert before == after
