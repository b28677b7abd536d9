"""CSRFMiddleware: tokens bound to the session, origin checks, exemptions, and JSON bodies
that must declare a JSON content type (CVE-2021-32677)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from kettle import Kettle, Request, WebSocket, WebSocketDisconnect, g, session
from kettle.exceptions import ConfigurationError
from kettle.middleware.csrf import CSRFError, CSRFMiddleware, csrf_token
from kettle.templating import render_template_string
from kettle.testing import TestClient


class Item(BaseModel):
    name: str


def make_app(secret: str = "s3cret-key", **options: Any) -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = secret
    options.setdefault("trusted_origins", ["https://partner.example"])
    options.setdefault("exempt", ["/hooks/*", "/open", re.compile(r"/api/v\d+/ping")])
    app.add_middleware(CSRFMiddleware, **options)

    @app.get("/token")
    async def token() -> dict[str, str]:
        return {"token": csrf_token()}

    @app.get("/page")
    async def page() -> Any:
        return render_template_string('<form method="post">{{ csrf_input() }}</form>')

    @app.post("/submit")
    async def submit(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {key: form.getlist(key) for key in form}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        upload = form["file"]
        assert not isinstance(upload, str)
        return {"size": len(await upload.read()), "note": form.get("note")}

    @app.post("/items")
    async def create(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, Any]:
        return {"json": await request.json()}

    for path in ("/hooks/github", "/hooks", "/open", "/api/v2/ping", "/api/vx/ping"):
        app.add_url_rule(path, path, lambda: {"ok": True}, methods=["POST"])
    return app


@pytest.fixture
def app() -> Kettle:
    return make_app()


def logged_in(app: Kettle) -> tuple[TestClient, str]:
    """A client whose session holds a CSRF secret, and a token for it."""
    client = TestClient(app)
    response = client.get("/token")
    assert response.status_code == 200
    assert "cookie" in response.headers["vary"].lower()
    return client, response.json()["token"]


def test_form_field_token_passes_and_the_handler_still_reads_the_whole_form(app: Kettle) -> None:
    client, token = logged_in(app)
    response = client.post("/submit", data={"csrf_token": token, "text": "hello", "n": "1"})
    assert response.status_code == 200
    assert response.json() == {"csrf_token": [token], "text": ["hello"], "n": ["1"]}


def test_header_token_passes_for_a_json_body(app: Kettle) -> None:
    client, token = logged_in(app)
    response = client.post("/items", json={"name": "kettle"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.json() == {"name": "kettle"}


def test_token_from_the_template_global_passes(app: Kettle) -> None:
    client = TestClient(app)
    html = client.get("/page").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    assert client.post("/submit", data={"csrf_token": token.group(1)}).status_code == 200


def test_each_token_is_new_and_all_are_valid(app: Kettle, monkeypatch: pytest.MonkeyPatch) -> None:
    client, first = logged_in(app)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 5)  # tokens carry a timestamp
    second = client.get("/token").json()["token"]
    assert first != second
    for token in (first, second):
        assert client.post("/submit", data={"csrf_token": token}).status_code == 200


def test_multipart_token_before_the_file_and_the_file_arrives_intact(app: Kettle) -> None:
    client, token = logged_in(app)
    data = {"csrf_token": token, "note": "n"}
    files = {"file": ("a.bin", b"x" * 300_000, "application/octet-stream")}
    response = client.post("/upload", data=data, files=files)
    assert response.status_code == 200
    assert response.json() == {"size": 300_000, "note": "n"}


def test_multipart_token_after_a_small_file_is_found() -> None:
    app = make_app()
    client, token = logged_in(app)
    body = (
        b"--B\r\nContent-Disposition: form-data; name=file; filename=a.txt\r\n\r\nabc\r\n"
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b"\r\n--B--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=B"}
    response = client.post("/upload", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"size": 3, "note": None}


def test_a_token_past_the_scan_limit_is_refused_with_the_reason() -> None:
    app = make_app(max_scan_size=64 * 1024)
    client, token = logged_in(app)
    data = {"csrf_token": token}
    files = {"file": ("a.bin", b"x" * 200_000, "application/octet-stream")}
    # httpx sends fields before files: put the file first by hand.
    body = (
        b"--B\r\nContent-Disposition: form-data; name=file; filename=a.bin\r\n\r\n"
        + b"x" * 200_000
        + b'\r\n--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b"\r\n--B--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=B"}
    response = client.post("/upload", content=body, headers=headers)
    assert response.status_code == 403
    assert "first 65536 bytes" in response.json()["detail"]
    assert client.post("/upload", data=data, files=files).status_code == 200


def test_requests_without_cookies_are_not_csrf_targets(app: Kettle) -> None:
    client = TestClient(app)
    assert client.post("/submit", data={"text": "api"}).status_code == 200
    assert client.post("/items", json={"name": "bearer"}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ],
    ids=["origin", "sec-fetch-site", "null-origin", "referer"],
)
@pytest.mark.parametrize(
    "body",
    [
        {"data": {"username": "attacker", "password": "theirs"}},
        {"files": {"f": ("a.txt", b"x")}},
        {"content": b"username=attacker", "headers": {"Content-Type": "text/plain"}},
    ],
    ids=["urlencoded", "multipart", "text-plain"],
)
def test_a_cross_site_form_without_cookies_is_refused(
    app: Kettle, headers: dict[str, str], body: dict[str, Any]
) -> None:
    """Login CSRF: another site's form posts the attacker's credentials to the login page.
    The victim's browser sends no cookie (none yet, or SameSite=Lax), yet the post would log
    the victim in as the attacker: a form a page elsewhere can send is checked for its
    origin even without cookies."""
    client = TestClient(app)
    extra = {**headers, **body.pop("headers", {})}
    response = client.post("/submit", headers=extra, **body)
    assert response.status_code == 403


def test_a_cross_origin_api_call_without_cookies_is_not_a_csrf_target(app: Kettle) -> None:
    """A page elsewhere calling the API with a bearer token (CORS governs it: the
    Authorization header or the JSON body makes the browser ask first) is let through."""
    client = TestClient(app)
    cross = {"Origin": "https://spa.example", "Sec-Fetch-Site": "cross-site"}
    bearer = {**cross, "Authorization": "Bearer abc"}
    assert client.post("/submit", data={"x": "1"}, headers=bearer).status_code == 200
    assert client.post("/items", json={"name": "x"}, headers=cross).status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_not_checked(app: Kettle, method: str) -> None:
    client, _ = logged_in(app)
    assert client.request(method, "/token").status_code in (200, 405)
    assert client.request(method, "/token").status_code != 403


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_methods_without_a_token_are_refused(app: Kettle, method: str) -> None:
    client, token = logged_in(app)
    response = client.request(method, "/submit", content=b"text=x", headers=_FORM)
    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF token missing."
    assert token not in response.text


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _other_session_token(app: Kettle) -> str:
    token: str = TestClient(app).get("/token").json()["token"]
    return token


@pytest.mark.parametrize(
    ("make_token", "detail"),
    [
        (lambda app: "garbage", "CSRF token invalid."),
        (lambda app: "x" * 10_000, "CSRF token invalid."),
        (lambda app: _other_session_token(app), "CSRF token does not belong to this session."),
        (lambda app: _other_session_token(make_app(secret="another-key")), "CSRF token invalid."),
    ],
    ids=["garbage", "oversized", "another-session", "another-key"],
)
def test_bad_tokens_are_refused_precisely(app: Kettle, make_token: Any, detail: str) -> None:
    client, good = logged_in(app)
    bad = make_token(app)
    for response in (
        client.post("/submit", data={"csrf_token": bad}),
        client.post("/items", json={"name": "x"}, headers={"X-CSRF-Token": bad}),
    ):
        assert response.status_code == 403
        assert response.json()["detail"] == detail
        assert good not in response.text


def test_an_expired_token_is_refused(app: Kettle, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(app)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 7200)
    old = client.get("/token").json()["token"]
    monkeypatch.setattr(time, "time", real)
    response = client.post("/submit", data={"csrf_token": old})
    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF token expired."
    # A fresh token from the same session works.
    fresh = client.get("/token").json()["token"]
    assert client.post("/submit", data={"csrf_token": fresh}).status_code == 200


def test_max_age_none_accepts_old_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(make_app(max_age=None))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 7200)
    old = client.get("/token").json()["token"]
    monkeypatch.setattr(time, "time", real)
    assert client.post("/submit", data={"csrf_token": old}).status_code == 200


def test_a_token_with_no_secret_in_the_session_is_refused(app: Kettle) -> None:
    token = _other_session_token(app)
    client = TestClient(app, cookies={"theme": "dark"})  # a cookie, but no session
    response = client.post("/submit", data={"csrf_token": token})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF token does not belong to this session")


def test_key_rotation_keeps_tokens_valid() -> None:
    app = make_app(secret="old-key")
    client, token = logged_in(app)
    app.config["SECRET_KEY"] = "new-key"
    app.config["SECRET_KEY_FALLBACKS"] = ["old-key"]
    assert client.post("/submit", data={"csrf_token": token}).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({"Origin": "http://testserver"}, 200, None),
        ({"Origin": "http://TESTSERVER:80"}, 200, None),
        ({"Origin": "https://partner.example"}, 200, None),
        ({"Origin": "https://evil.example"}, 403, "Origin not allowed."),
        ({"Origin": "http://testserver.evil"}, 403, "Origin not allowed."),
        ({"Origin": "https://testserver"}, 403, "Origin not allowed."),
        ({"Origin": "null"}, 403, "Origin not allowed."),
        ({"Origin": "garbage"}, 403, "Origin not allowed."),
        ({"Origin": "http://[::1"}, 403, "Origin not allowed."),
        ({"Sec-Fetch-Site": "same-origin"}, 200, None),
        ({"Sec-Fetch-Site": "none"}, 200, None),
        (
            {"Sec-Fetch-Site": "cross-site"},
            403,
            "Cross-site request refused (Sec-Fetch-Site: cross-site).",
        ),
        (
            {"Sec-Fetch-Site": "same-site"},
            403,
            "Cross-site request refused (Sec-Fetch-Site: same-site).",
        ),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example"}, 200, None),
        ({"Referer": "http://testserver/form"}, 200, None),
        ({"Referer": "https://evil.example/form"}, 403, "Referer not allowed."),
        ({"Referer": "not a url"}, 403, "Referer not allowed."),
    ],
)
def test_origin_checks_apply_even_with_a_good_token(
    app: Kettle, headers: dict[str, str], status: int, detail: str | None
) -> None:
    client, token = logged_in(app)
    response = client.post("/submit", data={"csrf_token": token}, headers=headers)
    assert response.status_code == status
    if detail is not None:
        assert response.json()["detail"] == detail
        assert token not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/hooks/github", 200),
        ("/open", 200),
        ("/api/v2/ping", 200),
        ("/hooks", 403),
        ("/api/vx/ping", 403),
    ],
)
def test_exempt_paths(app: Kettle, path: str, status: int) -> None:
    client, _ = logged_in(app)
    assert client.post(path).status_code == status


def test_a_csrf_error_handler_renders_the_refusal(app: Kettle) -> None:
    @app.errorhandler(CSRFError)
    async def refused(error: CSRFError) -> tuple[str, int]:
        return f"reload the form: {error.detail}", 403

    client, _ = logged_in(app)
    response = client.post("/submit", data={"text": "x"})
    assert (response.status_code, response.text) == (403, "reload the form: CSRF token missing.")


def test_a_csrf_error_handler_runs_in_the_request_context(app: Kettle) -> None:
    # Regression: the refusal happens in the middleware, before dispatch makes the request
    # context, so a handler rendering a page (request, session, g, the context
    # processors) failed with "working outside of request context", a 500.
    @app.errorhandler(CSRFError)
    async def refused(error: CSRFError) -> tuple[str, int]:
        g.reason = error.detail
        page = render_template_string(
            "{{ request.path }}: {{ g.reason }} (token in session: {{ has_secret }})",
            has_secret="_csrf_secret" in session,
        )
        return page, 403

    client, _ = logged_in(app)
    response = client.post("/submit", data={"text": "x"})
    assert (response.status_code, response.text) == (
        403,
        "/submit: CSRF token missing. (token in session: True)",
    )


def test_the_body_limit_still_applies_after_the_scan() -> None:
    app = make_app()
    app.limits = app.limits.replace(max_body_size=1000)
    client, token = logged_in(app)
    response = client.post("/submit", data={"csrf_token": token, "big": "x" * 5000})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"csrf%5Ftoken={token}&a=1",  # the same name, percent-encoded
        b"a=1&csrf_token={token}",
        b"csrf_token={token}",
    ],
)
def test_urlencoded_variants(app: Kettle, body: bytes) -> None:
    client, token = logged_in(app)
    content = body.replace(b"{token}", token.encode())
    assert client.post("/submit", content=content, headers=_FORM).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "text/plain", "application/json"],
)
def test_no_token_where_the_body_cannot_carry_one(app: Kettle, content_type: str) -> None:
    client, token = logged_in(app)
    body = f"csrf_token={token}".encode()
    response = client.post("/submit", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF token missing."


def test_non_ascii_and_empty_token_headers(app: Kettle) -> None:
    client, _ = logged_in(app)
    for value in ("ünïcode".encode(), b" ", b"\xff\xfe"):
        headers = {b"X-CSRF-Token": value}
        response = client.post("/items", json={"name": "x"}, headers=headers)
        assert response.status_code == 403
        assert response.json()["detail"] in ("CSRF token invalid.", "CSRF token missing.")


@pytest.mark.parametrize(
    "options",
    [
        {"trusted_origins": "https://a.example"},
        {"trusted_origins": ["https://a.example/path"]},
        {"trusted_origins": ["ftp://a.example"]},
        {"trusted_origins": ["a.example"]},
        {"exempt": ["hooks"]},
        {"exempt": "/hooks"},
        {"max_age": 0},
        {"max_scan_size": 0},
        {"header_name": " "},
    ],
)
def test_bad_configuration_is_refused_at_startup(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        CSRFMiddleware(make_app(), **options)


def test_the_template_global_csrf_token_renders_a_valid_token(app: Kettle) -> None:
    @app.get("/meta")
    async def meta() -> Any:
        return render_template_string('<meta name="csrf-token" content="{{ csrf_token() }}">')

    client = TestClient(app)
    token = client.get("/meta").text.split('content="')[1].split('"')[0]
    assert (
        client.post("/items", json={"name": "x"}, headers={"X-CSRF-Token": token}).status_code
        == 200
    )


def test_making_a_token_without_a_secret_key_says_what_to_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(secret="")
    response = TestClient(app, raise_server_exceptions=False).get("/token")
    assert response.status_code == 500
    assert "SECRET_KEY" not in response.text  # the reason goes to the log, not the client
    assert "set app.config['SECRET_KEY']" in caplog.text


def test_a_missing_secret_key_fails_at_startup() -> None:
    app = make_app(secret="")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"), TestClient(app):
        pass


# -- JSON bodies need a JSON content type (CVE-2021-32677) -----------------------------------


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("APPLICATION/JSON", 200),
        (" application/json ; charset=UTF-8", 200),
        ("application/problem+json", 200),
        ('application/json; charset="utf\\"-8"; x="a\\\\b"', 200),
        ("text/plain", 415),
        ("text/plain; charset=utf-8", 415),
        ('text/plain; x="application/json"', 415),
        ("application/jsonx", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/json-patch", 415),
        ("json", 415),
        (None, 415),
    ],
)
@pytest.mark.parametrize("path", ["/items", "/raw"])
def test_json_bodies_need_a_json_content_type(
    app: Kettle, content_type: str | None, status: int, path: str
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    client = TestClient(app)
    response = client.post(path, content=b'{"name": "x"}', headers=headers)
    assert response.status_code == status, response.text
    if status == 415:
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("headers", "cookie", "accepted"),
    [
        ({"Origin": "http://testserver"}, True, True),
        ({"Origin": "https://partner.example"}, True, True),
        ({}, True, True),
        ({"Origin": "https://evil.example"}, True, False),
        ({"Origin": "null"}, True, False),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, True, False),
        ({"Origin": "https://evil.example"}, False, True),  # no cookie: nothing to hijack
    ],
)
def test_websocket_handshakes_with_cookies_get_the_origin_checks(
    app: Kettle, headers: dict[str, str], cookie: bool, accepted: bool
) -> None:
    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    client = logged_in(app)[0] if cookie else TestClient(app)
    if accepted:
        with client.websocket_connect("/ws", headers=headers) as connection:
            assert connection.receive_text() == "hi"
        return
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws", headers=headers),
    ):
        pass
    assert refused.value.code == 1008


def test_behind_a_tls_proxy_the_https_origin_is_our_own() -> None:
    from kettle.middleware.proxy import ProxyHeadersMiddleware

    app = make_app()
    app.add_middleware(ProxyHeadersMiddleware, trusted_proxies=["10.0.0.1"])
    client = TestClient(app, client=("10.0.0.1", 4000))
    token = client.get("/token").json()["token"]
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example"}
    ok = {**proxied, "Origin": "https://app.example"}
    assert client.post("/submit", data={"csrf_token": token}, headers=ok).status_code == 200
    evil = {**proxied, "Origin": "http://app.example"}  # the scheme differs
    assert client.post("/submit", data={"csrf_token": token}, headers=evil).status_code == 403


# -- the form scanners, sans-I/O, and bodies that arrive in pieces --------------------------


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


_MULTIPART = (
    b"preamble to ignore\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=note\r\n\r\nhello\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=csrf_token; filename=x.txt\r\n\r\nfile\r\n"
    b'--XyZ\r\ncontent-type: text/plain\r\nCONTENT-DISPOSITION: form-data; name="csrf_token"'
    b"\r\n\r\nTOKEN\r\n--XyZ--\r\n"
)


@pytest.mark.parametrize("size", [1, 2, 7, 64, 10_000])
def test_the_multipart_scanner_finds_the_field_however_the_body_is_cut(size: int) -> None:
    from kettle.middleware.csrf import _MultipartScanner

    scanner = _MultipartScanner("csrf_token", b"XyZ")
    pieces = _pieces(_MULTIPART, size)
    found = [scanner.feed(piece, final=i == len(pieces) - 1) for i, piece in enumerate(pieces)]
    # The first part found is the field, not the file part of the same name.
    assert next(f for f in found if f is not None) == "TOKEN"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no delimiter at all",
        b"--XyZ",
        b"--XyZ\r\nContent-Disposition: form-data; name=csrf_token\r\n",
        b"--XyZ\r\nContent-Disposition: form-data; name=csrf_token\r\n\r\nunterminated",
        b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--\r\n",
        b"--XyZ\r\nContent-Disposition: form-data; name=other\r\n\r\nv\r\n--XyZ",
    ],
)
def test_the_multipart_scanner_without_a_complete_token_part(body: bytes) -> None:
    from kettle.middleware.csrf import _MultipartScanner

    assert _MultipartScanner("csrf_token", b"XyZ").feed(body, final=True) is None


@pytest.mark.parametrize("size", [1, 3, 100])
def test_the_urlencoded_scanner_across_pieces(size: int) -> None:
    from kettle.middleware.csrf import _UrlencodedScanner

    scanner = _UrlencodedScanner("csrf_token")
    pieces = _pieces(b"a=1&b=%20x&csrf_token=to%2Bken+1&c=3", size)
    found = [scanner.feed(piece, final=i == len(pieces) - 1) for i, piece in enumerate(pieces)]
    assert [f for f in found if f is not None] == ["to+ken 1"]


async def _call(
    app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]
) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def _scope(cookie: str, content_type: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/submit",
        "raw_path": b"/submit",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"content-type", content_type),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("size", [1, 5, 50])
def test_a_form_streamed_in_pieces_reaches_the_handler_whole(app: Kettle, size: int) -> None:
    client, token = logged_in(app)
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
    body = f"text=hello+world&csrf_token={token}&after=1".encode()
    pieces = _pieces(body, size)
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]
    scope = _scope(cookie, b"application/x-www-form-urlencoded")
    status, payload = asyncio.run(_call(app, scope, messages))
    assert status == 200
    assert orjson.loads(payload) == {"text": ["hello world"], "csrf_token": [token], "after": ["1"]}


def test_a_client_gone_during_the_scan_is_no_500(app: Kettle) -> None:
    client, _ = logged_in(app)
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
    scope = _scope(cookie, b"application/x-www-form-urlencoded")
    messages = [{"type": "http.request", "body": b"text=abc", "more_body": True}]
    status, _ = asyncio.run(_call(app, scope, messages))  # then http.disconnect
    assert status in (400, 403)


def test_the_middleware_needs_a_kettle_app() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not reached")

    middleware = CSRFMiddleware(bare)
    scope = _scope("a=b", b"text/plain")
    headers = scope["headers"] + [(b"x-csrf-token", b"t")]
    with pytest.raises(ConfigurationError, match="kettle app"):
        asyncio.run(_call(middleware, {**scope, "headers": headers}, []))


def test_an_async_session_interface_is_awaited() -> None:
    from kettle.sessions import SecureCookieSessionInterface

    class AsyncSessions(SecureCookieSessionInterface):
        is_async = True
        opened = 0

        async def open_session_async(self, app: Any, request: Any) -> Any:
            AsyncSessions.opened += 1
            return self.open_session(app, request)

        async def save_session_async(self, app: Any, session: Any, response: Any) -> None:
            self.save_session(app, session, response)

    app = make_app()
    app.session_interface = AsyncSessions()
    client, token = logged_in(app)
    assert client.post("/submit", data={"csrf_token": token}).status_code == 200
    assert AsyncSessions.opened >= 2  # the page's session, then the middleware's check
