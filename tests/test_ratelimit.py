"""RateLimitMiddleware with the memory store: rules, windows, keys, headers, hostile keys.

The Redis store, a real redis-server and two workers sharing it are in
tests/test_ratelimit_redis.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from kettle import Kettle, Request, WebSocket
from kettle.exceptions import ConfigurationError
from kettle.middleware.ratelimit import (
    RateLimitMiddleware,
    Rule,
    client_address,
    header_key,
    parse_rate,
    session_key,
)
from kettle.middleware.ratelimit_stores import MemoryStore, Rate
from kettle.testing import TestClient


class Clock:
    """A settable clock for the memory store, so window arithmetic is exact."""

    def __init__(self, now: float = 1_000_030.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_app(rules: Any, **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = "rate-limit-tests"
    app.add_middleware(RateLimitMiddleware, rules=rules, **options)

    @app.route("/", methods=["GET", "POST"])
    async def index() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/login")
    async def login(request: Request) -> dict[str, bool]:
        from kettle.globals import session

        form = await request.form()
        session["user_id"] = form.get("user")
        return {"ok": True}

    @app.get("/other")
    async def other() -> dict[str, bool]:
        return {"ok": True}

    return app


def statuses(client: TestClient, n: int, path: str = "/", **kwargs: Any) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("100/minute", Rate(100, 60)),
        ("100/minutes", Rate(100, 60)),
        ("5 per 10 seconds", Rate(5, 10)),
        ("5/10s", Rate(5, 10)),
        ("1000/hour", Rate(1000, 3600)),
        ("7/DAY", Rate(7, 86400)),
        ((3, 1.5), Rate(3, 1.5)),
        (Rate(2, 2), Rate(2, 2)),
    ],
)
def test_parse_rate(text: Any, rate: Rate) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "100",
        "0/minute",
        "100/fortnight",
        "-1/second",
        "1.5/second",
        "10/0seconds",
        (0, 60),
        (10, 0),
        (10, float("inf")),
        (True, 60),
        (1, 2, 3),
        100,
    ],
)
def test_bad_rates_are_configuration_errors(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        parse_rate(bad)


@pytest.mark.parametrize(
    "options",
    [
        {"rules": []},
        {"rules": ["nope"]},
        {"rules": "1/second", "algorithm": "leaky"},
        {"rules": "1/second", "on_store_error": "maybe"},
        {"rules": "1/second", "key": "ip"},
    ],
)
def test_bad_middleware_options_fail_at_startup(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RateLimitMiddleware(Kettle(__name__), **options)


@pytest.mark.parametrize(
    "options", [{"methods": "POST"}, {"paths": "/login"}, {"paths": ["login"]}]
)
def test_bad_rule_options(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Rule("1/second", **options)


def test_a_burst_past_the_limit_gets_429_with_headers() -> None:
    client = TestClient(make_app("3/minute"))
    responses = [client.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    for response in responses:
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-policy"] == "3;w=60"
        assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
    refused = responses[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    assert refused.json()["detail"].startswith("Too many requests: retry in ")
    assert "retry-after" not in responses[0].headers


def test_headers_can_be_left_off_allowed_responses() -> None:
    client = TestClient(make_app("1/minute", headers=False))
    allowed, refused = client.get("/"), client.get("/")
    assert "ratelimit-limit" not in allowed.headers
    assert refused.status_code == 429
    assert refused.headers["ratelimit-remaining"] == "0"


def test_fixed_window_resets_at_the_boundary_and_allows_the_edge_burst() -> None:
    clock = Clock(1_000_019.0)  # one second before a minute boundary
    client = TestClient(make_app("10/minute", algorithm="fixed", store=MemoryStore(clock=clock)))
    assert statuses(client, 11) == [200] * 10 + [429]
    assert client.get("/").headers["retry-after"] == "1"
    clock.now += 1
    assert statuses(client, 11) == [200] * 10 + [429]


def test_sliding_window_weights_the_previous_window() -> None:
    clock = Clock(1_000_019.0)
    client = TestClient(make_app("10/minute", store=MemoryStore(clock=clock)))
    assert statuses(client, 10) == [200] * 10
    clock.now += 1  # a new window, but the last 60 s still hold 10 requests
    refused = client.get("/")
    assert refused.status_code == 429
    # 10 * (1 - e/60) must fall to 9: e = 6 s into this window.
    assert refused.headers["retry-after"] == "6"
    clock.now += 30  # half the previous window still counts: 5 of 10 used
    assert statuses(client, 6) == [200] * 5 + [429]


def test_sliding_retry_after_when_the_current_window_is_full() -> None:
    clock = Clock(1_000_040.0)  # 20 s into a window
    client = TestClient(make_app("4/minute", store=MemoryStore(clock=clock)))
    assert statuses(client, 4) == [200] * 4
    refused = client.get("/")
    # 40 s to the boundary, then 4 * (1 - e/60) <= 3 needs e = 15 s more.
    assert refused.headers["retry-after"] == "55"
    clock.now += 55
    assert client.get("/").status_code == 200


def test_several_rules_all_apply_and_a_refusal_consumes_none() -> None:
    clock = Clock()
    app = make_app(["2/second", "3/minute"], store=MemoryStore(clock=clock), algorithm="fixed")
    client = TestClient(app)
    first = client.get("/")
    assert first.headers["ratelimit-policy"] == "2;w=1, 3;w=60"
    assert statuses(client, 2) == [200, 429]  # the per-second rule refuses
    clock.now += 1
    # The refused request did not count against the per-minute rule: one is left.
    last = client.get("/")
    assert last.status_code == 200
    assert (last.headers["ratelimit-limit"], last.headers["ratelimit-remaining"]) == ("3", "0")
    assert client.get("/").status_code == 429


def test_rules_per_method_and_path() -> None:
    rules = [Rule("2/minute", methods=["POST"], paths=["/login", "/admin/*"])]
    client = TestClient(make_app(rules))
    codes = [client.post("/login", data={"user": "u"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert statuses(client, 5, "/other") == [200] * 5
    assert "ratelimit-limit" not in client.get("/other").headers
    assert client.post("/").status_code == 200


@pytest.mark.parametrize(
    "xff",
    [
        "203.0.113.{i}",
        "{i}.{i}.{i}.{i}, 10.0.0.1",
        "garbage\x7f{i}",
        ",".join(["198.51.100.7"] * 500) + "{i}",
        "for=192.0.2.{i}",
    ],
)
def test_spoofed_forwarded_headers_do_not_change_the_key(xff: str) -> None:
    client = TestClient(make_app("3/minute"), client=("192.0.2.10", 4000))
    codes = [
        client.get(
            "/", headers={"X-Forwarded-For": xff.format(i=i), "Forwarded": xff.format(i=i)}
        ).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_clients_are_counted_apart_and_ipv6_by_its_64_network() -> None:
    app = make_app("1/minute")
    assert TestClient(app, client=("192.0.2.1", 1)).get("/").status_code == 200
    assert TestClient(app, client=("192.0.2.2", 1)).get("/").status_code == 200
    assert TestClient(app, client=("2001:db8::1", 1)).get("/").status_code == 200
    assert TestClient(app, client=("2001:db8::ffff", 1)).get("/").status_code == 429
    assert TestClient(app, client=("2001:db8:0:1::1", 1)).get("/").status_code == 200


class _Conn:
    def __init__(self, client: Any) -> None:
        self.scope = {"client": client, "headers": []}


@pytest.mark.parametrize(
    ("client", "key"),
    [
        (None, "unknown"),
        (("", 0), "unknown"),
        (("10.1.2.3", 5), "ip:10.1.2.3"),
        (("2001:db8:1:2:3:4:5:6", 5), "ip6:2001:db8:1:2::/64"),
        (("not:an:ip::zz", 5), "ip:not:an:ip::zz"),
    ],
)
def test_client_address_keys(client: Any, key: str) -> None:
    assert client_address(_Conn(client)) == key  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "with spaces",
        "*",
        "{tag}",
        "a\\b",
        "'..redis.call('FLUSHALL')..'",
        "ü" * 50,
        "x" * 4000,
        "key:with:colons",
        "",
    ],
)
def test_header_keys_with_odd_characters(value: str) -> None:
    client = TestClient(make_app("2/minute", key=header_key("X-API-Key")))
    raw = {b"X-API-Key": value.encode()}
    assert [client.get("/", headers=raw).status_code for _ in range(3)] == [200, 200, 429]
    # Another key, or none (the address), has its own budget.
    assert client.get("/", headers={"X-API-Key": "other"}).status_code == 200
    assert client.get("/").status_code == 200


def test_a_key_function_may_be_async_and_may_exempt() -> None:
    async def key(connection: Any) -> str | None:
        await asyncio.sleep(0)
        return None if connection.headers.get("x-internal") else "everyone"

    client = TestClient(make_app("1/minute", key=key))
    assert statuses(client, 3, headers={"X-Internal": "1"}) == [200] * 3
    assert statuses(client, 2) == [200, 429]


def test_a_sync_key_function_returning_an_awaitable() -> None:
    async def later() -> str:
        return "k"

    def key(connection: Any) -> Awaitable[str]:
        return later()

    assert statuses(TestClient(make_app("1/minute", key=key)), 2) == [200, 429]


def test_session_key_counts_per_user() -> None:
    app = make_app([Rule("2/minute", paths=["/other"])], key=session_key("user_id"))
    ada, bob = TestClient(app), TestClient(app)
    ada.post("/login", data={"user": "ada"})
    bob.post("/login", data={"user": "bob"})
    assert statuses(ada, 3, "/other") == [200, 200, 429]
    assert statuses(bob, 2, "/other") == [200, 200]
    # A forged session cookie has no user: it is counted by address with other anonymous ones.
    forged = TestClient(app, cookies={"session": "eyJ1c2VyX2lkIjoiYWRhIn0.forged"})
    assert statuses(forged, 3, "/other") == [200, 200, 429]


def test_memory_store_is_bounded_and_purges_expired_keys() -> None:
    clock = Clock()
    store = MemoryStore(max_keys=100, purge_interval=10, clock=clock)
    rate = Rate(5, 1)

    async def run() -> None:
        for i in range(1000):
            assert (await store.hit([f"k{i}"], [rate], True))[0]
        assert len(store) == 100
        # The most recently used keys were kept.
        allowed, windows = await store.hit(["k999"], [rate], False)
        assert allowed
        assert windows[0].current == 2
        clock.now += 11
        await store.hit(["fresh"], [rate], True)
        assert len(store) == 1

    asyncio.run(run())


def test_memory_store_cap_must_be_positive() -> None:
    with pytest.raises(ConfigurationError):
        MemoryStore(max_keys=0)


def test_websockets_and_lifespan_pass_through() -> None:
    app = make_app("1/minute")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app) as client:
        for _ in range(2):
            with client.websocket_connect("/ws") as connection:
                assert connection.receive_text() == "hi"


def test_behind_proxy_headers_middleware_the_real_client_is_counted() -> None:
    from kettle.middleware.proxy import ProxyHeadersMiddleware

    app = make_app("1/minute")
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.1"])  # outermost
    proxy = TestClient(app, client=("10.0.0.1", 4000))
    for client in ("203.0.113.5", "203.0.113.6"):
        forwarded = {"X-Forwarded-For": client}
        assert proxy.get("/", headers=forwarded).status_code == 200
        assert proxy.get("/", headers=forwarded).status_code == 429
    # A peer that is not the proxy is counted as itself, whatever it forwards.
    direct = TestClient(app, client=("198.51.100.1", 4000))
    assert direct.get("/", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    assert direct.get("/", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429
