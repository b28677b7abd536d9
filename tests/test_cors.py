"""CORSMiddleware: deny by default, exact origins, preflights, and hostile Origin values."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import ConfigurationError, Kettle, WebSocket
from kettle.middleware import CORSMiddleware
from kettle.middleware.cors import normalize_origin
from kettle.testing import TestClient

TRUSTED = "https://trusted.com"


def make_client(**options: Any) -> TestClient:
    app = Kettle(__name__)
    app.add_middleware(CORSMiddleware, **options)

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/items")
    async def create() -> dict[str, bool]:
        return {"created": True}

    @app.get("/own")
    async def own() -> Any:
        from kettle import JSONResponse

        return JSONResponse({}, headers={"Access-Control-Allow-Origin": "https://own.com"})

    return TestClient(app)


def preflight(client: TestClient, origin: str | bytes, method: str = "GET", **headers: str) -> Any:
    sent: Any = {"Origin": origin, "Access-Control-Request-Method": method, **headers}
    return client.options("/", headers=sent)


def test_nothing_is_allowed_by_default() -> None:
    client = make_client()
    response = client.get("/", headers={"Origin": TRUSTED})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
    assert preflight(client, TRUSTED).status_code == 400


def test_allowed_origin_gets_the_headers() -> None:
    client = make_client(
        allow_origins=[TRUSTED], allow_credentials=True, expose_headers=["X-Total"]
    )
    response = client.get("/", headers={"Origin": TRUSTED})
    assert response.headers["access-control-allow-origin"] == TRUSTED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Total"
    assert response.headers["vary"] == "Origin"


def test_vary_origin_even_without_an_origin_header() -> None:
    # A cached response for a same-origin request must not be served to a cross-origin one.
    response = make_client(allow_origins=["*"]).get("/")
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_a_handler_s_own_cors_header_is_kept() -> None:
    response = make_client(allow_origins=[TRUSTED]).get("/own", headers={"Origin": TRUSTED})
    assert response.headers.get_list("access-control-allow-origin") == ["https://own.com"]


def test_star_answers_star_without_credentials() -> None:
    client = make_client(allow_origins=["*"])
    response = client.get("/", headers={"Origin": "https://anyone.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert preflight(client, "https://anyone.org").headers["access-control-allow-origin"] == "*"


def test_star_with_credentials_is_refused_at_startup() -> None:
    with pytest.raises(ConfigurationError, match="allow_credentials"):
        CORSMiddleware(Kettle(__name__), allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_origins": "https://a.com"}, "list of strings"),
        ({"allow_origins": ["https://a.com/"]}, "not an origin"),
        ({"allow_origins": ["https://*.a.com"]}, "not an origin"),
        ({"allow_origins": ["a.com"]}, "not an origin"),
        ({"allow_origins": ["https://user@a.com"]}, "not an origin"),
        ({"allow_origin_regex": "https://(a"}, "invalid allow_origin_regex"),
        ({"max_age": -1}, "max_age"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CORSMiddleware(Kettle(__name__), **options)


def test_preflight_is_answered_with_vary_and_max_age() -> None:
    client = make_client(
        allow_origins=[TRUSTED],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Token"],
        allow_credentials=True,
        max_age=123,
    )
    response = preflight(client, TRUSTED, "POST", **{"Access-Control-Request-Headers": "x-token"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == TRUSTED
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert "x-token" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "123"
    assert response.headers["vary"] == "Origin"


def test_preflight_with_wildcard_methods_and_headers_mirrors_the_request() -> None:
    client = make_client(
        allow_origins=[TRUSTED], allow_methods=["*"], allow_headers=["*"], allow_credentials=True
    )
    response = preflight(client, TRUSTED, "PATCH", **{"Access-Control-Request-Headers": "X-A, x-b"})
    assert response.status_code == 200
    # A literal "*" means nothing to a browser on a credentialed request: name them.
    assert response.headers["access-control-allow-methods"] == "PATCH"
    # Mirrored as the client spelled them, as Starlette does (names compare case-insensitively).
    assert response.headers["access-control-allow-headers"] == "X-A, x-b"


@pytest.mark.parametrize(
    ("origin", "method", "headers", "reason"),
    [
        ("https://evil.com", "GET", None, "Disallowed CORS origin"),
        (TRUSTED, "DELETE", None, "Disallowed CORS method"),
        (TRUSTED, "GET", "x-secret", "Disallowed CORS headers"),
        (TRUSTED, "GE T", None, "Disallowed CORS method"),
        (TRUSTED, "GET", "bad header\x7f", "Disallowed CORS headers"),
        ("https://evil.com", "DELETE", "x-secret", "Disallowed CORS origin, method, headers"),
    ],
)
def test_disallowed_preflight_is_a_400_that_says_why(
    origin: str, method: str, headers: str | None, reason: str
) -> None:
    client = make_client(allow_origins=[TRUSTED], allow_methods=["GET"])
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    response = preflight(client, origin, method, **extra)
    assert response.status_code == 400
    assert response.text == reason
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_options_without_request_method_reaches_the_app() -> None:
    client = make_client(allow_origins=[TRUSTED])
    response = client.options("/", headers={"Origin": TRUSTED})
    assert "allow" in response.headers  # the app's own OPTIONS answer, with CORS headers
    assert response.headers["access-control-allow-origin"] == TRUSTED


@pytest.mark.parametrize(
    "origin",
    [
        "https://trusted.com.evil",
        "https://evil.trusted.com",
        "https://trusted.com:8443",
        "http://trusted.com",
        "https://trusted.com/",
        "https://trusted.com/path",
        "https://user:pw@trusted.com",
        "https://trusted.com@evil.com",
        "https://trusted.com?x",
        "https://trusted.com#x",
        "https://trusted.com\r\nSet-Cookie: a=b",
        "https://trusted.com ",
        " https://trusted.com",
        "https://trusted.com, https://evil.com",
        "https://trusted.com:99999",
        "https://trustedXcom",
        "null",
        "",
        "*",
        "https://" + "a" * 5000 + ".com",
        "https://trüsted.com",
    ],
)
def test_hostile_origins_are_not_allowed(origin: str) -> None:
    client = make_client(allow_origins=[TRUSTED, "https://trusted.com"])
    encoded: Any = origin.encode("utf-8")
    response = client.get("/", headers={"Origin": encoded})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert preflight(client, encoded).status_code == 400


def test_origin_list_entries_are_literals_not_regexes() -> None:
    # Litestar CVE-2026-25479: "." in a listed origin matched any character.
    client = make_client(allow_origins=["https://a.example.com"])
    for origin in ("https://aXexample.com", "https://a-example.com"):
        assert (
            "access-control-allow-origin" not in client.get("/", headers={"Origin": origin}).headers
        )


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.com", True),
        ("https://APP.Example.com:443", True),
        ("https://app.example.com.evil", False),
        ("https://evil.com/?https://app.example.com", False),
        ("https://xapp.example.com", False),
    ],
)
def test_regex_must_match_the_whole_origin(origin: str, allowed: bool) -> None:
    client = make_client(allow_origin_regex=r"https://(app|api)\.example\.com")
    response = client.get("/", headers={"Origin": origin})
    assert ("access-control-allow-origin" in response.headers) is allowed


@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        ({"allow_origins": ["*"]}, False),
        ({"allow_origin_regex": ".*"}, False),
        ({"allow_origins": ["null"]}, True),
    ],
)
def test_null_origin_only_when_listed(options: dict[str, Any], allowed: bool) -> None:
    client = make_client(**options)
    response = client.get("/", headers={"Origin": "null"})
    assert ("access-control-allow-origin" in response.headers) is allowed
    if allowed:
        assert response.headers["access-control-allow-origin"] == "null"


def test_two_origin_headers_are_no_origin() -> None:
    client = make_client(allow_origins=[TRUSTED])
    response = client.get("/", headers=[("Origin", TRUSTED), ("Origin", TRUSTED)])
    assert "access-control-allow-origin" not in response.headers


def test_listed_origins_are_compared_normalised() -> None:
    client = make_client(allow_origins=["HTTPS://Trusted.COM:443", "http://localhost:8000"])
    for origin in ("https://trusted.com", "http://LOCALHOST:8000"):
        response = client.get("/", headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.com", "https://a.com"),
        ("HTTP://A.COM:80", "http://a.com"),
        ("https://a.com:8443", "https://a.com:8443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", "null"),
        ("https://a.com:0", None),
        ("https://a.com/", None),
        ("https://", None),
        ("a.com", None),
    ],
)
def test_normalize_origin(value: str, expected: str | None) -> None:
    assert normalize_origin(value) == expected


def test_websocket_passes_through() -> None:
    app = Kettle(__name__)
    app.add_middleware(CORSMiddleware, allow_origins=[TRUSTED])

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app).websocket_connect("/ws", headers={"Origin": TRUSTED}) as session:
        assert session.receive_text() == "hi"


def test_not_in_the_default_stack() -> None:
    import sys

    app = Kettle(__name__)
    assert not any(m.cls.__name__.endswith("CORSMiddleware") for m in app.user_middleware)
    assert "vary" not in TestClient(app).get("/", headers={"Origin": TRUSTED}).headers
    assert "kettle.middleware.cors" in sys.modules  # imported by this test module only


def test_the_origin_cache_keeps_no_oversized_or_unbounded_values() -> None:
    cors = CORSMiddleware(None, allow_origins=["https://example.com"])  # type: ignore[arg-type]
    assert not cors.is_allowed_origin("https://" + "a" * 5000 + ".com")
    for number in range(3000):
        assert not cors.is_allowed_origin(f"https://host{number}.test")
    assert cors.is_allowed_origin("https://example.com")
    assert len(cors._decisions) <= 1024
    assert all(len(origin) <= 2048 for origin in cors._decisions)
