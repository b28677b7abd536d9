"""``app.wsgi_app = ProxyFix(app.wsgi_app, ...)``: Werkzeug's hop-counting proxy fix,
served the same under an ASGI server (a layer the app adds at compile) and a WSGI one."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kettle import Kettle, request, url_for
from kettle.middleware.proxyfix import ProxyFix, ProxyFixMiddleware
from kettle.testing import TestClient


def _scope(headers: dict[str, str], scheme: str = "http", kind: str = "http") -> dict[str, Any]:
    return {
        "type": kind,
        "scheme": scheme,
        "path": "/",
        "root_path": "",
        "client": ("10.0.0.1", 5000),
        "server": ("internal", 8000),
        "headers": [(b"host", b"internal:8000")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


async def _noop(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
    pass


@pytest.mark.parametrize(
    ("counts", "headers", "expected"),
    [
        # the last entry is the one the (single) proxy appended
        ({}, {"X-Forwarded-For": "203.0.113.5, 198.51.100.7"}, {"client": ("198.51.100.7", 0)}),
        ({"x_for": 2}, {"X-Forwarded-For": "203.0.113.5, 198.51.100.7"},
         {"client": ("203.0.113.5", 0)}),
        # fewer entries than proxies: the header is not trusted at all
        ({"x_for": 2}, {"X-Forwarded-For": "198.51.100.7"}, {"client": ("10.0.0.1", 5000)}),
        ({"x_for": 0}, {"X-Forwarded-For": "198.51.100.7"}, {"client": ("10.0.0.1", 5000)}),
        ({}, {"X-Forwarded-Proto": "https"}, {"scheme": "https"}),
        ({"x_proto": 0}, {"X-Forwarded-Proto": "https"}, {"scheme": "http"}),
        # not trusted by default (x_host=0), as in Werkzeug
        ({}, {"X-Forwarded-Host": "evil.example"}, {"server": ("internal", 8000)}),
        ({"x_host": 1}, {"X-Forwarded-Host": "shop.example.com"},
         {"server": ("shop.example.com", 80), "host": "shop.example.com"}),
        ({"x_host": 1, "x_port": 1}, {"X-Forwarded-Host": "shop.example.com",
                                      "X-Forwarded-Port": "8443"},
         {"server": ("shop.example.com", 8443), "host": "shop.example.com:8443"}),
        ({"x_port": 1}, {"X-Forwarded-Port": "not-a-port"}, {"host": "internal:8000"}),
        ({"x_prefix": 1}, {"X-Forwarded-Prefix": "/shop/"},
         {"root_path": "/shop", "path": "/shop/"}),
        ({"x_prefix": 1}, {"X-Forwarded-Prefix": "evil.example"}, {"root_path": "", "path": "/"}),
        ({}, {}, {"client": ("10.0.0.1", 5000), "scheme": "http", "root_path": ""}),
    ],
)  # fmt: skip
def test_the_scope_takes_the_trusted_hops(
    counts: dict[str, int], headers: dict[str, str], expected: dict[str, Any]
) -> None:
    fixed = ProxyFixMiddleware(_noop, **counts).fix_scope(_scope(headers))
    for key, value in expected.items():
        if key == "host":
            assert dict(fixed["headers"])[b"host"].decode() == value
        else:
            assert fixed[key] == value


@pytest.mark.parametrize(("proto", "scheme"), [("https", "wss"), ("http", "ws")])
def test_a_websocket_gets_its_own_scheme(proto: str, scheme: str) -> None:
    scope = _scope({"X-Forwarded-Proto": proto}, scheme="ws", kind="websocket")
    assert ProxyFixMiddleware(_noop).fix_scope(scope)["scheme"] == scheme


def test_the_environ_takes_the_trusted_hops_and_keeps_the_originals() -> None:
    seen: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    fix = ProxyFix(wsgi, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    fix(
        {
            "REMOTE_ADDR": "10.0.0.1",
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "internal:8000",
            "SERVER_NAME": "internal",
            "SERVER_PORT": "8000",
            "SCRIPT_NAME": "",
            "HTTP_X_FORWARDED_FOR": "203.0.113.5",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "shop.example.com",
            "HTTP_X_FORWARDED_PORT": "8443",
            "HTTP_X_FORWARDED_PREFIX": "/shop",
        },
        lambda *args: None,
    )
    assert (seen["REMOTE_ADDR"], seen["wsgi.url_scheme"]) == ("203.0.113.5", "https")
    assert (seen["HTTP_HOST"], seen["SERVER_NAME"]) == ("shop.example.com:8443", "shop.example.com")
    assert (seen["SERVER_PORT"], seen["SCRIPT_NAME"]) == ("8443", "/shop")
    assert seen["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"] == "10.0.0.1"


@pytest.mark.parametrize("count", [-1, True, "1", 1.5])
def test_a_count_must_be_a_number_of_proxies(count: Any) -> None:
    with pytest.raises(ValueError, match="number of proxies"):
        ProxyFix(lambda environ, start_response: [], x_for=count)


@pytest.fixture
def app() -> Kettle:
    app = Kettle(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]

    @app.route("/where")
    def where() -> dict[str, str]:
        return {
            "addr": str(request.remote_addr),
            "url": str(request.url),
            "link": url_for("where", _external=True),
        }

    return app


HEADERS = {
    "X-Forwarded-For": "203.0.113.5",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example.com",
    "X-Forwarded-Prefix": "/shop",
}
EXPECTED = {
    "addr": "203.0.113.5",
    "url": "https://shop.example.com/shop/where",
    "link": "https://shop.example.com/shop/where",
}


def test_an_asgi_server_serves_the_apps_proxy_fix(app: Kettle) -> None:
    assert TestClient(app).get("/where", headers=HEADERS).json() == EXPECTED


def test_a_wsgi_server_serves_it_once(app: Kettle) -> None:
    # Two proxies would be counted if both the WSGI object and the ASGI layer applied it:
    # with one trusted hop, the client's own first entry must stay ignored.
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/where",
        "QUERY_STRING": "",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_HOST": "internal:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in HEADERS.items()},
    }
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, *exc: statuses.append(status)))
    import json

    assert statuses == ["200 OK"]
    assert json.loads(body) == EXPECTED


def test_other_wsgi_middleware_is_said_to_run_only_under_wsgi() -> None:
    app = Kettle(__name__)
    inner = app.wsgi_app

    def custom(environ: dict[str, Any], start_response: Any) -> Any:
        return inner(environ, start_response)

    app.wsgi_app = custom  # type: ignore[method-assign]
    app.route("/")(lambda: "ok")
    with pytest.warns(RuntimeWarning, match="runs only when a WSGI server serves the app"):
        app.compile()
