"""ProxyHeadersMiddleware: forwarded headers honoured only from trusted proxies, the
X-Forwarded-For chain walked from the right, and malformed values ignored."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kettle import ConfigurationError, Kettle, Request, WebSocket, session
from kettle.middleware import ProxyHeadersMiddleware
from kettle.middleware.proxy import parse_forwarded
from kettle.testing import TestClient

PROXY = ("10.0.0.2", 4000)


def make_client(peer: tuple[str, int] = PROXY, **options: Any) -> TestClient:
    options.setdefault("trusted_proxies", ["10.0.0.0/24", "192.168.1.1", "::1"])
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = "test key"
    app.add_middleware(ProxyHeadersMiddleware, **options)

    @app.get("/")
    async def index(request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "client": client.host if client else None,
            "url": str(request.url),
            "external": app.url_for("index", _external=True),
            "server": list(request.scope["server"] or ()),
        }

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"scheme": websocket.scope["scheme"], "url": str(websocket.url)})
        await websocket.close()

    return TestClient(app, client=peer)


def get(client: TestClient, headers: Any) -> dict[str, Any]:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_trusted_proxy_rewrites_client_scheme_and_host() -> None:
    result = get(
        make_client(),
        {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "shop.example.com",
        },
    )
    assert result == {
        "client": "203.0.113.9",
        "url": "https://shop.example.com/",
        "external": "https://shop.example.com/",
        "server": ["shop.example.com", 443],
    }


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        (("203.0.113.50", 1), ["10.0.0.0/24"]),
        (("10.0.1.2", 1), ["10.0.0.0/24"]),
        (("127.0.0.1", 1), ["10.0.0.2"]),
        (("testclient", 1), ["10.0.0.2"]),
    ],
)
def test_untrusted_peer_is_not_believed(peer: tuple[str, int], trusted: list[str]) -> None:
    spoof = {
        "X-Forwarded-For": "1.2.3.4",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.com",
        "X-Forwarded-Port": "8443",
        "Forwarded": "for=1.2.3.4;proto=https;host=evil.com",
    }
    result = get(make_client(peer, trusted_proxies=trusted), spoof)
    assert result["client"] == peer[0]
    assert result["url"] == "http://testserver/"


@pytest.mark.parametrize(
    ("xff", "client"),
    [
        ("203.0.113.9, 10.0.0.7", "203.0.113.9"),  # a trusted hop skipped
        ("1.1.1.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # the spoofed left part ignored
        ("10.0.0.8, 10.0.0.7", "10.0.0.8"),  # all trusted: the leftmost
        ("203.0.113.9:5555", "203.0.113.9"),
        ("[2001:db8::1]:5555, ::1", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("garbage, 10.0.0.7", "10.0.0.7"),  # unreadable beyond a trusted hop: that hop
        ("203.0.113.9, garbage", PROXY[0]),  # unreadable at once: the peer
        ("", PROXY[0]),
        (",,,", PROXY[0]),
        ("unknown", PROXY[0]),
        ("1.2.3.4\r\nX-Evil: 1", PROXY[0]),
        ("999.1.1.1", PROXY[0]),
    ],
)
def test_x_forwarded_for_is_walked_from_the_right(xff: str, client: str) -> None:
    assert get(make_client(), {"X-Forwarded-For": xff})["client"] == client


def test_several_x_forwarded_for_lines_are_one_chain() -> None:
    headers = [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "10.0.0.7")]
    assert get(make_client(), headers)["client"] == "203.0.113.9"


def test_a_chain_of_ten_thousand_hops_is_cheap() -> None:
    chain = ", ".join(["10.0.0.9"] * 10_000 + ["203.0.113.9"] + ["10.0.0.8"] * 3)
    started = time.perf_counter()
    assert get(make_client(), {"X-Forwarded-For": chain})["client"] == "203.0.113.9"
    all_trusted = ", ".join(["10.0.0.9"] * 10_000)
    assert get(make_client(), {"X-Forwarded-For": all_trusted})["client"] == "10.0.0.9"
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("headers", "url"),
    [
        ({"X-Forwarded-Proto": "HTTPS"}, "https://testserver/"),
        ({"X-Forwarded-Proto": "http"}, "http://testserver/"),
        ({"X-Forwarded-Proto": "javascript"}, "http://testserver/"),
        ({"X-Forwarded-Proto": "https\r\n"}, "https://testserver/"),
        ({"X-Forwarded-Host": "a.com:8443"}, "http://a.com:8443/"),
        ({"X-Forwarded-Host": "a.com", "X-Forwarded-Port": "8080"}, "http://a.com:8080/"),
        ({"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}, "https://testserver/"),
        ({"X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443"}, "https://testserver:8443/"),
        ({"X-Forwarded-Port": "99999"}, "http://testserver/"),
        ({"X-Forwarded-Port": "-1"}, "http://testserver/"),
        ({"X-Forwarded-Host": "evil.com/path"}, "http://testserver/"),
        ({"X-Forwarded-Host": "user@evil.com"}, "http://testserver/"),
        ({"X-Forwarded-Host": "//evil.com"}, "http://testserver/"),
        ({"X-Forwarded-Host": "evil.com\\@good.com"}, "http://testserver/"),
        ({"X-Forwarded-Host": ""}, "http://testserver/"),
        ({"X-Forwarded-Host": "[::1]:8000"}, "http://[::1]:8000/"),
    ],
)
def test_proto_host_and_port(headers: dict[str, str], url: str) -> None:
    assert get(make_client(), headers)["url"] == url


def test_values_aligned_with_the_client_hop() -> None:
    # Each proxy appended its own entry: the one written with the client's hop is used.
    headers = {
        "X-Forwarded-For": "203.0.113.9, 10.0.0.7",
        "X-Forwarded-Proto": "https, http",
        "X-Forwarded-Host": "shop.example.com, internal.lan",
    }
    assert get(make_client(), headers)["url"] == "https://shop.example.com/"


def test_trailing_slash_redirect_keeps_the_forwarded_scheme() -> None:
    app = Kettle(__name__)
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.2"])

    @app.get("/items/")
    async def items() -> list[int]:
        return []

    client = TestClient(app, client=PROXY, base_url="http://internal")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"}
    response = client.get("/items", headers=headers, follow_redirects=False)
    assert response.status_code == 308
    location = response.headers["location"]
    # Relative (resolved against the https URL the browser used) or on https, never http.
    assert location == "/items/" or location.startswith("https://shop.example.com/")


def test_session_cookie_is_secure_behind_a_tls_proxy() -> None:
    client = make_client()
    behind = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in behind.headers["set-cookie"].lower()
    spoofed = make_client(("203.0.113.5", 1)).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in spoofed.headers["set-cookie"].lower()


def test_websocket_scheme_becomes_wss() -> None:
    client = make_client()
    with client.websocket_connect("/ws", headers={"X-Forwarded-Proto": "https"}) as ws:
        assert ws.receive_json()["scheme"] == "wss"


@pytest.mark.parametrize(
    ("forwarded", "client", "url"),
    [
        (
            "for=203.0.113.9;proto=https;host=shop.example.com",
            "203.0.113.9",
            "https://shop.example.com/",
        ),
        ('for="[2001:db8::17]:4711";proto=https', "2001:db8::17", "https://testserver/"),
        (
            "for=203.0.113.9;proto=https;host=a.com, for=10.0.0.7;proto=http;host=b.lan",
            "203.0.113.9",
            "https://a.com/",
        ),
        (
            'for=1.1.1.1, for="203.0.113.9";host="a.com", for=10.0.0.7',
            "203.0.113.9",
            "http://a.com/",
        ),
        ('For=203.0.113.9;PROTO="https"', "203.0.113.9", "https://testserver/"),
        ('for="203.0.113.9\\"";proto=https', PROXY[0], "http://testserver/"),
        ('for="unclosed;proto=https', PROXY[0], "http://testserver/"),
        ("for=203.0.113.9;for=1.1.1.1", PROXY[0], "http://testserver/"),
        ("for", PROXY[0], "http://testserver/"),
        ("garbage", PROXY[0], "http://testserver/"),
        (";;;", PROXY[0], "http://testserver/"),
        ("for=_hidden;proto=https", PROXY[0], "http://testserver/"),
        ('for=203.0.113.9;host="evil.com/x"', "203.0.113.9", "http://testserver/"),
        ("for=203.0.113.9," * 5000 + "for=10.0.0.7", "203.0.113.9", "http://testserver/"),
    ],
)
def test_forwarded_style(forwarded: str, client: str, url: str) -> None:
    result = get(make_client(style="forwarded"), {"Forwarded": forwarded})
    assert (result["client"], result["url"]) == (client, url)


def test_each_style_ignores_the_other_header() -> None:
    # A proxy that sets one header passes the other one through from the client.
    spoof_rfc = {"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=6.6.6.6"}
    assert get(make_client(), spoof_rfc)["client"] == "203.0.113.9"
    spoof_x = {"Forwarded": "for=203.0.113.9", "X-Forwarded-For": "6.6.6.6"}
    assert get(make_client(style="forwarded"), spoof_x)["client"] == "203.0.113.9"


def test_parse_forwarded() -> None:
    assert parse_forwarded('for="a\\"b";by=x') == [{"for": 'a"b', "by": "x"}]
    assert parse_forwarded("for=a,,for=b") is None


@pytest.mark.parametrize(
    ("trusted", "peer", "believed"),
    [
        (["*"], ("8.8.8.8", 1), True),
        (["unix"], None, True),
        (["10.0.0.2"], None, False),
        ("10.0.0.1, 10.0.0.2", ("10.0.0.2", 1), True),
        (["2001:db8::/32"], ("2001:db8::5", 1), True),
    ],
)
def test_trusted_entries(trusted: Any, peer: Any, believed: bool) -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def index(request: Request) -> str:
        return request.client.host if request.client else "-"

    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=trusted)
    client = TestClient(app, client=peer)
    text = client.get("/", headers={"X-Forwarded-For": "203.0.113.9"}).text
    assert (text == "203.0.113.9") is believed


def test_uvicorn_s_trusted_hosts_name_is_accepted() -> None:
    result = get(
        make_client(trusted_hosts=["10.0.0.2"], trusted_proxies=None),
        {"X-Forwarded-For": "1.2.3.4"},
    )
    assert result["client"] == "1.2.3.4"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "trusts no proxy"),
        ({"trusted_proxies": []}, "trusts no proxy"),
        ({"trusted_proxies": ["localhost"]}, "not an IP address"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "not an IP address"),
        ({"trusted_proxies": ["1.1.1.1"], "trusted_hosts": ["1.1.1.1"]}, "not both"),
        ({"trusted_proxies": ["1.1.1.1"], "style": "both"}, "style"),
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ProxyHeadersMiddleware(Kettle(__name__), **options)


def test_nothing_is_trusted_without_the_middleware() -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def index(request: Request) -> str:
        return f"{request.client.host if request.client else '-'} {request.url}"

    client = TestClient(app, client=("127.0.0.1", 1))
    text = client.get(
        "/", headers={"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}
    ).text
    assert text == "127.0.0.1 http://testserver/"


# -- kettle run: no forwarded header is trusted unless configured ---------------------------

SERVED = """
from kettle import Kettle, Request

app = Kettle(__name__)

@app.get("/hello")
def hello():
    return "up"

@app.get("/whoami")
async def whoami(request: Request):
    return {"client": request.client.host, "url": str(request.url)}
"""

SPOOF = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "a.com",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "believed"),
    [
        ([], False),
        (["--forwarded-allow-ips", "10.0.0.1"], False),
        (["--forwarded-allow-ips", "127.0.0.1", "--no-proxy-headers"], False),
        (["--forwarded-allow-ips", "127.0.0.0/8"], True),
        (["--forwarded-allow-ips", "127.0.0.1", "--workers", "2"], True),
    ],
)
def test_kettle_run_trusts_forwarded_headers_only_when_configured(
    options: list[str], believed: bool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import httpx
    from test_servers import _free_port, _serve

    (tmp_path / "proxied.py").write_text(SERVED)
    # uvicorn's own setting: kettle run must not let it switch uvicorn's trust back on.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    port = _free_port()
    command = [sys.executable, "-m", "kettle", "run", "proxied:app", "--port", str(port), *options]
    for _ in _serve(command, tmp_path, port):
        answer = httpx.get(f"http://127.0.0.1:{port}/whoami", headers=SPOOF).json()
        if believed:
            assert answer == {"client": "203.0.113.9", "url": "https://a.com/whoami"}
        else:
            assert answer == {"client": "127.0.0.1", "url": f"http://127.0.0.1:{port}/whoami"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--proxy-headers"], "--proxy-headers needs --forwarded-allow-ips"),
        (["--forwarded-allow-ips", "proxy.lan"], "not an IP address"),
    ],
)
def test_kettle_run_refuses_unclear_proxy_trust(options: list[str], message: str) -> None:
    from click.testing import CliRunner

    from kettle.cli import cli

    result = CliRunner().invoke(cli, ["run", "nowhere:app", *options])
    assert result.exit_code == 2
    assert message in result.output
