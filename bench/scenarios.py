"""The requests every app must answer identically, with the answer each one must give.

``SCENARIOS`` are timed; ``CHECKS`` are only verified, to catch an app that is fast because it
skips part of the contract (query decoding, int conversion, the 404 path).
"""

from dataclasses import dataclass
from typing import Any

from bench.apps.common import ALLOWED_ORIGIN, HELLO, JWT, ROUTE_COUNT

TEXT_PLAIN = "text/plain"
APPLICATION_JSON = "application/json"
# Preflight answers differ in their (empty or "OK") body and its type: only headers count.
ANY_MEDIA_TYPE = "*"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    path: str
    description: str
    query: str = ""
    method: str = "GET"
    status: int = 200
    media_type: str = APPLICATION_JSON
    # Expected body: decoded JSON for JSON responses, exact text for text responses.
    expected: Any = None
    # What the client sends besides the path and query: extra headers and a request body.
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    # Which app of each framework answers it (bench.targets.SUITES).
    suite: str = "main"
    # Response headers that must be present with these values (names lower-case).
    response_headers: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


NOT_FOUND = {"detail": "Not Found"}
USER_BODY = b'{"name":"Ada","email":"ada@example.com","age":36,"tags":["math","engines"]}'
JSON_BODY = ((b"content-type", b"application/json"),)
TOKEN = ((b"x-token", b"secret-token"),)
BEARER = ((b"authorization", b"Bearer " + JWT.encode()),)
PREFLIGHT = (
    (b"origin", ALLOWED_ORIGIN.encode()),
    (b"access-control-request-method", b"GET"),
    (b"access-control-request-headers", b"authorization"),
)
LAST_ROUTE = ROUTE_COUNT - 1

SCENARIOS: list[Scenario] = [
    Scenario(
        "plaintext",
        "/plaintext",
        "static route, fixed text body: the framework's fixed cost",
        media_type=TEXT_PLAIN,
        expected=HELLO,
    ),
    Scenario("json", "/json", "static route, dict encoded to JSON", expected={"message": HELLO}),
    Scenario(
        "item",
        "/items/42",
        "int path parameter plus query string parsing",
        query="q=abc",
        expected={"item_id": 42, "q": "abc"},
    ),
    Scenario(
        "not_found",
        "/no-such-page",
        "unknown path: a full routing miss and the JSON 404",
        status=404,
        expected=NOT_FOUND,
    ),
    Scenario(
        "route_first",
        "/r0/1",
        f"first of {ROUTE_COUNT} parametrised routes",
        expected={"route": 0, "x": 1},
    ),
    Scenario(
        "route_last",
        f"/r{LAST_ROUTE}/1",
        f"last of {ROUTE_COUNT} parametrised routes: how routing cost grows",
        expected={"route": LAST_ROUTE, "x": 1},
    ),
    Scenario(
        "typed",
        "/typed/42",
        "typed path (str -> int) and query parameters: a bounded string and an int default",
        query="q=abc&limit=5",
        expected={"item_id": 42, "q": "abc", "limit": 5},
    ),
    Scenario(
        "body",
        "/users",
        "JSON body validated into a model, the result filtered through a response model",
        method="POST",
        status=201,
        headers=JSON_BODY,
        body=USER_BODY,
        expected={"id": 1, "name": "Ada"},
    ),
    Scenario(
        "deps",
        "/deps",
        "a three-level dependency chain reading a header and a query parameter",
        query="page=2",
        headers=TOKEN,
        expected={"user": "secret-token", "page": 2},
    ),
    Scenario(
        "bearer_jwt",
        "/secure/me",
        "an HTTP bearer dependency decoding an HS256 JWT (PyJWT), behind CORS middleware",
        headers=BEARER,
        expected={"sub": "ada"},
        suite="security",
    ),
    Scenario(
        "cors_preflight",
        "/secure/me",
        "a CORS preflight from an allowed origin, answered by the CORS middleware",
        method="OPTIONS",
        headers=PREFLIGHT,
        media_type=ANY_MEDIA_TYPE,
        expected="any",
        suite="security",
        response_headers=(("access-control-allow-origin", ALLOWED_ORIGIN),),
    ),
    # The json scenario again, kettle observing it (the other apps do not: compare with json).
    Scenario(
        "traced",
        "/json",
        "json, kettle with TracingMiddleware and no OpenTelemetry SDK configured",
        expected={"message": HELLO},
        suite="traced",
    ),
    Scenario(
        "metered",
        "/json",
        "json, kettle with MetricsMiddleware and the unconfigured TracingMiddleware",
        expected={"message": HELLO},
        suite="metered",
    ),
    Scenario(
        "observed",
        "/json",
        "json, kettle with metrics, unconfigured tracing and a JSON access log to /dev/null",
        expected={"message": HELLO},
        suite="observed",
    ),
]

CHECKS: list[Scenario] = [
    Scenario("item_no_query", "/items/42", "q is optional", expected={"item_id": 42, "q": None}),
    Scenario(
        "item_quoted_query",
        "/items/7",
        "query values are percent-decoded; other keys ignored",
        query="page=2&q=hello%20world",
        expected={"item_id": 7, "q": "hello world"},
    ),
    Scenario(
        "item_not_int",
        "/items/abc",
        "a non-integer id does not match",
        status=404,
        expected=NOT_FOUND,
    ),
    Scenario(
        "route_middle", "/r500/7", "a middle route converts x", expected={"route": 500, "x": 7}
    ),
    Scenario(
        "route_past_end",
        f"/r{ROUTE_COUNT}/1",
        "no route past the last one",
        status=404,
        expected=NOT_FOUND,
    ),
    Scenario(
        "route_not_int", "/r0/x", "a non-integer x does not match", status=404, expected=NOT_FOUND
    ),
    Scenario(
        "typed_defaults",
        "/typed/7",
        "q and limit default",
        expected={"item_id": 7, "q": None, "limit": 10},
    ),
    Scenario(
        "typed_bad_int",
        "/typed/x",
        "a non-integer id is a 422",
        status=422,
        expected="any",
    ),
    Scenario(
        "typed_long_q",
        "/typed/1",
        "q longer than 50 characters is a 422",
        query="q=" + "a" * 51,
        status=422,
        expected="any",
    ),
    Scenario(
        "body_invalid",
        "/users",
        "age must be an int",
        method="POST",
        status=422,
        headers=JSON_BODY,
        body=b'{"name":"Ada","email":"ada@example.com","age":"old"}',
        expected="any",
    ),
    Scenario(
        "body_malformed",
        "/users",
        "malformed JSON is a 422",
        method="POST",
        status=422,
        headers=JSON_BODY,
        body=b'{"name":',
        expected="any",
    ),
    Scenario(
        "deps_no_token",
        "/deps",
        "the header is required",
        status=422,
        expected="any",
    ),
    Scenario(
        "bearer_missing",
        "/secure/me",
        "no Authorization header is a 401 (or FastAPI's 403)",
        status=401,
        expected="any",
        suite="security",
    ),
    Scenario(
        "bearer_tampered",
        "/secure/me",
        "a token whose signature does not match is a 401",
        headers=((b"authorization", b"Bearer " + JWT[:-2].encode() + b"xx"),),
        status=401,
        expected="any",
        suite="security",
    ),
    Scenario(
        "cors_untrusted",
        "/secure/me",
        "a preflight from another origin gets no allow-origin header",
        method="OPTIONS",
        headers=((b"origin", b"https://evil.example"), *PREFLIGHT[1:]),
        status=400,
        media_type=ANY_MEDIA_TYPE,
        expected="any",
        suite="security",
    ),
]

TIMED_NAMES = [scenario.name for scenario in SCENARIOS]


def select_scenarios(text: str | None) -> list[Scenario]:
    """Turn "json,item" into the matching timed scenarios, keeping table order; None means all."""
    if not text:
        return list(SCENARIOS)
    wanted = {name.strip() for name in text.split(",") if name.strip()}
    unknown = wanted - set(TIMED_NAMES)
    if unknown:
        known = ", ".join(TIMED_NAMES)
        raise ValueError(f"unknown scenario(s): {', '.join(sorted(unknown))} (known: {known})")
    return [scenario for scenario in SCENARIOS if scenario.name in wanted]
