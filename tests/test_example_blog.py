"""The blog example (examples/blog/): a Flask-style app, tested through the test client.

The tests use the example like a browser does: every form is fetched first and posted
with the CSRF token it rendered, and requests say they accept HTML (so ``login_required``
redirects to the login page instead of answering a 401 as it does for API clients).
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import re
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import anyio
import anyio.from_thread
import click
import pytest
from click.testing import CliRunner

from kettle import Kettle, g, request
from kettle.security.passwords import PasswordHasher
from kettle.testing import AsyncTestClient, TestClient

BLOG_DIR = Path(__file__).resolve().parent.parent / "examples" / "blog"
PACKAGE = "kettle_example_blog"
#: What a browser sends when it navigates to a page.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def _import_blog() -> ModuleType:
    """The example's ``app`` module, imported under a name no other test uses."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, BLOG_DIR / "__init__.py", submodule_search_locations=[str(BLOG_DIR)]
        )
        assert spec is not None
        assert spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.app")


blog_app = _import_blog()
blog_auth = importlib.import_module(f"{PACKAGE}.auth")


def _config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE": tmp_path / "blog.sqlite",
        "SECRET_KEY": "test",
        # argon2 with cheap parameters (about a millisecond a hash), for tests only.
        "PASSWORD_HASHER": PasswordHasher.for_tests(),
        **extra,
    }


@pytest.fixture
def app(tmp_path: Path) -> Kettle:
    app: Kettle = blog_app.create_app(_config(tmp_path))
    result = CliRunner().invoke(app.cli, ["init-db"])
    assert result.exit_code == 0, result.output
    return app


def browser(app: Kettle, **options: Any) -> TestClient:
    """A test client that behaves like a browser: it asks for HTML and, like Flask's
    client, does not follow redirects (kettle's does by default)."""
    headers = {"Accept": BROWSER_ACCEPT, **options.pop("headers", {})}
    return app.test_client(follow_redirects=False, headers=headers, **options)


@pytest.fixture
def client(app: Kettle) -> TestClient:
    return browser(app)


def rows(app: Kettle, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the app's database directly."""
    with sqlite3.connect(app.config["DATABASE"]) as db:
        result = db.execute(sql, args).fetchall()
    db.close()
    return result


def everything(app: Kettle) -> list[list[tuple[Any, ...]]]:
    """Every row of both tables: to show that a refused request changed nothing."""
    return [rows(app, "SELECT * FROM users"), rows(app, "SELECT * FROM posts")]


def csrf_token_in(html: str) -> str:
    """The CSRF token a page rendered (the first form's)."""
    match = CSRF_FIELD.search(html)
    assert match is not None, "the page has no csrf_token field"
    return match.group(1)


def submit(client: TestClient, page: str, data: dict[str, str], action: str | None = None) -> Any:
    """Open ``page`` and post its form (to ``action``, else back to ``page``) with ``data``
    and the CSRF token the page rendered, as a browser does."""
    token = csrf_token_in(client.get(page).text)
    return client.post(action or page, data={"csrf_token": token, **data})


def register(client: TestClient, username: str = "ada", password: str = "lovelace") -> Any:
    return submit(client, "/auth/register", {"username": username, "password": password})


def login(
    client: TestClient,
    username: str = "ada",
    password: str = "lovelace",
    query: str = "",
    remember: bool = False,
) -> Any:
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "on"
    return submit(client, "/auth/login" + query, data)


def logout(client: TestClient) -> Any:
    """The nav's "Log out" button (a form on every page when logged in)."""
    return submit(client, "/", {}, action="/auth/logout")


def sign_up_and_log_in(client: TestClient, username: str = "ada") -> None:
    assert register(client, username).status_code == 302
    assert login(client, username).status_code == 302


def create_post(client: TestClient, title: str = "First", body: str = "Hello.") -> Any:
    return submit(client, "/create", {"title": title, "body": body})


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="status">(.*?)</p>', html)


def is_logged_in(client: TestClient) -> bool:
    return "Log out" in client.get("/").text


def set_cookies(response: Any) -> dict[str, str]:
    """The ``Set-Cookie`` headers of ``response`` by cookie name (a login sets two)."""
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


# -- the command line ----------------------------------------------------------------------


def test_init_db_command_creates_the_tables(tmp_path: Path) -> None:
    app = blog_app.create_app(_config(tmp_path))
    result = CliRunner().invoke(app.cli, ["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    tables = {name for (name,) in rows(app, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "posts"} <= tables
    # Run again on a database with data: it starts over.
    client = browser(app)
    register(client)
    assert rows(app, "SELECT count(*) FROM users") == [(1,)]
    assert CliRunner().invoke(app.cli, ["init-db"]).exit_code == 0
    assert rows(app, "SELECT count(*) FROM users") == [(0,)]


@pytest.fixture
def kettle_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[click.Group]:
    """``kettle`` itself; the example it imports (as ``blog.app``) is forgotten afterwards."""
    from kettle.cli import cli

    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield cli
    for name in set(sys.modules) - before:
        if name == "blog" or name.startswith("blog."):
            del sys.modules[name]


def test_kettle_app_init_db_from_the_command_line(kettle_cli: click.Group, tmp_path: Path) -> None:
    database = tmp_path / "from-env.sqlite"
    env = {"KETTLE_DATABASE": str(database), "KETTLE_SECRET_KEY": "from-the-environment"}
    result = CliRunner(env=env).invoke(
        kettle_cli, ["--app", f"{BLOG_DIR / 'app.py'}:app", "init-db"]
    )
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert {"users", "posts"} <= tables
    # from_prefixed_env() read KETTLE_SECRET_KEY and KETTLE_DATABASE.
    loaded = sys.modules["blog.app"].app
    assert loaded.config["SECRET_KEY"] == "from-the-environment"
    assert loaded.config["DATABASE"] == str(database)


def test_kettle_app_help_lists_the_app_commands(kettle_cli: click.Group) -> None:
    result = CliRunner().invoke(kettle_cli, ["--app", f"{BLOG_DIR / 'app.py'}:app", "--help"])
    assert result.exit_code == 0, result.output
    assert "init-db" in result.output


# -- configuration -------------------------------------------------------------------------


def test_secret_key_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KETTLE_SECRET_KEY", "s3cret")
    monkeypatch.setenv("KETTLE_DATABASE", str(tmp_path / "env.sqlite"))
    app = blog_app.create_app()
    assert app.config["SECRET_KEY"] == "s3cret"
    assert app.config["DATABASE"] == str(tmp_path / "env.sqlite")


def test_without_a_secret_key_the_development_key_is_used_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("KETTLE_SECRET_KEY", raising=False)
    monkeypatch.delenv("KETTLE_DATABASE", raising=False)
    app = blog_app.create_app()
    assert app.config["SECRET_KEY"] == blog_app.DEV_SECRET_KEY
    assert "development key" in caplog.text
    # The default database is in instance/ beside the app (created on first use only).
    assert Path(app.config["DATABASE"]) == BLOG_DIR / "instance" / "blog.sqlite"


# -- passwords -------------------------------------------------------------------------------


def test_the_default_hasher_is_argon2id_with_kettles_parameters(tmp_path: Path) -> None:
    # The one full-cost hash of this file (tens of milliseconds and 64 MiB).
    app = blog_app.create_app({"DATABASE": tmp_path / "blog.sqlite", "SECRET_KEY": "test"})
    hasher = app.config["PASSWORD_HASHER"]
    assert isinstance(hasher, PasswordHasher)
    assert hasher.hash("pw").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_passwords_are_stored_as_salted_argon2id_hashes(app: Kettle, client: TestClient) -> None:
    register(client, "ada", "same password")
    register(client, "bob", "same password")
    hashes = [h for (h,) in rows(app, "SELECT password_hash FROM users ORDER BY id")]
    assert len(hashes) == 2
    for stored in hashes:
        assert stored.startswith("$argon2id$")
        assert "same password" not in stored
    assert hashes[0] != hashes[1]  # a random salt each time


class RecordingHasher(PasswordHasher):
    """The tests' cheap hasher, noting the stored hash each verification was given."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked: list[str | None] = []

    def verify(self, password: str, hashed: str | None) -> bool:
        self.checked.append(hashed)
        return super().verify(password, hashed)


def test_a_wrong_password_and_an_unknown_user_look_the_same(
    app: Kettle, client: TestClient
) -> None:
    register(client)
    client.get("/auth/login")  # consumes "your account is ready"
    hasher = app.config["PASSWORD_HASHER"] = RecordingHasher()
    wrong_password = login(client, "ada", "wrong")
    unknown_user = login(client, "nobody", "lovelace")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert flashes(response.text) == ["Incorrect username or password."]
    # Both paid for an argon2 check: the unknown user against the hasher's dummy hash.
    [stored] = [h for (h,) in rows(app, "SELECT password_hash FROM users")]
    assert hasher.checked == [stored, None]
    assert not is_logged_in(client)


def test_login_upgrades_a_hash_made_with_older_parameters(app: Kettle, client: TestClient) -> None:
    app.config["PASSWORD_HASHER"] = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    register(client)
    [(old,)] = rows(app, "SELECT password_hash FROM users")
    assert "$m=8,t=1,p=1$" in old
    app.config["PASSWORD_HASHER"] = PasswordHasher.for_tests()  # stronger parameters
    assert login(client, "ada", "wrong").status_code == 200
    assert rows(app, "SELECT password_hash FROM users") == [(old,)]  # no rehash on failure
    assert login(client).status_code == 302
    [(new,)] = rows(app, "SELECT password_hash FROM users")
    assert new.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    logout(client)
    assert login(client).status_code == 302  # the new hash verifies
    assert rows(app, "SELECT password_hash FROM users") == [(new,)]  # and is kept


def test_an_oversized_password_is_refused_unhashed(app: Kettle, client: TestClient) -> None:
    response = register(client, "ada", "x" * 1025)
    assert flashes(response.text) == ["Passwords have at most 1024 characters."]
    assert rows(app, "SELECT count(*) FROM users") == [(0,)]
    register(client)
    assert flashes(login(client, "ada", "x" * 1025).text) == ["Incorrect username or password."]


# -- registration ------------------------------------------------------------------------------


def test_register_page(client: TestClient) -> None:
    response = client.get("/auth/register")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<form method="post"' in response.text


def test_register_redirects_to_login_and_stores_a_hash(app: Kettle, client: TestClient) -> None:
    response = register(client, "ada", "lovelace")
    assert response.status_code == 302
    assert response.headers["location"] == "/auth/login"
    [(username, password_hash)] = rows(app, "SELECT username, password_hash FROM users")
    assert username == "ada"
    assert password_hash.startswith("$argon2id$")
    assert "lovelace" not in password_hash
    # The success message waits for the next page.
    assert flashes(client.get("/auth/login").text) == ["Your account is ready: please log in."]


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "pw", "Username is required."),
        ("   ", "pw", "Username is required."),
        ("ada", "", "Password is required."),
        ("x" * 41, "pw", "Usernames have at most 40 characters."),
    ],
)
def test_register_validates(
    app: Kettle, client: TestClient, username: str, password: str, message: str
) -> None:
    response = register(client, username, password)
    assert response.status_code == 200
    assert flashes(response.text) == [message]
    assert rows(app, "SELECT count(*) FROM users") == [(0,)]


def test_register_refuses_a_taken_username(client: TestClient) -> None:
    register(client, "ada")
    client.get("/auth/login")  # shows (and so consumes) "your account is ready"
    response = register(client, "ADA")  # usernames are case-insensitive
    assert response.status_code == 200
    assert flashes(response.text) == ["The username ADA is already taken."]
    # The form keeps what was typed.
    assert 'value="ADA"' in response.text


def test_register_with_a_missing_field_is_a_400(client: TestClient) -> None:
    # request.form["password"] without that field: Flask's BadRequestKeyError, a 400.
    response = submit(client, "/auth/register", {"username": "ada"})
    assert response.status_code == 400
    assert "password" not in response.text  # the answer does not name the missing key
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# -- login and logout ------------------------------------------------------------------------


def test_login_page(client: TestClient) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert "Log in" in response.text
    assert '<input type="checkbox" name="remember">' in response.text


@pytest.mark.parametrize(
    ("username", "password"), [("nobody", "lovelace"), ("ada", "wrong"), ("ada", "")]
)
def test_login_refuses_bad_credentials(client: TestClient, username: str, password: str) -> None:
    register(client)
    client.get("/auth/login")
    response = login(client, username, password)
    assert response.status_code == 200
    assert flashes(response.text) == ["Incorrect username or password."]
    assert not is_logged_in(client)


def test_login_sets_a_safe_session_cookie_and_redirects(client: TestClient) -> None:
    register(client)
    response = login(client)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    cookie = set_cookies(response)["session"]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http here; see the https test
    page = client.get("/")
    assert "Signed in as <strong>ada</strong>" in page.text


def test_session_cookie_is_secure_over_https(app: Kettle) -> None:
    client = browser(app, base_url="https://testserver")
    register(client)
    cookies = set_cookies(login(client, remember=True))
    for name in ("session", "remember_token"):
        assert "secure" in {part.strip().lower() for part in cookies[name].split(";")}, name


def test_pages_that_read_the_session_vary_on_cookie(client: TestClient) -> None:
    for path in ("/", "/auth/login", "/auth/register"):
        response = client.get(path)
        assert "cookie" in response.headers["vary"].lower(), path
    sign_up_and_log_in(client)
    assert "cookie" in client.get("/").headers["vary"].lower()


def test_login_rotates_the_session(app: Kettle, client: TestClient) -> None:
    register(client)
    form = client.get("/auth/login").text
    before = _session_cookie(client)  # the anonymous session: flashes, the CSRF secret
    response = client.post(
        "/auth/login",
        data={"csrf_token": csrf_token_in(form), "username": "ada", "password": "lovelace"},
    )
    assert response.status_code == 302
    after = _session_cookie(client)
    assert after != before
    # Nothing of the anonymous session survives: not even its CSRF secret, so a form
    # rendered before the login is refused after it.
    stale = client.post("/create", data={"csrf_token": csrf_token_in(form), "title": "t"})
    assert stale.status_code == 403
    assert "CSRF token does not belong to this session" in stale.text
    assert rows(app, "SELECT count(*) FROM posts") == [(0,)]


def test_a_planted_session_never_becomes_logged_in(app: Kettle, client: TestClient) -> None:
    # Session fixation: an attacker gets an anonymous session of their own and plants
    # its cookie in the victim's browser, hoping the victim logs in with it.
    register(client)
    attacker = browser(app)
    attacker.get("/auth/login")
    planted = _session_cookie(attacker)
    victim = browser(app)
    for cookie in attacker.cookies.jar:
        victim.cookies.jar.set_cookie(cookie)
    assert _session_cookie(victim) == planted
    assert login(victim).status_code == 302
    assert _session_cookie(victim) != planted
    assert is_logged_in(victim)
    assert not is_logged_in(attacker)


def test_login_goes_back_to_the_page_that_asked(client: TestClient) -> None:
    register(client)
    to_login = client.get("/create")
    assert to_login.status_code == 302
    assert to_login.headers["location"] == "/auth/login?next=%2Fcreate"
    page = client.get(to_login.headers["location"])
    # The form posts to the same URL, so `next` survives.
    assert 'action="/auth/login?next=%2Fcreate"' in page.text
    assert login(client, query="?next=%2Fcreate").headers["location"] == "/create"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:x",
    ],
)
def test_login_does_not_redirect_off_site(client: TestClient, target: str) -> None:
    register(client)
    response = login(client, query="?" + urlencode({"next": target}))
    assert response.status_code == 302
    assert response.headers["location"] == "/"


def test_logout_clears_the_session(client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = logout(client)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    # The emptied session deletes the cookie, and the remember-me cookie goes too.
    cookies = set_cookies(response)
    assert cookies["session"].startswith("session=;")
    assert "max-age=0" in cookies["session"].lower()
    assert "max-age=0" in cookies["remember_token"].lower()
    assert "session" not in client.cookies
    assert not is_logged_in(client)


def test_logout_is_post_only(client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert response.headers["allow"] == "OPTIONS, POST"
    assert is_logged_in(client)


def test_remember_me_outlives_the_session(client: TestClient) -> None:
    register(client)
    assert "remember_token" not in client.cookies
    login(client, remember=True)
    assert client.cookies.get("remember_token")
    del client.cookies["session"]  # the browser was closed
    page = client.get("/")
    assert "Signed in as <strong>ada</strong>" in page.text
    assert client.cookies.get("session")  # a new session for the restored login
    logout(client)
    assert "remember_token" not in client.cookies
    assert not is_logged_in(client)


def test_without_remember_me_closing_the_browser_logs_out(client: TestClient) -> None:
    register(client)
    login(client)
    assert "remember_token" not in client.cookies
    del client.cookies["session"]
    assert not is_logged_in(client)


def test_a_deleted_account_is_logged_out(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    with sqlite3.connect(app.config["DATABASE"]) as db:
        db.execute("DELETE FROM users")
    db.close()
    assert not is_logged_in(client)
    assert client.get("/create").headers["location"].startswith("/auth/login")


def _session_cookie(client: TestClient) -> str:
    value = client.cookies.get("session")
    assert value
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("part", ["payload", "signature"])
def test_a_tampered_session_cookie_is_ignored(app: Kettle, client: TestClient, part: str) -> None:
    sign_up_and_log_in(client, "ada")
    logout(client)
    sign_up_and_log_in(client, "bob")  # user 2; try to become user 1
    payload, timestamp, signature = _session_cookie(client).split(".")
    if part == "payload":
        payload = _b64(b'{"_user_id":"1","_fresh":true}')  # with bob's signature
    else:
        signature = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged = f"{payload}.{timestamp}.{signature}"
    stranger = browser(app, headers={"Cookie": f"session={forged}"})
    page = stranger.get("/")
    assert page.status_code == 200
    assert "Log in" in page.text
    assert "Signed in" not in page.text
    assert stranger.get("/create").headers["location"].startswith("/auth/login")


def test_a_session_signed_with_the_development_key_is_refused(app: Kettle, tmp_path: Path) -> None:
    other = blog_app.create_app(_config(tmp_path, SECRET_KEY=blog_app.DEV_SECRET_KEY))
    serializer = other.session_interface.get_signing_serializer(other)
    forged = serializer.dumps({"_user_id": "1", "_fresh": True})
    client = browser(app)
    sign_up_and_log_in(client)
    stranger = browser(app, headers={"Cookie": f"session={forged}"})
    assert "Signed in" not in stranger.get("/").text


# -- CSRF ------------------------------------------------------------------------------------


def _forms(client: TestClient, page: str) -> list[str]:
    return re.findall(r"<form\b[^>]*>.*?</form>", client.get(page).text, re.DOTALL)


def test_every_form_starts_with_its_csrf_token(client: TestClient) -> None:
    pages = {"/auth/register": 1, "/auth/login": 1}
    for page, count in pages.items():
        forms = _forms(client, page)
        assert len(forms) == count, page
    sign_up_and_log_in(client)
    create_post(client)
    pages = {"/": 1, "/create": 2, "/1/update": 3}  # the nav's logout form on each
    seen = []
    for page, count in pages.items():
        forms = _forms(client, page)
        assert len(forms) == count, page
        seen += forms
    for form in seen:
        first_field = re.search(r"<(input|textarea|button)\b[^>]*>", form.split(">", 1)[1])
        assert first_field is not None
        assert 'name="csrf_token"' in first_field.group(0), form


# Each form, how to reach it, and what it posts (without its token).
FORMS = {
    "register": ("/auth/register", None, {"username": "eve", "password": "pw"}),
    "login": ("/auth/login", None, {"username": "ada", "password": "lovelace"}),
    "logout": ("/", "/auth/logout", {}),
    "create": ("/create", None, {"title": "Forged", "body": "x"}),
    "update": ("/1/update", None, {"title": "Forged", "body": "x"}),
    "delete": ("/1/update", "/1/delete", {}),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("token", ["missing", "another session's", "garbage"])
def test_a_form_post_without_its_token_changes_nothing(
    app: Kettle, client: TestClient, form: str, token: str
) -> None:
    page, action, data = FORMS[form]
    sign_up_and_log_in(client)
    create_post(client, "Keep me")
    if form in ("register", "login"):
        logout(client)
    client.get(page)  # the form is open: its session (and CSRF secret) exists
    assert client.cookies.get("session")
    before = everything(app)
    logged_in = is_logged_in(client)
    if token == "missing":
        forged = data
    elif token == "garbage":
        forged = {"csrf_token": "not-a-token", **data}
    else:
        stranger = browser(app)
        forged = {"csrf_token": csrf_token_in(stranger.get("/auth/login").text), **data}
    response = client.post(action or page, data=forged)
    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    detail = {
        "missing": "CSRF token missing.",
        "garbage": "CSRF token invalid.",
        "another session's": "CSRF token does not belong to this session.",
    }[token]
    assert detail in response.text
    assert "reload the page" in response.text
    assert everything(app) == before
    assert is_logged_in(client) == logged_in


def test_a_token_from_another_session_is_refused(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client, "ada")
    other = browser(app)
    sign_up_and_log_in(other, "bob")
    bobs_token = csrf_token_in(other.get("/create").text)
    client.get("/")  # ada's session has a CSRF secret of its own
    response = client.post("/create", data={"csrf_token": bobs_token, "title": "t", "body": "b"})
    assert response.status_code == 403
    assert "CSRF token does not belong to this session." in response.text
    assert rows(app, "SELECT count(*) FROM posts") == [(0,)]
    # Each session's own token works.
    assert create_post(client).status_code == 302
    assert create_post(other).status_code == 302
    assert rows(app, "SELECT count(*) FROM posts") == [(2,)]


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register"])
def test_another_site_cannot_post_the_account_forms(app: Kettle, path: str) -> None:
    # Login CSRF: a page elsewhere posts the login form with the attacker's credentials.
    # The SameSite=Lax session cookie is not sent with it; CSRFMiddleware still checks
    # where a cookieless form comes from.
    register(browser(app), "mallory", "pw")
    before = everything(app)
    victim = browser(app)
    response = victim.post(
        path,
        data={"username": "mallory", "password": "pw"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert "session" not in victim.cookies
    assert everything(app) == before
    assert not is_logged_in(victim)


def test_a_post_from_another_site_is_refused_even_with_a_token(
    app: Kettle, client: TestClient
) -> None:
    sign_up_and_log_in(client)
    token = csrf_token_in(client.get("/create").text)
    response = client.post(
        "/create",
        data={"csrf_token": token, "title": "t", "body": "b"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert rows(app, "SELECT count(*) FROM posts") == [(0,)]


# -- posts -----------------------------------------------------------------------------------


def test_index_lists_posts_newest_first(client: TestClient) -> None:
    assert "No posts yet." in client.get("/").text
    sign_up_and_log_in(client)
    for title in ("one", "two", "three"):
        assert create_post(client, title).status_code == 302
    logout(client)
    page = client.get("/").text
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == ["three", "two", "one"]
    assert "by ada on" in page
    assert "Edit" not in page  # not logged in
    assert 'href="/auth/login"' in page


def test_posts_as_json_with_flask_response_names(client: TestClient) -> None:
    sign_up_and_log_in(client)
    create_post(client, "Hello", "World")
    response = client.get("/posts.json")
    assert response.status_code == 200
    # Flask's test-response spellings work next to httpx's.
    assert response.status == "200 OK"
    assert response.data == response.content
    assert response.get_json() == response.json()
    [post] = response.get_json()
    assert (post["title"], post["body"], post["username"]) == ("Hello", "World", "ada")
    html = client.get("/")
    assert html.data.startswith(b"<!doctype html>")
    assert html.get_json(silent=True) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/create"),
        ("POST", "/create"),
        ("GET", "/1/update"),
        ("POST", "/1/update"),
        ("POST", "/1/delete"),
    ],
)
def test_changing_posts_needs_a_login(
    app: Kettle, client: TestClient, method: str, path: str
) -> None:
    sign_up_and_log_in(client)
    create_post(client, "Keep me")
    logout(client)
    # The login form opens a session, so the post carries a valid CSRF token: only the
    # login is missing.
    token = csrf_token_in(client.get("/auth/login").text)
    data = {"csrf_token": token, "title": "Hacked", "body": "x"} if method == "POST" else None
    response = client.request(method, path, data=data)
    # 302 for a GET; a POST gets a 303, so the browser fetches the login page with GET.
    assert response.status_code == (302 if method == "GET" else 303)
    assert response.headers["location"].startswith("/auth/login?next=")
    assert rows(app, "SELECT title FROM posts") == [("Keep me",)]


def test_an_api_client_gets_a_401_not_the_login_page(app: Kettle) -> None:
    response = app.test_client(follow_redirects=False).get("/create")  # Accept: */*
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_create_a_post(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    assert client.get("/create").status_code == 200
    response = create_post(client, "  Hello  ", "Body text")
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    assert rows(app, "SELECT title, body, author_id FROM posts") == [("Hello", "Body text", 1)]


def test_create_needs_a_title_and_keeps_the_body(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = create_post(client, "", "Unsaved words")
    assert response.status_code == 200
    assert flashes(response.text) == ["Title is required."]
    assert "Unsaved words</textarea>" in response.text
    assert rows(app, "SELECT count(*) FROM posts") == [(0,)]


def test_update_a_post(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    create_post(client, "Old", "Old body")
    page = client.get("/1/update")
    assert page.status_code == 200
    assert 'value="Old"' in page.text
    response = submit(client, "/1/update", {"title": "New", "body": "New body"})
    assert response.status_code == 302
    assert rows(app, "SELECT title, body FROM posts") == [("New", "New body")]
    assert flashes(client.get("/").text) == ["Your post is updated."]
    invalid = submit(client, "/1/update", {"title": "", "body": "Draft"})
    assert flashes(invalid.text) == ["Title is required."]
    assert "Draft</textarea>" in invalid.text
    assert rows(app, "SELECT title FROM posts") == [("New",)]


def test_delete_a_post(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    create_post(client)
    response = submit(client, "/1/update", {}, action="/1/delete")
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    assert rows(app, "SELECT count(*) FROM posts") == [(0,)]
    assert client.get("/1/update").status_code == 404
    assert client.get("/1/delete").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/1/update"), ("POST", "/1/update"), ("POST", "/1/delete")]
)
def test_only_the_author_changes_a_post(
    app: Kettle, client: TestClient, method: str, path: str
) -> None:
    sign_up_and_log_in(client, "ada")
    create_post(client, "Ada's")
    logout(client)
    sign_up_and_log_in(client, "bob")
    assert "Edit" not in client.get("/").text
    token = csrf_token_in(client.get("/create").text)  # bob's own, valid token
    data = {"csrf_token": token, "title": "Bob's now", "body": "x"} if method == "POST" else None
    response = client.request(method, path, data=data)
    assert response.status_code == 403
    assert "Only its author can change a post." in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert rows(app, "SELECT title FROM posts") == [("Ada's",)]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/9/update"), ("POST", "/9/update"), ("POST", "/9/delete")]
)
def test_a_missing_post_is_a_404(client: TestClient, method: str, path: str) -> None:
    sign_up_and_log_in(client)
    token = csrf_token_in(client.get("/create").text)
    data = {"csrf_token": token, "title": "t", "body": "b"} if method == "POST" else None
    response = client.request(method, path, data=data)
    assert response.status_code == 404
    assert "There is no post 9." in response.text
    # The error page uses the layout and still knows who is logged in.
    assert "Signed in as <strong>ada</strong>" in response.text


def test_flashed_messages_appear_once(client: TestClient) -> None:
    sign_up_and_log_in(client)
    create_post(client)
    assert flashes(client.get("/").text) == ["Your post is published."]
    assert flashes(client.get("/").text) == []


def test_html_is_escaped(client: TestClient) -> None:
    sign_up_and_log_in(client, "<b>ada</b>")
    create_post(client, "<script>alert(1)</script>", "<img src=x onerror=alert(2)>")
    page = client.get("/").text
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;b&gt;ada&lt;/b&gt;" in page
    taken = register(client, "<b>ada</b>")
    assert flashes(taken.text) == ["The username &lt;b&gt;ada&lt;/b&gt; is already taken."]


def test_each_request_closes_its_database_connection(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", recording_connect)
    assert client.get("/auth/register").status_code == 200
    assert opened == []  # nobody logged in: the page needs no database
    assert register(client).status_code == 302
    assert login(client).status_code == 302
    assert len(opened) == 2  # the two posts
    assert client.get("/").status_code == 200
    assert client.get("/9/update").status_code == 404  # closed after an error too
    assert len(opened) == 4
    # The user is loaded only when something uses current_user: not for a stylesheet.
    assert client.get("/static/style.css").status_code == 200
    assert len(opened) == 4
    for connection in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")


# -- errors ------------------------------------------------------------------------------------


def test_an_unrouted_url_is_an_html_404(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>404</h1>" in response.text


def test_an_unrouted_url_gets_the_layout(client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert 'href="/static/style.css"' in response.text
    assert "Signed in as <strong>ada</strong>" in response.text


# -- static files --------------------------------------------------------------------------------


def test_static_css_with_etag_and_304(client: TestClient) -> None:
    page = client.get("/").text
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.content == (BLOG_DIR / "static" / "style.css").read_bytes()
    etag = response.headers["etag"]
    assert "last-modified" in response.headers
    again = client.get("/static/style.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    changed = client.get("/static/style.css", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2Fapp.py",
        "/static/%2e%2e/schema.sql",
        "/static/%2e%2e%2fschema.sql",
        "/static/..%5Cschema.sql",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/%2Fetc%2Fpasswd",
        "/static/",
        "/static/missing.css",
    ],
)
def test_static_never_leaves_its_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    for secret in ("create_app", "CREATE TABLE", "[project]", "root:"):
        assert secret not in response.text


# -- kettle behaviour a Flask developer relies on ------------------------------------------------


def test_request_form_is_empty_without_a_form_body() -> None:
    app = Kettle(__name__)

    @app.route("/")
    def page() -> str:
        return repr(request.form.get("title"))

    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.text == "None"


def test_one_request_keeps_one_thread() -> None:
    # Deterministic: anyio reuses the most recently idle worker thread, so /b's view takes
    # the thread /a's sync hook just released, and /a's view must start on another.
    app = Kettle(__name__)
    events: dict[str, anyio.Event] = {}
    a_in_view = threading.Event()

    @app.before_request
    def remember_thread() -> None:
        g.thread = threading.get_ident()  # where Flask's tutorial opens its sqlite3 connection

    @app.before_request
    async def let_b_in_first() -> None:
        if request.path == "/a":
            events["a_waiting"].set()
            with anyio.fail_after(5):
                await events["b_in_view"].wait()

    @app.route("/a")
    def a() -> str:
        a_in_view.set()
        return "same thread" if g.thread == threading.get_ident() else "moved"

    @app.route("/b")
    def b() -> str:
        anyio.from_thread.run_sync(events["b_in_view"].set)
        a_in_view.wait(5)  # keep this worker busy while /a's view starts
        return "b"

    async def main() -> dict[str, str]:
        events.update(a_waiting=anyio.Event(), b_in_view=anyio.Event())
        results: dict[str, str] = {}
        async with AsyncTestClient(app) as client:

            async def get(path: str) -> None:
                results[path] = (await client.get(path)).text

            async with anyio.create_task_group() as tg:
                tg.start_soon(get, "/a")
                with anyio.fail_after(5):
                    await events["a_waiting"].wait()
                tg.start_soon(get, "/b")
        return results

    results = anyio.run(main)
    assert results["/b"] == "b"
    assert results["/a"] == "same thread"
