"""kettle.login: session login, remember-me, login_required, and the hostile cases."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from kettle import (
    ConfigurationError,
    Depends,
    Kettle,
    Router,
    WebSocket,
    WebSocketDisconnect,
    redirect,
    request,
    session,
)
from kettle.login import (
    REMEMBER_SALT,
    LoginManager,
    LoginRequired,
    UserMixin,
    current_user,
    login_fresh,
    login_required,
    login_user,
    logout_user,
    safe_next_url,
    wants_json,
)
from kettle.templating import render_template_string
from kettle.testing import TestClient

SECRET = "login tests secret"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class User(UserMixin):
    def __init__(self, id: str, active: bool = True) -> None:
        self.id = id
        self.is_active = active


USERS = {"ada": User("ada"), "bob": User("bob"), "eve": User("eve", active=False)}


def make_app(loader: str = "sync", **manager: Any) -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = SECRET
    login = LoginManager(app, login_view="/login", **manager)

    if loader == "async":

        @login.user_loader
        async def load_async(user_id: str) -> User | None:
            return USERS.get(user_id)

    elif loader == "raises":

        @login.user_loader
        def load_raises(user_id: str) -> User | None:
            raise RuntimeError("database is down")

    else:

        @login.user_loader
        def load(user_id: str) -> User | None:
            return USERS.get(user_id)

    @app.post("/login")
    async def do_login(name: str, remember: bool = False) -> Any:
        if not login_user(USERS[name], remember=remember):
            return {"logged_in": False}
        return redirect(safe_next_url(request.args.get("next")))

    @app.post("/logout")
    async def do_logout() -> dict[str, bool]:
        logout_user()
        return {"logged_out": True}

    @app.post("/plant")
    async def plant() -> dict[str, bool]:
        session["cart"] = ["planted"]
        return {"ok": True}

    @app.get("/whoami")
    async def whoami() -> dict[str, Any]:
        return {
            "id": current_user.get_id(),
            "authenticated": current_user.is_authenticated,
            "fresh": login_fresh(),
            "cart": session.get("cart"),
        }

    @app.get("/async/{item}")
    @login_required
    async def async_page(item: int, q: str = "") -> dict[str, Any]:
        return {"item": item, "q": q, "user": current_user.id}

    @app.route("/sync/<int:item>", methods=["GET", "POST"])
    @login_required
    def sync_page(item: int) -> dict[str, Any]:
        return {"item": item, "user": current_user.id}

    @app.get("/fresh")
    @login_required(fresh=True)
    async def fresh_only() -> dict[str, bool]:
        return {"fresh": True}

    @app.get("/dep")
    async def dep(user: Any = Depends(LoginRequired())) -> dict[str, str]:
        return {"user": user.get_id()}

    @app.get("/page")
    async def page() -> str:
        return render_template_string(
            "{% if current_user.is_authenticated %}hi {{ current_user.id }}"
            "{% else %}anonymous{% endif %}"
        )

    return app


def client_for(app: Kettle, **options: Any) -> TestClient:
    return TestClient(app, follow_redirects=False, **options)


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest) -> TestClient:
    return client_for(make_app(request.param))


def login(client: TestClient, name: str = "ada", remember: bool = False) -> None:
    params: dict[str, Any] = {"name": name}
    if remember:
        params["remember"] = "true"
    response = client.post("/login", params=params)
    assert response.status_code in (302, 303, 307), response.text


def test_anonymous_by_default(client: TestClient) -> None:
    assert client.get("/whoami").json() == {
        "id": None,
        "authenticated": False,
        "fresh": False,
        "cart": None,
    }
    assert client.get("/page").text == "anonymous"


def test_login_then_logout(client: TestClient) -> None:
    login(client)
    assert client.get("/whoami").json() == {
        "id": "ada",
        "authenticated": True,
        "fresh": True,
        "cart": None,
    }
    assert client.get("/page").text == "hi ada"
    assert client.get("/async/3", params={"q": "x"}).json() == {"item": 3, "q": "x", "user": "ada"}
    assert client.get("/sync/4").json() == {"item": 4, "user": "ada"}
    assert client.get("/dep").json() == {"user": "ada"}
    response = client.post("/logout")
    assert 'session=""' in response.headers["set-cookie"] or "Max-Age=0" in str(
        response.headers.get_list("set-cookie")
    )
    assert client.get("/whoami").json()["authenticated"] is False
    assert client.get("/dep").status_code == 401


def test_login_rotates_the_session_so_a_planted_cookie_is_useless(client: TestClient) -> None:
    client.post("/plant")
    planted = client.cookies["session"]
    login(client)
    after = client.get("/whoami").json()
    assert after["id"] == "ada"
    assert after["cart"] is None  # what the pre-login session held is gone
    assert client.cookies["session"] != planted
    # The attacker's copy of the cookie they planted is still anonymous.
    attacker = client_for(client.app)  # type: ignore[arg-type]
    attacker.cookies.set("session", planted)
    assert attacker.get("/whoami").json()["authenticated"] is False


def test_inactive_users_are_not_logged_in(client: TestClient) -> None:
    response = client.post("/login", params={"name": "eve"})
    assert response.json() == {"logged_in": False}
    assert client.get("/whoami").json()["authenticated"] is False


@pytest.mark.parametrize(
    ("method", "path", "headers", "expected"),
    [
        ("GET", "/async/1?q=a%20b", HTML, (302, "/login?next=%2Fasync%2F1%3Fq%3Da%2520b")),
        ("GET", "/sync/2", HTML, (302, "/login?next=%2Fsync%2F2")),
        ("POST", "/sync/2", HTML, (303, "/login?next=%2Fsync%2F2")),
        ("GET", "/sync/2", {}, 401),
        ("GET", "/sync/2", {"Accept": "*/*"}, 401),
        ("GET", "/sync/2", {"Accept": "application/json"}, 401),
        ("GET", "/sync/2", {"Accept": "application/json, text/html;q=0.5"}, 401),
        ("GET", "/sync/2", {"Accept": "text/html;q=0, */*"}, 401),
        ("GET", "/sync/2", {**HTML, "X-Requested-With": "XMLHttpRequest"}, 401),
        ("POST", "/sync/2", {**HTML, "Content-Type": "application/json"}, 401),
        ("POST", "/sync/2", {**HTML, "Content-Type": "application/merge-patch+json"}, 401),
        ("GET", "/dep", HTML, (302, "/login?next=%2Fdep")),
        ("GET", "/dep", {"Accept": "application/json"}, 401),
    ],
)
def test_refusals_redirect_pages_and_401_json(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    expected: int | tuple[int, str],
) -> None:
    response = client.request(method, path, headers=headers)
    if isinstance(expected, tuple):
        assert (response.status_code, response.headers["location"]) == expected
    else:
        assert response.status_code == expected
        assert response.json() == {"detail": "Not authenticated"}
        assert "location" not in response.headers


def test_login_view_by_endpoint_name_and_without_one() -> None:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = SECRET
    auth = Router(prefix="/auth")

    @auth.get("/sign-in", name="sign_in")
    async def sign_in() -> str:
        return "form"

    app.include_router(auth)
    LoginManager(app, login_view="sign_in", next_param="to")

    @app.get("/private")
    @login_required
    async def private() -> str:
        return "secret"

    response = client_for(app).get("/private", headers=HTML)
    assert response.headers["location"] == "/auth/sign-in?to=%2Fprivate"

    bare = Kettle(__name__)
    LoginManager(bare)

    @bare.get("/private")
    @login_required
    async def private_bare() -> str:
        return "secret"

    assert client_for(bare).get("/private", headers=HTML).status_code == 401


def test_app_wide_guard_as_a_dependency() -> None:
    app = Kettle(__name__, dependencies=[Depends(LoginRequired())])
    app.config["SECRET_KEY"] = SECRET
    LoginManager(app).user_loader(USERS.get)

    @app.get("/anything")
    async def anything() -> str:
        return "ok"

    assert client_for(app).get("/anything").status_code == 401


def _remember_cookie(
    value: str, key: str = SECRET, age: float = 0, salt: str = REMEMBER_SALT
) -> str:
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    return URLSafeTimedSerializer(key, salt=salt, signer=Past).dumps(value)


def test_remember_me_restores_the_login_after_the_session_ends(client: TestClient) -> None:
    login(client, remember=True)
    response = client.get("/whoami")
    assert response.json()["fresh"] is True
    cookie = client.cookies["remember_token"]
    # The session ends (the browser closed); only the remember-me cookie is left.
    client.cookies.clear()
    client.cookies.set("remember_token", cookie, domain="testserver.local")
    response = client.get("/whoami")
    assert response.json() == {"id": "ada", "authenticated": True, "fresh": False, "cart": None}
    assert "session=" in response.headers["set-cookie"]  # a new session was opened
    assert client.get("/fresh", headers=HTML).status_code == 302  # restored is not fresh
    assert client.get("/sync/1").json()["user"] == "ada"
    # Logging out deletes it from the browser.
    deleted = client.post("/logout").headers.get_list("set-cookie")
    assert any(c.startswith("remember_token=") and "Max-Age=0" in c for c in deleted)
    assert client.get("/whoami").json()["authenticated"] is False


def test_remember_cookie_attributes() -> None:
    app = make_app()
    app.config["REMEMBER_COOKIE_DURATION"] = 3600
    response = client_for(app, base_url="https://testserver").post(
        "/login", params={"name": "ada", "remember": "true"}
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if "remember_token" in c)
    for attribute in ("HttpOnly", "SameSite=Lax", "Secure", "Max-Age=3600", "Path=/"):
        assert attribute in cookie
    plain = client_for(app).post("/login", params={"name": "ada", "remember": "true"})
    cookie = next(c for c in plain.headers.get_list("set-cookie") if "remember_token" in c)
    assert "Secure" not in cookie


def test_login_without_remember_clears_an_old_remember_cookie(client: TestClient) -> None:
    login(client, remember=True)
    assert "remember_token" in client.cookies
    login(client, remember=False)
    assert "remember_token" not in client.cookies


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(lambda: _remember_cookie("ada") + "x", id="tampered"),
        pytest.param(lambda: _remember_cookie("ada")[:-10], id="truncated"),
        pytest.param(lambda: _remember_cookie("ada", age=31 * 86400), id="expired"),
        pytest.param(lambda: _remember_cookie("ada", key="another key"), id="other-key"),
        pytest.param(lambda: _remember_cookie("ada", salt="cookie-session"), id="other-salt"),
        pytest.param(lambda: "a" * 5000, id="oversized"),
        pytest.param(lambda: "ünï©ode", id="non-ascii"),
        pytest.param(lambda: URLSafeTimedSerializer(SECRET, salt=REMEMBER_SALT).dumps(7), id="int"),
        pytest.param(lambda: _remember_cookie("mallory"), id="unknown-user"),
        pytest.param(lambda: _remember_cookie("eve"), id="inactive-user"),
    ],
)
def test_bad_remember_cookies_are_ignored_and_deleted(
    client: TestClient, cookie: Callable[[], str]
) -> None:
    # Raw bytes: the cookie may hold what an HTTP client would refuse to send.
    header = [(b"cookie", b"remember_token=" + cookie().encode())]
    response = client.get("/whoami", headers=header)
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert any(
        "remember_token=" in c and "Max-Age=0" in c for c in response.headers.get_list("set-cookie")
    )
    page = [*header, (b"accept", HTML["Accept"].encode())]
    assert client.get("/sync/1", headers=page).status_code == 302


def test_a_session_cookie_cannot_stand_in_for_a_remember_cookie(client: TestClient) -> None:
    login(client)
    client.cookies.set("remember_token", client.cookies["session"])
    client.cookies.delete("session")
    assert client.get("/whoami").json()["authenticated"] is False


def test_rotated_secret_key_keeps_remember_cookies_valid() -> None:
    app = make_app()
    app.config["SECRET_KEY"] = "the new key"
    app.config["SECRET_KEY_FALLBACKS"] = [SECRET]
    client = client_for(app)
    client.cookies.set("remember_token", _remember_cookie("ada"))
    assert client.get("/whoami").json()["id"] == "ada"


def test_a_user_loader_returning_none_logs_out(client: TestClient) -> None:
    USERS["temp"] = User("temp")
    try:
        login(client, "temp")
        assert client.get("/whoami").json()["id"] == "temp"
    finally:
        del USERS["temp"]
    assert client.get("/whoami").json()["authenticated"] is False
    assert client.get("/sync/1", headers=HTML).status_code == 302


def test_a_user_loader_that_raises_is_anonymous_not_a_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = client_for(make_app())
    login(good)
    client = client_for(make_app("raises"), raise_server_exceptions=False)
    client.cookies.set("session", good.cookies["session"])
    with caplog.at_level(logging.ERROR, logger="kettle.login"):
        assert client.get("/whoami").json()["authenticated"] is False
        assert client.get("/sync/1").status_code == 401
    assert "database is down" not in client.get("/sync/1").text
    assert any("user loader raised" in record.message for record in caplog.records)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "///evil.com",
        "https://evil.com",
        "http:evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "/ /evil.com",
        " /evil",
        "javascript:alert(1)",
        "evil.com",
        "/\x00",
        "/é",
        "/" + "a" * 3000,
        "",
    ],
)
def test_unsafe_next_targets_fall_back(target: str) -> None:
    assert safe_next_url(target) == "/"
    assert safe_next_url(target, default="/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/posts/1", "/a?b=//c&d=https://e", "/%2F%2Fevil.com"])
def test_safe_next_targets_pass(target: str) -> None:
    assert safe_next_url(target) == target


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/sync/9", "/sync/9"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("/\\evil.com", "/"),
    ],
)
def test_login_redirects_only_to_local_next(
    client: TestClient, next_value: str, location: str
) -> None:
    response = client.post("/login", params={"name": "ada", "next": next_value})
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("url", "next_value"),
    [
        ("http://testserver//evil.com/x", "%2F"),
        ("http://testserver/%2F%2Fevil.com", "%2F"),
        # Kept percent-encoded: "/%5C" is a path on this site, not a backslash.
        ("http://testserver/%5Cevil.com", "%2F%255Cevil.com"),
        ("http://testserver/a/b?c=d", "%2Fa%2Fb%3Fc%3Dd"),
    ],
)
def test_the_next_we_send_is_always_local(url: str, next_value: str) -> None:
    app = Kettle(__name__)
    LoginManager(app, login_view="/login")

    @app.get("/{rest:path}")
    @login_required
    async def anything(rest: str) -> str:
        return rest

    response = client_for(app).get(url, headers=HTML)
    assert response.headers["location"] == f"/login?next={next_value}"


def test_wants_json_without_a_request_header_reads_the_given_connection() -> None:
    class Conn:
        def __init__(self, accept: str) -> None:
            self.headers = {"accept": accept}

    assert wants_json(Conn("text/html")) is False
    assert wants_json(Conn("text/html;q=bogus")) is True


@pytest.mark.parametrize(
    "options", [{"login_view": ""}, {"login_view": " /login"}, {"next_param": "a b"}]
)
def test_manager_options_are_checked_at_startup(options: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        LoginManager(**options)  # type: ignore[arg-type]


def test_an_absolute_login_view_is_used_as_given() -> None:
    app = Kettle(__name__)
    LoginManager(app, login_view="https://sso.example.com/login")

    @app.get("/private")
    @login_required
    async def private() -> str:
        return "secret"

    location = client_for(app).get("/private", headers=HTML).headers["location"]
    assert location == "https://sso.example.com/login?next=%2Fprivate"


def test_one_manager_per_app() -> None:
    app = Kettle(__name__)
    LoginManager(app)
    with pytest.raises(ConfigurationError, match="already has"):
        LoginManager(app)


def test_responses_that_read_the_user_vary_on_cookie(client: TestClient) -> None:
    assert "Cookie" in client.get("/whoami").headers["vary"]
    login(client)
    assert "Cookie" in client.get("/sync/1").headers["vary"]


def _socket_app(loader: str) -> Kettle:
    app = make_app(loader)
    guarded = Router(prefix="/live", dependencies=[Depends(LoginRequired())])

    @guarded.websocket("/feed")
    async def feed(socket: WebSocket, user: Any = Depends(LoginRequired())) -> None:
        await socket.accept()
        await socket.send_text(f"hello {user.get_id()}")
        await socket.close()

    @guarded.websocket("/fresh", dependencies=[Depends(LoginRequired(fresh=True))])
    async def fresh_feed(socket: WebSocket) -> None:
        await socket.accept()
        await socket.close()

    app.include_router(guarded)
    return app


def _refused(client: TestClient, path: str) -> None:
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(path):
        pass  # pragma: no cover - the handshake never completes
    assert refused.value.code == 1008  # refused before accept, not a 1011 crash


@pytest.mark.parametrize("loader", ["sync", "async"])
def test_websockets_behind_login(loader: str) -> None:
    client = client_for(_socket_app(loader))
    _refused(client, "/live/feed")
    login(client)
    with client.websocket_connect("/live/feed") as socket:
        assert socket.receive_text() == "hello ada"
    with client.websocket_connect("/live/fresh") as socket:
        pass
    # Only the remember-me cookie: the login is restored, but not fresh.
    login(client, remember=True)
    remember = client.cookies["remember_token"]
    client.cookies.clear()
    client.cookies.set("remember_token", remember, domain="testserver.local")
    with client.websocket_connect("/live/feed") as socket:
        assert socket.receive_text() == "hello ada"
    _refused(client, "/live/fresh")
    client.cookies.set("remember_token", remember + "x", domain="testserver.local")
    _refused(client, "/live/feed")


def test_websocket_with_a_failing_loader_is_refused_not_crashed() -> None:
    good = client_for(make_app())
    login(good)
    client = client_for(_socket_app("raises"))
    client.cookies.set("session", good.cookies["session"])
    _refused(client, "/live/feed")
