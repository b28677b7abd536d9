"""The blog example (examples/blog/): a Flask-style app, tested through the test client."""

from __future__ import annotations

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

import anyio
import anyio.from_thread
import click
import pytest
from click.testing import CliRunner

from kettle import Kettle, g, request
from kettle.testing import AsyncTestClient, TestClient

BLOG_DIR = Path(__file__).resolve().parent.parent / "examples" / "blog"
PACKAGE = "kettle_example_blog"


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
        # scrypt's cheapest cost: the tests hash many passwords.
        "PASSWORD_SCRYPT_N": 2**4,
        **extra,
    }


@pytest.fixture
def app(tmp_path: Path) -> Kettle:
    app: Kettle = blog_app.create_app(_config(tmp_path))
    result = CliRunner().invoke(app.cli, ["init-db"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app: Kettle) -> TestClient:
    # Flask's test client does not follow redirects unless asked; kettle's does by default.
    return app.test_client(follow_redirects=False)


def rows(app: Kettle, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the app's database directly."""
    with sqlite3.connect(app.config["DATABASE"]) as db:
        result = db.execute(sql, args).fetchall()
    db.close()
    return result


def register(client: TestClient, username: str = "ada", password: str = "lovelace") -> Any:
    return client.post("/auth/register", data={"username": username, "password": password})


def login(
    client: TestClient, username: str = "ada", password: str = "lovelace", query: str = ""
) -> Any:
    return client.post("/auth/login" + query, data={"username": username, "password": password})


def sign_up_and_log_in(client: TestClient, username: str = "ada") -> None:
    assert register(client, username).status_code == 302
    assert login(client, username).status_code == 302


def create_post(client: TestClient, title: str = "First", body: str = "Hello.") -> Any:
    return client.post("/create", data={"title": title, "body": body})


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="status">(.*?)</p>', html)


def is_logged_in(client: TestClient) -> bool:
    return "Log out" in client.get("/").text


# -- the command line ----------------------------------------------------------------------


def test_init_db_command_creates_the_tables(tmp_path: Path) -> None:
    app = blog_app.create_app(_config(tmp_path))
    result = CliRunner().invoke(app.cli, ["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database." in result.output
    tables = {name for (name,) in rows(app, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "posts"} <= tables
    # Run again on a database with data: it starts over.
    client = app.test_client(follow_redirects=False)
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


def test_passwords_are_salted_scrypt_hashes(app: Kettle) -> None:
    with app.app_context():
        first = blog_auth.hash_password("pw")
        second = blog_auth.hash_password("pw")
    assert first.startswith("scrypt$16$8$1$")
    assert first != second  # a random salt each time
    assert blog_auth.check_password(first, "pw")
    assert not blog_auth.check_password(first, "pW")
    for malformed in ("", "scrypt$16", "md5$1$1$1$00$00", "scrypt$16$8$1$zz$zz"):
        assert not blog_auth.check_password(malformed, "pw")


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
    assert password_hash.startswith("scrypt$")
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
    response = client.post("/auth/register", data={"username": "ada"})
    assert response.status_code == 400
    assert "password" in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# -- login and logout ------------------------------------------------------------------------


def test_login_page(client: TestClient) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert "Log in" in response.text


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
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http here; see the https test
    page = client.get("/")
    assert "Signed in as <strong>ada</strong>" in page.text


def test_session_cookie_is_secure_over_https(app: Kettle) -> None:
    client = app.test_client(base_url="https://testserver", follow_redirects=False)
    register(client)
    cookie = login(client).headers["set-cookie"]
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_pages_that_read_the_session_vary_on_cookie(client: TestClient) -> None:
    for path in ("/", "/auth/login", "/auth/register"):
        response = client.get(path)
        assert "cookie" in response.headers["vary"].lower(), path
    sign_up_and_log_in(client)
    assert "cookie" in client.get("/").headers["vary"].lower()


def test_login_goes_back_to_the_page_that_asked(client: TestClient) -> None:
    register(client)
    to_login = client.get("/create")
    assert to_login.headers["location"] == "/auth/login?next=%2Fcreate"
    page = client.get(to_login.headers["location"])
    # The form posts to the same URL, so `next` survives.
    assert 'action="/auth/login?next=%2Fcreate"' in page.text
    assert login(client, query="?next=%2Fcreate").headers["location"] == "/create"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_does_not_redirect_off_site(client: TestClient, target: str) -> None:
    register(client)
    response = client.post(
        "/auth/login",
        params={"next": target},
        data={"username": "ada", "password": "lovelace"},
    )
    assert response.headers["location"] == "/"


def test_logout_clears_the_session(client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    # The emptied session deletes the cookie.
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=;")
    assert "max-age=0" in cookie.lower()
    assert "session" not in client.cookies
    assert not is_logged_in(client)


def test_logout_is_post_only(client: TestClient) -> None:
    sign_up_and_log_in(client)
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert is_logged_in(client)


def _session_cookie(client: TestClient) -> str:
    value = client.cookies.get("session")
    assert value
    return value


@pytest.mark.parametrize("part", ["payload", "signature"])
def test_a_tampered_session_cookie_is_ignored(app: Kettle, client: TestClient, part: str) -> None:
    sign_up_and_log_in(client, "ada")
    sign_up_and_log_in(client, "bob")  # user 2; try to become user 1
    payload, timestamp, signature = _session_cookie(client).split(".")
    if part == "payload":
        payload = "eyJ1c2VyX2lkIjoxfQ"  # {"user_id":1}, with bob's signature
    else:
        signature = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged = f"{payload}.{timestamp}.{signature}"
    stranger = app.test_client(follow_redirects=False, headers={"Cookie": f"session={forged}"})
    page = stranger.get("/")
    assert page.status_code == 200
    assert "Log in" in page.text
    assert "Signed in" not in page.text
    assert stranger.get("/create").headers["location"].startswith("/auth/login")


def test_a_session_signed_with_the_development_key_is_refused(app: Kettle, tmp_path: Path) -> None:
    other = blog_app.create_app(_config(tmp_path, SECRET_KEY=blog_app.DEV_SECRET_KEY))
    serializer = other.session_interface.get_signing_serializer(other)
    forged = serializer.dumps({"user_id": 1})
    client = app.test_client(follow_redirects=False)
    sign_up_and_log_in(client)
    stranger = app.test_client(follow_redirects=False, headers={"Cookie": f"session={forged}"})
    assert "Signed in" not in stranger.get("/").text


# -- posts -----------------------------------------------------------------------------------


def test_index_lists_posts_newest_first(client: TestClient) -> None:
    assert "No posts yet." in client.get("/").text
    sign_up_and_log_in(client)
    for title in ("one", "two", "three"):
        assert create_post(client, title).status_code == 302
    client.post("/auth/logout")
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
    client.post("/auth/logout")
    response = client.request(method, path, data={"title": "Hacked", "body": "x"})
    assert response.status_code == 302
    assert response.headers["location"].startswith("/auth/login?next=")
    assert rows(app, "SELECT title FROM posts") == [("Keep me",)]


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
    response = client.post("/1/update", data={"title": "New", "body": "New body"})
    assert response.status_code == 302
    assert rows(app, "SELECT title, body FROM posts") == [("New", "New body")]
    assert flashes(client.get("/").text) == ["Your post is updated."]
    invalid = client.post("/1/update", data={"title": "", "body": "Draft"})
    assert flashes(invalid.text) == ["Title is required."]
    assert "Draft</textarea>" in invalid.text
    assert rows(app, "SELECT title FROM posts") == [("New",)]


def test_delete_a_post(app: Kettle, client: TestClient) -> None:
    sign_up_and_log_in(client)
    create_post(client)
    response = client.post("/1/delete")
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
    client.post("/auth/logout")
    sign_up_and_log_in(client, "bob")
    assert "Edit" not in client.get("/").text
    response = client.request(method, path, data={"title": "Bob's now", "body": "x"})
    assert response.status_code == 403
    assert "Only its author can change a post." in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert rows(app, "SELECT title FROM posts") == [("Ada's",)]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/9/update"), ("POST", "/9/update"), ("POST", "/9/delete")]
)
def test_a_missing_post_is_a_404(client: TestClient, method: str, path: str) -> None:
    sign_up_and_log_in(client)
    response = client.request(method, path, data={"title": "t", "body": "b"})
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
    assert register(client).status_code == 302
    assert login(client).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/9/update").status_code == 404  # closed after an error too
    assert client.get("/static/style.css").status_code == 200
    assert len(opened) == 5  # the CSS request needs the user too
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
