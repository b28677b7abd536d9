"""Server-side sessions on the memory store and on a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from realservers import RedisServer, own_redis, prefix_for, redis_server

from kettle import Kettle, session
from kettle.login import LoginManager, UserMixin, login_user, logout_user
from kettle.serversessions import ServerSideSessionInterface
from kettle.stores import MemoryStore, RedisStore, Store
from kettle.testing import TestClient

__all__ = ["own_redis", "redis_server"]  # fixtures, imported for pytest to find


class User(UserMixin):
    def __init__(self, id: str) -> None:
        self.id = id


def make_app(store: Store, **config: Any) -> tuple[Kettle, ServerSideSessionInterface]:
    app = Kettle(__name__)
    app.config.update(SECRET_KEY="test secret", **config)
    interface = ServerSideSessionInterface(store, key_prefix="s:", app=app)
    manager = LoginManager(app)
    manager.user_loader(lambda user_id: User(user_id))

    @app.post("/put/{key}/{value}")
    async def put(key: str, value: str) -> dict[str, Any]:
        session[key] = value
        return {"sid": session.sid}

    @app.get("/read")
    async def read() -> dict[str, Any]:
        return {"data": dict(session), "sid": getattr(session, "sid", None)}

    @app.post("/login/{user_id}")
    async def login(user_id: str) -> dict[str, Any]:
        login_user(User(user_id))
        return {"sid": session.sid}  # the new id, known at once

    @app.post("/logout")
    async def logout() -> dict[str, bool]:
        logout_user()
        return {"ok": True}

    @app.post("/revoke/{sid}")
    async def revoke(sid: str) -> dict[str, bool]:
        return {"revoked": await interface.revoke(sid)}

    return app, interface


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    server: RedisServer = request.getfixturevalue("redis_server")
    prefix = prefix_for(request)
    return lambda: RedisStore(server.url, prefix=prefix)


def stored(store: Store, key: str) -> bytes | None:
    async def get() -> bytes | None:
        try:
            return await store.get(key)
        finally:
            await store.aclose()

    return asyncio.run(get())


def test_data_in_the_store_an_id_in_the_cookie(make_store: Callable[[], Store]) -> None:
    app, _ = make_app(make_store())
    with TestClient(app) as client:
        sid = client.post("/put/cart/teapot" + "x" * 5000).json()["sid"]
        cookie = client.cookies["session"]
        assert len(cookie) < 100  # the 5 KB value is not in it
        assert cookie.startswith(sid + ".")  # the id, signed
        read = client.get("/read")
        assert read.json() == {"data": {"cart": "teapot" + "x" * 5000}, "sid": sid}
        assert read.headers["vary"] == "Cookie"
        assert "set-cookie" not in read.headers  # unchanged: nothing written back
    assert b"teapot" in (stored(make_store(), f"s:{sid}") or b"")


def test_login_rotates_the_id_and_logout_deletes_it(make_store: Callable[[], Store]) -> None:
    app, _ = make_app(make_store())
    with TestClient(app) as client:
        planted = client.post("/put/theme/dark").json()["sid"]
        planted_cookie = client.cookies["session"]
        new_sid = client.post("/login/7").json()["sid"]
        assert new_sid != planted
        assert client.get("/read").json()["data"]["_user_id"] == "7"
        # The id from before the login (one an attacker could have planted) is gone.
        assert stored(make_store(), f"s:{planted}") is None
        with TestClient(app) as planter:
            planter.cookies.set("session", planted_cookie)
            assert planter.get("/read").json()["data"] == {}
        client.post("/login/8")
        sid = client.get("/read").json()["sid"]
        response = client.post("/logout")
        assert (
            'session=""' in response.headers["set-cookie"]
            or "Max-Age=0" in response.headers["set-cookie"]
        )
    assert stored(make_store(), f"s:{sid}") is None


def test_revoked_session_opens_empty(make_store: Callable[[], Store]) -> None:
    app, _ = make_app(make_store())
    with TestClient(app) as victim, TestClient(app) as admin:
        sid = victim.post("/login/1").json()["sid"]
        assert admin.post(f"/revoke/{sid}").json() == {"revoked": True}
        assert victim.get("/read").json()["data"] == {}
        assert admin.post(f"/revoke/{sid}").json() == {"revoked": False}


@pytest.mark.parametrize(
    "cookie",
    [
        "forged.id",
        "a" * 10_000,
        "ünïcode",
        "",
        "..",
        "sid.c2lnbmF0dXJl",
    ],
)
def test_hostile_cookies_open_a_new_session(cookie: str) -> None:
    app, _ = make_app(MemoryStore())
    client = TestClient(app)
    response = client.get("/read", headers={b"cookie": f"session={cookie}".encode()})
    assert response.status_code == 200
    assert response.json()["data"] == {}
    assert response.json()["sid"] not in cookie


def test_a_cookie_signed_with_an_old_key_still_opens() -> None:
    store = MemoryStore()
    app, _ = make_app(store)
    client = TestClient(app)
    client.post("/put/a/1")
    app.config.update(SECRET_KEY="new secret", SECRET_KEY_FALLBACKS=["test secret"])
    assert client.get("/read").json()["data"] == {"a": "1"}


def test_records_expire_with_the_session_lifetime(redis_server: RedisServer, request: Any) -> None:
    prefix = prefix_for(request)
    app, _ = make_app(RedisStore(redis_server.url, prefix=prefix), PERMANENT_SESSION_LIFETIME=90)
    with TestClient(app) as client:
        sid = client.post("/put/a/1").json()["sid"]
    assert 0 < redis_server.command("PTTL", f"{prefix}s:{sid}") <= 90_000


def test_without_a_secret_key_sessions_are_null() -> None:
    app, _ = make_app(MemoryStore())
    app.config["SECRET_KEY"] = None
    client = TestClient(app)
    assert client.get("/read").json() == {"data": {}, "sid": None}
    assert client.post("/put/a/1").status_code == 500  # writing says what to set (logged)


def test_redis_down_is_a_503_only_for_requests_with_a_session(
    own_redis: RedisServer, request: Any
) -> None:
    app, _ = make_app(RedisStore(own_redis.url, prefix=prefix_for(request), timeout=0.3))
    with TestClient(app) as client:
        client.post("/put/a/1")
        own_redis.stop()
        refused = client.get("/read")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert own_redis.url not in refused.text
        with TestClient(app) as fresh:
            assert fresh.get("/read").status_code == 200  # no cookie: the store is not asked
        own_redis.start()
        assert client.get("/read").json()["data"] == {}  # Redis lost it: a new session
