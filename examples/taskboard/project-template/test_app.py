"""The app's tests, through kettle's test client, on a fresh SQLite database per test.

Pages are used as a browser uses them: a form is fetched first and posted with the CSRF
token it rendered, and requests accept HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from taskboard import seed
from taskboard.app import create_app
from taskboard.settings import Settings

from kettle.testing import TestClient

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.sqlite'}",
        upload_dir=tmp_path / "uploads",
        secret_key="a test secret that is long enough for HS256 keys",
        fast_password_hashing=True,
    )
    with TestClient(create_app(settings), follow_redirects=False, headers=BROWSER) as client:
        yield client


def post_form(client: TestClient, path: str, data: dict[str, str]) -> object:
    token = CSRF.search(client.get(path).text)
    assert token is not None
    return client.post(path, data={"csrf_token": token.group(1), **data})


def test_sign_in_and_create_a_task(client: TestClient) -> None:
    signed_in = post_form(
        client, "/login", {"email": seed.DEMO_EMAIL, "password": seed.DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302  # type: ignore[attr-defined]
    created = post_form(client, "/tasks/new", {"title": "My first task", "status": "todo"})
    assert created.status_code == 302  # type: ignore[attr-defined]
    assert "My first task" in client.get("/").text


def test_the_api_needs_a_token_and_lists_tasks(client: TestClient) -> None:
    assert client.get("/api/tasks").status_code == 401
    token = client.post(
        "/api/token", data={"username": seed.DEMO_EMAIL, "password": seed.DEMO_PASSWORD}
    ).json()["access_token"]
    listing = client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 200
    assert listing.json()["total"] == len(seed.DEMO_TASKS)
