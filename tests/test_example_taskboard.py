"""The taskboard example (examples/taskboard/): pages, the JSON API, uploads, live updates
and its CLI, through the test client, on a fresh SQLite database per test.

Pages are used like a browser uses them: each form is fetched first and posted with the
CSRF token it rendered, and requests accept HTML (so ``login_required`` redirects).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from realpostgres import postgres  # noqa: F401 - the fixture
from sqlalchemy.ext.asyncio import create_async_engine

from examples.taskboard import seed
from examples.taskboard.app import create_app
from examples.taskboard.settings import Settings
from kettle import Kettle
from kettle.testing import TestClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def settings(tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'board.sqlite'}",
        "upload_dir": tmp_path / "uploads",
        "secret_key": "a test secret that is long enough for HS256 keys",
        "fast_password_hashing": True,
        "page_size": 3,
        "max_upload_bytes": 4096,
        "log_setup": False,  # pytest captures the records; the served app logs to stderr
    }
    values.update(changes)
    return Settings(**values)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database the app runs on: SQLite, or (the tests marked ``on_both``) Postgres."""
    return str(request.param)


#: run a test on SQLite and on a real Postgres (tests/realpostgres.py)
on_both = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def app(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Kettle:
    changes: dict[str, Any] = {}
    if backend == "postgres":
        changes["database_url"] = request.getfixturevalue("postgres").new_database()
    return create_app(settings(tmp_path, **changes))


@pytest.fixture
def client(app: Kettle) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False, headers=BROWSER) as client:
        yield client


def token_of(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post_form(
    client: TestClient, path: str, data: dict[str, Any], form_page: str | None = None, **kw: Any
) -> Any:
    token = token_of(client, form_page or path)
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def sign_in(
    client: TestClient, email: str = seed.DEMO_EMAIL, password: str = seed.DEMO_PASSWORD
) -> None:
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/"


def api_token(client: TestClient, scope: str | None = None) -> dict[str, str]:
    data = {"username": seed.DEMO_EMAIL, "password": seed.DEMO_PASSWORD}
    if scope is not None:
        data["scope"] = scope
    response = client.post("/api/token", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return {
        "Authorization": f"Bearer {response.json()['access_token']}",
        "Accept": "application/json",
    }


# -- accounts ------------------------------------------------------------------------------


def test_visitors_are_sent_to_the_login_page_which_shows_the_demo_account(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login?next=")
    page = client.get("/login")
    assert seed.DEMO_EMAIL in page.text
    assert seed.DEMO_PASSWORD in page.text


def test_demo_login_shows_the_seeded_board(client: TestClient) -> None:
    sign_in(client)
    board = client.get("/")
    assert board.status_code == 200
    assert "Signed in as Demo User" in board.text
    assert board.text.count('class="task"') == 3  # page_size 3 of the 4 seeded tasks
    assert 'rel="next"' in board.text


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (seed.DEMO_EMAIL, "wrong password"),
        ("nobody@taskboard.example", seed.DEMO_PASSWORD),
        ("", ""),
    ],
)
def test_a_refused_login_says_the_same_whatever_was_wrong(
    client: TestClient, email: str, password: str
) -> None:
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 200
    assert "Incorrect email or password." in response.text
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an email", "name": "Ann", "password": "long enough"}, "valid email"),
        ({"email": "ann@example.com", "name": "", "password": "long enough"}, "Enter your name"),
        (
            {"email": "ann@example.com", "name": "A" * 81, "password": "long enough"},
            "Enter your name",
        ),
        ({"email": "ann@example.com", "name": "Ann", "password": "short"}, "at least 8"),
        ({"email": seed.DEMO_EMAIL, "name": "Ann", "password": "long enough"}, "already exists"),
        ({"email": "ann@example.com", "name": "Ann", "password": "x" * 5000}, "at most"),
    ],
)
def test_signup_refuses_bad_fields_and_keeps_what_was_typed(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    response = post_form(client, "/signup", fields)
    assert response.status_code == 200
    assert message in response.text
    if fields["name"] and len(fields["name"]) < 80:
        assert f'value="{fields["name"]}"' in response.text


@on_both
def test_signup_logs_the_new_member_in_and_logout_ends_it(client: TestClient) -> None:
    response = post_form(
        client,
        "/signup",
        {"email": "Ann@Example.com", "name": "Ann", "password": "tea and biscuits"},
    )
    assert response.status_code == 302
    assert "Welcome, Ann!" in client.get("/").text
    assert post_form(client, "/logout", {}, form_page="/").status_code == 302
    assert client.get("/").status_code == 302
    sign_in(client, "ann@example.com", "tea and biscuits")


def test_a_form_posted_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")  # a session cookie, as a browser would have
    response = client.post(
        "/login", data={"email": seed.DEMO_EMAIL, "password": seed.DEMO_PASSWORD}
    )
    assert response.status_code == 403
    assert client.get("/").status_code == 302


# -- tasks through the pages ---------------------------------------------------------------


@on_both
def test_create_edit_and_delete_a_task(client: TestClient) -> None:
    sign_in(client)
    created = post_form(
        client, "/tasks/new", {"title": "Buy tea", "description": "Assam", "status": "todo"}
    )
    assert created.status_code == 302
    detail_url = created.headers["location"]
    detail = client.get(detail_url)
    assert "Buy tea" in detail.text
    assert "Assam" in detail.text
    version = re.search(r'data-task-version="(\d+)"', detail.text)
    assert version is not None
    edited = post_form(
        client,
        f"{detail_url}/edit",
        {
            "title": "Buy green tea",
            "description": "",
            "status": "doing",
            "version": version.group(1),
        },
    )
    assert edited.status_code == 302
    assert "Buy green tea" in client.get(detail_url).text
    assert "Delete this task?" in client.get(f"{detail_url}/delete").text
    deleted = post_form(client, f"{detail_url}/delete", {})
    assert deleted.status_code == 302
    gone = client.get(detail_url)
    assert gone.status_code == 404
    assert "<h1>404</h1>" in gone.text  # the site's own page, in its layout


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  ", "status": "todo"}, "needs a title"),
        ({"title": "x" * 201, "status": "todo"}, "at most 200"),
        ({"title": "ok", "description": "d" * 5001, "status": "todo"}, "at most 5000"),
        ({"title": "ok", "status": "someday"}, "Pick a status"),
    ],
)
def test_a_bad_task_form_is_a_422_naming_the_problem(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    sign_in(client)
    response = post_form(client, "/tasks/new", fields)
    assert response.status_code == 422
    assert message in response.text


def test_an_edit_from_a_stale_page_is_a_conflict(client: TestClient) -> None:
    sign_in(client)
    fields = {"title": "Changed", "description": "", "status": "todo", "version": "0"}
    response = post_form(client, "/tasks/1/edit", fields)
    assert response.status_code == 409
    assert "Someone changed this task" in response.text


def test_only_the_author_may_delete(client: TestClient) -> None:
    post_form(
        client, "/signup", {"email": "bo@example.com", "name": "Bo", "password": "long enough"}
    )
    response = client.get("/tasks/1/delete")
    assert response.status_code == 403
    assert "Only the task" in response.text


@on_both
@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("?q=postgres", ["Set up the Postgres backups"]),
        ("?q=POSTGRES", ["Set up the Postgres backups"]),
        ("?status=done", ["Design the new board header"]),
        ("?q=%25", []),  # a literal %, not a wildcard
        ("?q=login&status=todo", ["Fix the login redirect"]),
        ("?status=bogus&page=2", ["Write the release notes"]),  # an unknown status: any
    ],
)
def test_search_and_filter(client: TestClient, query: str, titles: list[str]) -> None:
    sign_in(client)
    page = client.get(f"/{query}")
    assert page.status_code == 200
    shown = re.findall(r'class="title">([^<]+)<', page.text)
    assert shown == titles


@pytest.mark.parametrize("page", ["0", "-1", "abc", "9" * 30, "1e3"])
def test_hostile_page_numbers_show_the_first_page(client: TestClient, page: str) -> None:
    sign_in(client)
    response = client.get("/", params={"page": page})
    assert response.status_code == 200
    assert "Page 1 of 2" in response.text


# -- uploads -------------------------------------------------------------------------------


def upload(
    client: TestClient, path: str, field: str, name: str, data: bytes, form_page: str
) -> Any:
    token = token_of(client, form_page)
    return client.post(
        path,
        data={"csrf_token": token},
        files={field: (name, data, "application/octet-stream")},
    )


@on_both
def test_attachments_are_sniffed_stored_under_our_name_and_served_safely(
    client: TestClient, tmp_path: Path
) -> None:
    sign_in(client)
    image = upload(client, "/tasks/1/attachments", "file", "../../shot.png", PNG, "/tasks/1")
    assert image.status_code == 302
    note = upload(
        client,
        "/tasks/1/attachments",
        "file",
        "notes.html",
        b"<script>alert(1)</script>",
        "/tasks/1",
    )
    assert note.status_code == 302
    stored = sorted(p.name for p in (tmp_path / "uploads").iterdir())
    assert len(stored) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(png|txt)", n) for n in stored)
    detail = client.get("/tasks/1").text
    links = re.findall(r'href="(/files/[0-9a-f]{32}\.\w+)">([^<]+)<', detail)
    assert [name for _, name in links] == ["shot.png", "notes.html"]
    png = client.get(links[0][0])
    assert png.headers["content-type"] == "image/png"
    assert png.content == PNG
    text = client.get(links[1][0])
    # Served as text and as a download: never rendered as a page of ours.
    assert text.headers["content-type"].startswith("text/plain")
    assert text.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("big.png", PNG + b"\x00" * 5000, 413, "at most 4 KiB"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00\xff" * 20, 415, "not accepted"),
        ("empty.txt", b"", 400, "empty"),
    ],
)
def test_bad_attachments_are_refused(
    client: TestClient, tmp_path: Path, name: str, data: bytes, status: int, message: str
) -> None:
    sign_in(client)
    response = upload(client, "/tasks/1/attachments", "file", name, data, "/tasks/1")
    assert response.status_code == status
    assert message in response.text
    assert not list((tmp_path / "uploads").iterdir())


def test_an_avatar_must_be_an_image(client: TestClient) -> None:
    sign_in(client)
    refused = upload(client, "/profile", "avatar", "me.pdf", b"%PDF-1.7 ...", "/profile")
    assert refused.status_code == 415
    accepted = upload(client, "/profile", "avatar", "me.png", PNG, "/profile")
    assert accepted.status_code == 302
    avatar = re.search(r'class="avatar" src="(/files/[^"]+)"', client.get("/").text)
    assert avatar is not None
    assert client.get(avatar.group(1)).content == PNG


def test_files_are_for_members_and_unknown_names_are_404(client: TestClient) -> None:
    assert client.get("/files/" + "0" * 32 + ".png").status_code == 302
    sign_in(client)
    assert client.get("/files/" + "0" * 32 + ".png").status_code == 404
    assert client.get("/files/..%2F..%2Fboard.sqlite").status_code == 404


# -- the API -------------------------------------------------------------------------------


@on_both
def test_api_token_lists_and_reads_with_etags(client: TestClient) -> None:
    headers = api_token(client)
    listing = client.get("/api/tasks", headers=headers, params={"per_page": 2})
    assert listing.status_code == 200
    body = listing.json()
    assert (body["total"], body["pages"], len(body["items"])) == (4, 2, 2)
    first = body["items"][0]
    assert first["created_at"].endswith("Z") or first["created_at"].endswith("+00:00")
    one = client.get(f"/api/tasks/{first['id']}", headers=headers)
    tag = one.headers["etag"]
    again = client.get(f"/api/tasks/{first['id']}", headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""


@on_both
def test_api_changes_honour_if_match(client: TestClient) -> None:
    headers = api_token(client)
    created = client.post("/api/tasks", headers=headers, json={"title": "From a script"})
    assert created.status_code == 201
    assert created.headers["location"] == f"/api/tasks/{created.json()['id']}"
    url = created.headers["location"]
    tag = created.headers["etag"]
    changed = client.patch(url, headers={**headers, "If-Match": tag}, json={"status": "done"})
    assert changed.status_code == 200
    assert changed.json()["status"] == "done"
    stale = client.patch(url, headers={**headers, "If-Match": tag}, json={"status": "todo"})
    assert stale.status_code == 412
    assert client.delete(url, headers={**headers, "If-Match": tag}).status_code == 412
    assert (
        client.delete(url, headers={**headers, "If-Match": changed.headers["etag"]}).status_code
        == 204
    )
    missing = client.get(url, headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Task not found"}


@on_both
@pytest.mark.parametrize(
    ("method", "path", "body", "params"),
    [
        ("POST", "/api/tasks", {"title": ""}, None),
        ("POST", "/api/tasks", {"title": "   "}, None),
        ("POST", "/api/tasks", {"title": "x", "owner": "me"}, None),
        ("POST", "/api/tasks", {"title": "x", "status": "later"}, None),
        ("POST", "/api/tasks", ["not", "an", "object"], None),
        ("PATCH", "/api/tasks/1", {"title": "x" * 201}, None),
        ("GET", "/api/tasks", None, {"per_page": "500"}),
        ("GET", "/api/tasks", None, {"page": "0"}),
        ("GET", "/api/tasks", None, {"status": "someday"}),
        ("GET", "/api/tasks", None, {"q": "q" * 101}),
    ],
)
def test_api_bad_input_is_a_422(
    client: TestClient, method: str, path: str, body: Any, params: dict[str, str] | None
) -> None:
    response = client.request(method, path, headers=api_token(client), json=body, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic ZGVtbzpkZW1v"}, 401),
    ],
)
def test_api_needs_a_valid_token(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.get("/api/tasks", headers={"Accept": "application/json", **headers})
    assert response.status_code == status
    assert response.headers["www-authenticate"].startswith("Bearer")


@on_both
def test_api_scopes_limit_what_a_token_may_do(client: TestClient) -> None:
    reader = api_token(client, scope="tasks:read")
    assert client.get("/api/tasks", headers=reader).status_code == 200
    refused = client.post("/api/tasks", headers=reader, json={"title": "no"})
    assert refused.status_code == 403
    assert 'scope="tasks:write"' in refused.headers["www-authenticate"]
    assert client.get("/api/me", headers=reader).json()["scopes"] == ["tasks:read"]


def test_api_token_refuses_bad_credentials(client: TestClient) -> None:
    response = client.post(
        "/api/token",
        data={"username": seed.DEMO_EMAIL, "password": "nope"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


def test_api_errors_stay_json(client: TestClient) -> None:
    response = client.get("/api/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_document_has_the_password_flow_for_the_authorize_button(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    flow = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    assert flow["tokenUrl"] == "/api/token"
    assert set(flow["scopes"]) == {"tasks:read", "tasks:write"}
    assert "/api/tasks/{task_id}" in document["paths"]
    assert client.get("/docs").status_code == 200


# -- live updates and the CLI --------------------------------------------------------------


@on_both
def test_every_change_is_published_on_the_tasks_channel(app: Kettle, client: TestClient) -> None:
    headers = api_token(client)
    channels = app.state.channels

    async def watch() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async with channels.subscribe("tasks") as changes:
            created = await asyncio.to_thread(
                client.post, "/api/tasks", headers=headers, json={"title": "Live"}
            )
            url = created.headers["location"]
            await asyncio.to_thread(client.delete, url, headers=headers)
            async for message in changes:
                seen.append(message.data)
                if len(seen) == 2:
                    break
        return seen

    with client.portal() as portal:  # the app's own event loop, where its channels live
        seen = portal.call(asyncio.wait_for, watch(), 10)
    assert [change["action"] for change in seen] == ["created", "deleted"]
    assert seen[0]["title"] == "Live"


def test_cli_init_db_and_seed(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, demo_data=False))
    runner = CliRunner()
    result = runner.invoke(app.cli, ["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    result = runner.invoke(app.cli, ["seed"])
    assert result.exit_code == 0, result.output
    assert seed.DEMO_EMAIL in result.output
    result = runner.invoke(app.cli, ["seed"])
    assert "nothing added" in result.output


@on_both
def test_health_and_readiness_follow_the_database(app: Kettle) -> None:
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]) == (200, {"database": "ok"})
        # The probes need no login and no CSRF token, and are not API documentation.
        assert "/readyz" not in client.get("/openapi.json").json()["paths"]
        # The database goes away: an engine that cannot connect stands in for it.
        database = app.state.db
        engine, database.engine = (
            database.engine,
            create_async_engine("sqlite+aiosqlite:////nonexistent/dir/board.sqlite"),
        )
        try:
            failing = client.get("/readyz")
        finally:
            database.engine = engine
        assert client.get("/healthz").status_code == 200  # alive: not to be restarted
    assert failing.status_code == 503
    assert failing.json()["failed"] == ["database"]


def test_metrics_when_enabled_and_an_access_record_per_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings(tmp_path, metrics=True))
    with TestClient(app, follow_redirects=False, headers=BROWSER) as client:
        sign_in(client)
        with caplog.at_level(logging.INFO, logger="kettle.access"):
            answer = client.get("/tasks/1", headers={"X-Request-ID": "trace-me-42"})
        assert answer.status_code == 200
        assert answer.headers["x-request-id"] == "trace-me-42"
        scraped = client.get("/metrics").text
    records = [r for r in caplog.records if r.name == "kettle.access"]
    assert [getattr(r, "request_id", None) for r in records] == ["trace-me-42"]
    # Labelled by route template, so one series per route whatever the task id.
    assert 'route="/tasks/<int:task_id>",status="200"' in scraped, scraped[:2000]


def test_metrics_are_off_by_default(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/metrics").status_code == 404
