"""HTTPSRedirectMiddleware: the target keeps path and query, is built from a validated
Host only, and plain requests behind a TLS-ending proxy are not redirected."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kettle import ConfigurationError, Kettle, Request, WebSocket, WebSocketDisconnect
from kettle.middleware import HTTPSRedirectMiddleware, ProxyHeadersMiddleware
from kettle.testing import TestClient


def make_app(**options: Any) -> Kettle:
    app = Kettle(__name__)
    app.add_middleware(HTTPSRedirectMiddleware, **options)

    @app.route("/{rest:path}", methods=["GET", "POST"])
    async def anything(request: Request, rest: str) -> str:
        return str(request.url)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return app


def redirect(app: Kettle, target: str, method: str = "GET", **headers: str) -> Any:
    client = TestClient(app, base_url="http://example.com")
    return client.request(method, target, headers=headers, follow_redirects=False)


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/", "https://example.com/"),
        ("/a/b?x=1&y=%20z", "https://example.com/a/b?x=1&y=%20z"),
        ("/caf%C3%A9", "https://example.com/caf%C3%A9"),
        ("/%5Cevil.com", "https://example.com/%5Cevil.com"),
    ],
)
def test_redirect_keeps_path_and_query(target: str, location: str) -> None:
    response = redirect(make_app(), target)
    assert response.status_code == 307
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("options", "method", "status"),
    [({}, "POST", 307), ({"permanent": True}, "GET", 308), ({"permanent": True}, "POST", 308)],
)
def test_status(options: dict[str, Any], method: str, status: int) -> None:
    assert redirect(make_app(**options), "/", method).status_code == status


@pytest.mark.parametrize(
    ("host", "options", "location"),
    [
        ("example.com:80", {}, "https://example.com/"),
        ("example.com:8000", {}, "https://example.com:8000/"),
        ("example.com:8000", {"https_port": 8443}, "https://example.com:8443/"),
        ("example.com", {"https_port": 443}, "https://example.com/"),
        ("EXAMPLE.com", {}, "https://example.com/"),
        ("[::1]:80", {}, "https://[::1]/"),
    ],
)
def test_ports(host: str, options: dict[str, Any], location: str) -> None:
    response = redirect(make_app(**options), "/", Host=host)
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    "host",
    [
        "evil.com@example.com",
        "example.com@evil.com",
        "//evil.com",
        "example.com/evil",
        "example.com\\evil.com",
        "example.com:80:80",
        "example.com:abc",
        "exa mple.com",
        "",
    ],
)
def test_hostile_host_is_a_400_not_a_redirect(host: str) -> None:
    response = redirect(make_app(), "/", Host=host)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.text == "Invalid host header"


@pytest.mark.parametrize(
    "hosts",
    [
        [],
        [b"a.com", b"b.com"],
        [b"a.com\r\nSet-Cookie: x=1"],
        [b"a.com\nb"],
        ["ex\u00e4mple.com".encode()],
    ],
)
def test_location_needs_one_clean_host(hosts: list[bytes]) -> None:
    middleware = HTTPSRedirectMiddleware(make_app())
    scope = {
        "type": "http",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", h) for h in hosts],
    }
    assert middleware.location(scope) is None


def test_a_path_starting_with_two_slashes_stays_a_path() -> None:
    middleware = HTTPSRedirectMiddleware(make_app())
    scope = {
        "type": "http",
        "raw_path": b"//evil.com/x",
        "query_string": b"",
        "headers": [(b"host", b"a.com")],
    }
    assert middleware.location(scope) == "https://a.com//evil.com/x"


def test_raw_control_characters_in_the_path_are_encoded() -> None:
    middleware = HTTPSRedirectMiddleware(make_app())
    scope = {
        "type": "http",
        "raw_path": b"/a\r\nLocation: //evil.com",
        "query_string": b"q=\r\n",
        "headers": [(b"host", b"a.com")],
    }
    assert middleware.location(scope) == "https://a.com/a%0D%0ALocation:%20//evil.com?q=%0D%0A"


def test_https_requests_pass() -> None:
    client = TestClient(make_app(), base_url="https://example.com")
    assert client.get("/x").text == "https://example.com/x"


@pytest.mark.parametrize(
    ("peer", "status"),
    [(("10.0.0.2", 1), 200), (("203.0.113.5", 1), 307)],
)
def test_behind_a_proxy_that_ends_tls(peer: tuple[str, int], status: int) -> None:
    app = make_app()
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.2"])
    client = TestClient(app, base_url="http://example.com", client=peer)
    response = client.get("/x", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert response.status_code == status


def _websocket(extensions: dict[str, Any]) -> list[dict[str, Any]]:
    middleware = HTTPSRedirectMiddleware(make_app())
    scope = {
        "type": "websocket", "scheme": "ws", "path": "/ws", "raw_path": b"/ws",
        "query_string": b"", "headers": [(b"host", b"example.com")], "extensions": extensions,
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


def test_websocket_redirect_where_the_server_can_send_one() -> None:
    start, body = _websocket({"websocket.http.response": {}})
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 307
    assert (b"location", b"wss://example.com/ws") in start["headers"]
    assert body["type"] == "websocket.http.response.body"


def test_websocket_closed_where_it_cannot() -> None:
    assert _websocket({}) == [{"type": "websocket.close", "code": 1008, "reason": "Use wss://"}]
    client = TestClient(make_app(), base_url="http://example.com")
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws"):
        pass


def test_bad_port_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a TCP port"):
        HTTPSRedirectMiddleware(make_app(), https_port=70000)
