"""The token example (examples/tokens/): OAuth2 password flow, JWTs and scopes, end to end."""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kettle.security.passwords import PasswordHasher
from kettle.security.tokens import JWT
from kettle.testing import TestClient

TOKENS_DIR = Path(__file__).resolve().parent.parent / "examples" / "tokens"
PACKAGE = "kettle_example_tokens"
SECRET = "example tests secret, thirty-two bytes or more"


def _import_example() -> ModuleType:
    """The example's ``app`` module, imported under a name no other test uses."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, TOKENS_DIR / "__init__.py", submodule_search_locations=[str(TOKENS_DIR)]
        )
        assert spec is not None
        assert spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.app")


example = _import_example()
# Cheap argon2 parameters, for the tests only: they hash a few passwords per test.
HASHER = PasswordHasher.for_tests()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "tokens.sqlite"


@pytest.fixture
def client(database: Path) -> Iterator[TestClient]:
    app = example.create_app(
        {"DATABASE": database, "JWT_SECRET": SECRET, "PASSWORD_HASHER": HASHER}
    )
    with TestClient(app) as client:
        yield client


def _token(client: TestClient, username: str, scope: str, password: str = "secret") -> str:
    response = client.post(
        "/token", data={"username": username, "password": password, "scope": scope}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    return str(body["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_database_is_created_on_startup_with_hashed_passwords(
    client: TestClient, database: Path
) -> None:
    with sqlite3.connect(database) as conn:
        rows = dict(conn.execute("SELECT username, password_hash FROM users").fetchall())
    assert set(rows) == {"alice", "bob"}
    assert all(value.startswith("$argon2id$") for value in rows.values())


def test_password_flow_end_to_end(client: TestClient) -> None:
    token = _token(client, "alice", "me items")
    claims = JWT(SECRET, issuer="kettle-tokens-example", audience="kettle-tokens-api").decode(token)
    assert claims["sub"] == "alice"
    assert claims["scope"] == "items me"
    me = client.get("/users/me", headers=_bearer(token))
    assert me.json() == {
        "username": "alice",
        "full_name": "Alice Liddell",
        "scopes": ["items", "me"],
    }
    items = client.get("/users/me/items", headers=_bearer(token))
    assert items.json() == [{"name": "kettle", "owner": "alice"}]


def test_no_token_is_a_401(client: TestClient) -> None:
    response = client.get("/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/status").json() == {"status": "ok"}


def test_too_few_scopes_is_a_403(client: TestClient) -> None:
    token = _token(client, "alice", "me")
    assert client.get("/users/me", headers=_bearer(token)).status_code == 200
    response = client.get("/users/me/items", headers=_bearer(token))
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="items me"' in response.headers["www-authenticate"]


def test_only_scopes_the_user_holds_are_granted(client: TestClient) -> None:
    response = client.post(
        "/token", data={"username": "bob", "password": "secret", "scope": "me items"}
    )
    assert response.json()["scope"] == "me"
    token = response.json()["access_token"]
    assert client.get("/users/me/items", headers=_bearer(token)).status_code == 403


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong"), ("nobody", "secret"), ("alice", ""), ("alice", "x" * 5000)],
)
def test_bad_credentials_are_one_401(client: TestClient, username: str, password: str) -> None:
    response = client.post("/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect username or password"}
    assert response.headers["www-authenticate"] == "Bearer"


ISSUER = "kettle-tokens-example"


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: "not-a-jwt", "The token is malformed."),
        (lambda: JWT(SECRET.upper()).encode({"sub": "alice"}), "signature"),
        (lambda: JWT(SECRET).encode({"sub": "alice", "scope": "me"}), "lacks a required claim"),
        (lambda: JWT(SECRET, issuer=ISSUER, audience="elsewhere").encode({"sub": "a"}), "audience"),
        (
            lambda: JWT(SECRET, issuer=ISSUER, audience="kettle-tokens-api").encode(
                {"sub": "alice", "scope": "me"}, expires_in=-60
            ),
            "expired",
        ),
    ],
)
def test_bad_tokens_are_401s_that_say_why(
    client: TestClient, make_token: Callable[[], str], reason: str
) -> None:
    response = client.get("/users/me", headers=_bearer(make_token()))
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert SECRET not in response.text


def test_a_token_for_a_deleted_user_is_refused(client: TestClient, database: Path) -> None:
    token = _token(client, "bob", "me")
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM users WHERE username = 'bob'")
    assert client.get("/users/me", headers=_bearer(token)).status_code == 401


def test_outdated_hashes_are_upgraded_at_login(client: TestClient, database: Path) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE username = 'bob'", (weaker.hash("secret"),)
        )
    _token(client, "bob", "me")
    with sqlite3.connect(database) as conn:
        (stored,) = conn.execute(
            "SELECT password_hash FROM users WHERE username = 'bob'"
        ).fetchone()
    assert not HASHER.needs_rehash(stored)


def test_disabled_users_get_no_token(client: TestClient, database: Path) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE users SET disabled = 1 WHERE username = 'bob'")
    response = client.post("/token", data={"username": "bob", "password": "secret"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Inactive user"}


def test_the_openapi_document_offers_the_password_flow(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    (scheme,) = schemes.values()
    assert scheme["flows"]["password"] == {"tokenUrl": "token", "scopes": example.SCOPES}
