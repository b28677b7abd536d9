"""Signed cookie sessions, at the interface level: a fake app, real requests and responses."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
import itsdangerous
import pytest
from markupsafe import Markup

from kettle.config import DEFAULT_CONFIG, Config
from kettle.globals import RequestContext, session
from kettle.requests import Request
from kettle.responses import Response
from kettle.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
    TaggedJSONSerializer,
)

KEY = "a-long-random-secret"


class App:
    def __init__(self, **config: Any) -> None:
        self.config = Config(".", DEFAULT_CONFIG)
        self.config.update(config)
        self.session_interface: SessionInterface = SecureCookieSessionInterface()


def request(cookie: str | None = None, scheme: str = "http") -> Request:
    headers = [(b"cookie", cookie.encode("latin-1"))] if cookie is not None else []
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": headers, "scheme": scheme}
    )


def sent_headers(response: Response, scheme: str = "http") -> list[tuple[str, str]]:
    """The headers as the server would receive them (Secure is added at send time)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {"type": "http", "method": "GET", "scheme": scheme, "headers": []}
    anyio.run(response, scope, receive, send)
    return [(k.decode(), v.decode()) for k, v in messages[0]["headers"]]


def set_cookies(response: Response, scheme: str = "http") -> list[str]:
    return [v for k, v in sent_headers(response, scheme) if k == "set-cookie"]


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def save(app: App, sess: SessionMixin) -> Response:
    response = Response("ok")
    app.session_interface.save_session(app, sess, response)
    return response


def make_cookie(app: App, data: dict[str, Any]) -> str:
    """The cookie value a response would set for a session holding ``data``."""
    interface = app.session_interface
    sess = interface.open_session(app, request())
    assert sess is not None
    sess.update(data)
    return cookie_value(set_cookies(save(app, sess))[0])


def open_with(app: App, value: str, name: str = "session") -> SessionMixin:
    sess = app.session_interface.open_session(app, request(f"{name}={value}"))
    assert sess is not None
    return sess


class TestSessionObject:
    def test_tracks_reads_and_writes(self) -> None:
        s = SecureCookieSession({"a": 1})
        assert not s.accessed
        assert not s.modified
        assert not s.new
        assert "a" in s
        assert s.accessed
        assert not s.modified
        s.accessed = False
        assert s.get("a") == 1
        assert s.accessed

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda s: s.__setitem__("b", 2),
            lambda s: s.__delitem__("a"),
            lambda s: s.pop("a"),
            lambda s: s.popitem(),
            lambda s: s.clear(),
            lambda s: s.update(b=2),
            lambda s: s.setdefault("c", 3),
            lambda s: s.__ior__({"d": 4}),
        ],
    )
    def test_every_mutation_marks_modified(self, mutate: Any) -> None:
        s = SecureCookieSession({"a": 1})
        mutate(s)
        assert s.modified
        assert s.accessed

    def test_permanent_flag_is_stored_in_the_session(self) -> None:
        s = SecureCookieSession()
        assert not s.permanent
        assert not s.accessed
        s.permanent = True
        assert s["_permanent"] is True
        assert s.modified

    def test_null_session_reads_empty_and_refuses_writes(self) -> None:
        s = NullSession()
        assert s.get("a") is None
        assert "a" not in s
        assert not s
        for write in (lambda: s.update(a=1), lambda: s.setdefault("a"), lambda: s.clear()):
            with pytest.raises(RuntimeError, match="no secret key was set"):
                write()

    def test_untracked_session_classes_are_assumed_used(self) -> None:
        assert SessionMixin.modified
        assert SessionMixin.accessed


class TestTaggedJSON:
    @pytest.mark.parametrize(
        "value",
        [
            None,
            "text",
            42,
            1.5,
            True,
            [1, "a", None],
            {"nested": {"list": [1, {"x": (1, 2)}]}},
            (1, "two", (3,)),
            b"\x00\xffbytes",
            datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
            datetime(2024, 5, 1, 12, 30),
            date(2024, 5, 1),
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            Markup("<b>safe</b>"),
            {" t": "looks like a tag"},
            {" di": {" t": [1]}},
            [("info", "flashed"), ("error", "again")],
        ],
        ids=repr,
    )
    def test_round_trip(self, value: Any) -> None:
        s = TaggedJSONSerializer()
        back = s.loads(s.dumps(value))
        assert back == value
        assert type(back) is type(value)

    def test_objects_with_html_are_markup(self) -> None:
        class Html:
            def __html__(self) -> str:
                return "<i>x</i>"

        s = TaggedJSONSerializer()
        assert s.loads(s.dumps(Html())) == Markup("<i>x</i>")

    def test_unsupported_types_are_refused(self) -> None:
        with pytest.raises(TypeError, match="set"):
            TaggedJSONSerializer().dumps({1, 2})

    @pytest.mark.parametrize(
        "text", ['{" t":"x"}', '{" di":1}', '{" b":"***"}', '{" u":"xyz"}', '{" d":5}']
    )
    def test_malformed_tags_raise_value_error(self, text: str) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError subclass
            TaggedJSONSerializer().loads(text)


class TestOpenAndSave:
    def test_no_secret_key_means_no_session(self) -> None:
        app = App()
        assert app.session_interface.open_session(app, request("session=x")) is None
        assert isinstance(app.session_interface.make_null_session(app), NullSession)

    def test_round_trip_with_rich_values(self) -> None:
        app = App(SECRET_KEY=KEY)
        data = {"user": "ada", "ids": (1, 2), "at": datetime(2024, 1, 1, tzinfo=UTC)}
        sess = open_with(app, make_cookie(app, data))
        assert dict(sess) == data
        assert not sess.new
        assert not sess.modified
        assert not sess.accessed

    def test_default_cookie_attributes(self) -> None:
        app = App(SECRET_KEY=KEY)
        sess = app.session_interface.open_session(app, request())
        assert sess is not None
        assert sess.new
        sess["a"] = 1
        cookie = set_cookies(save(app, sess))[0]
        assert cookie.startswith("session=")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie
        assert "Expires" not in cookie
        assert "Domain" not in cookie

    @pytest.mark.parametrize(
        ("configured", "scheme", "secure"),
        [
            (None, "https", True),
            (None, "http", False),
            (True, "http", True),
            (False, "https", False),
        ],
    )
    def test_secure_follows_https_unless_configured(
        self, configured: bool | None, scheme: str, secure: bool
    ) -> None:
        app = App(SECRET_KEY=KEY, SESSION_COOKIE_SECURE=configured)
        sess = SecureCookieSession()
        sess["a"] = 1
        cookie = set_cookies(save(app, sess), scheme)[0]
        assert ("; Secure" in cookie) is secure

    def test_configured_attributes(self) -> None:
        app = App(
            SECRET_KEY=KEY,
            SESSION_COOKIE_NAME="sid",
            SESSION_COOKIE_DOMAIN="example.com",
            SESSION_COOKIE_PATH="/app",
            SESSION_COOKIE_HTTPONLY=False,
            SESSION_COOKIE_SAMESITE="Strict",
            SESSION_COOKIE_PARTITIONED=True,
        )
        sess = SecureCookieSession()
        sess["a"] = 1
        cookie = set_cookies(save(app, sess))[0]
        assert cookie.startswith("sid=")
        for part in ("Domain=example.com", "Path=/app", "SameSite=Strict", "Partitioned"):
            assert part in cookie
        assert "HttpOnly" not in cookie
        assert dict(open_with(app, cookie_value(cookie), "sid")) == {"a": 1}

    def test_path_falls_back_to_application_root(self) -> None:
        app = App(SECRET_KEY=KEY, APPLICATION_ROOT="/mounted")
        assert app.session_interface.get_cookie_path(app) == "/mounted"

    def test_invalid_samesite_is_refused(self) -> None:
        app = App(SECRET_KEY=KEY, SESSION_COOKIE_SAMESITE="sometimes")
        with pytest.raises(ValueError, match="SAMESITE"):
            app.session_interface.get_cookie_samesite(app)

    def test_samesite_can_be_turned_off(self) -> None:
        app = App(SECRET_KEY=KEY, SESSION_COOKIE_SAMESITE=None)
        sess = SecureCookieSession(a=1)
        sess.modified = True
        assert "SameSite" not in set_cookies(save(app, sess))[0]


class TestWhenToSend:
    def test_untouched_session_sends_nothing(self) -> None:
        app = App(SECRET_KEY=KEY)
        sess = open_with(app, make_cookie(app, {"a": 1}))
        response = save(app, sess)
        assert set_cookies(response) == []
        assert "vary" not in response.headers

    def test_read_but_unchanged_sends_vary_only(self) -> None:
        app = App(SECRET_KEY=KEY)
        sess = open_with(app, make_cookie(app, {"a": 1}))
        assert sess["a"] == 1
        response = save(app, sess)
        assert set_cookies(response) == []
        assert response.headers["vary"] == "Cookie"

    def test_vary_joins_an_existing_vary(self) -> None:
        app = App(SECRET_KEY=KEY)
        sess = SecureCookieSession()
        sess["a"] = 1
        response = Response("ok", headers={"Vary": "Accept-Encoding"})
        app.session_interface.save_session(app, sess, response)
        assert response.headers["vary"] == "Accept-Encoding, Cookie"

    def test_empty_new_session_sets_no_cookie(self) -> None:
        app = App(SECRET_KEY=KEY)
        sess = app.session_interface.open_session(app, request())
        assert sess is not None
        assert sess.get("x") is None
        response = save(app, sess)
        assert set_cookies(response) == []
        assert response.headers["vary"] == "Cookie"

    def test_cleared_session_deletes_the_cookie(self) -> None:
        app = App(SECRET_KEY=KEY, SESSION_COOKIE_DOMAIN="example.com")
        sess = open_with(app, make_cookie(app, {"user": "ada"}))
        sess.clear()
        response = save(app, sess)
        (cookie,) = set_cookies(response, "https")
        assert cookie.startswith("session=;")
        assert "Max-Age=0" in cookie
        assert "Domain=example.com" in cookie
        assert "; Secure" in cookie
        assert response.headers["vary"] == "Cookie"

    def test_clear_then_write_makes_a_fresh_cookie(self) -> None:
        app = App(SECRET_KEY=KEY)
        old = make_cookie(app, {"user": "ada", "role": "admin"})
        sess = open_with(app, old)
        sess.clear()
        sess["user"] = "bob"
        new = cookie_value(set_cookies(save(app, sess))[0])
        assert new != old
        assert dict(open_with(app, new)) == {"user": "bob"}

    def test_permanent_session_has_expiry_and_is_refreshed(self) -> None:
        app = App(SECRET_KEY=KEY, PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
        sess = SecureCookieSession()
        sess.permanent = True
        sess["a"] = 1
        cookie = set_cookies(save(app, sess))[0]
        assert "Max-Age=3600" in cookie
        assert "Expires=" in cookie
        # Unchanged, it is sent again to push the expiry forward...
        reopened = open_with(app, cookie_value(cookie))
        assert reopened.permanent
        assert not reopened.modified
        assert len(set_cookies(save(app, reopened))) == 1
        # ...unless refreshing is turned off.
        app.config["SESSION_REFRESH_EACH_REQUEST"] = False
        assert set_cookies(save(app, open_with(app, cookie_value(cookie)))) == []

    def test_lifetime_may_be_given_in_seconds(self) -> None:
        app = App(SECRET_KEY=KEY, PERMANENT_SESSION_LIFETIME=120)
        sess = SecureCookieSession()
        sess.permanent = True
        assert "Max-Age=120" in set_cookies(save(app, sess))[0]

    def test_oversized_cookie_logs_a_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        app = App(SECRET_KEY=KEY)
        sess = SecureCookieSession()
        sess["blob"] = secrets.token_hex(3000)  # random: the signer's zlib cannot shrink it
        with caplog.at_level(logging.WARNING, logger="kettle.sessions"):
            save(app, sess)
        assert "MAX_COOKIE_SIZE" in caplog.text


class TestHostileCookies:
    def test_tampered_cookie_opens_a_new_session(self) -> None:
        app = App(SECRET_KEY=KEY)
        value = make_cookie(app, {"user": "ada"})
        payload, dot, rest = value.partition(".")
        forged = payload[:-1] + ("A" if payload[-1] != "A" else "B") + dot + rest
        sess = open_with(app, forged)
        assert dict(sess) == {}
        assert sess.new

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "garbage",
            "a.b.c",
            "...",
            "eyJ1c2VyIjoiYWRhIn0",  # unsigned JSON
            "x" * 10_000,  # far past what a browser sends
            "\u00e9\u00e8",
            '"quoted"',
        ],
    )
    def test_garbage_opens_a_new_session(self, value: str) -> None:
        app = App(SECRET_KEY=KEY)
        sess = open_with(app, value)
        assert dict(sess) == {}
        assert sess.new

    def test_signed_non_dict_payload_is_ignored(self) -> None:
        app = App(SECRET_KEY=KEY)
        signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        assert dict(open_with(app, signer.dumps(["not", "a", "dict"]))) == {}

    def test_expired_cookie_opens_a_new_session(self, monkeypatch: pytest.MonkeyPatch) -> None:
        app = App(SECRET_KEY=KEY, PERMANENT_SESSION_LIFETIME=timedelta(seconds=60))
        real_now = itsdangerous.TimestampSigner.get_timestamp
        monkeypatch.setattr(
            itsdangerous.TimestampSigner, "get_timestamp", lambda self: real_now(self) - 61
        )
        value = make_cookie(app, {"user": "ada"})
        monkeypatch.undo()
        assert dict(open_with(app, value)) == {}
        # The same age within the lifetime is fine: the limit, not the clock, decides.
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=120)
        assert dict(open_with(app, value)) == {"user": "ada"}

    def test_cookie_from_the_future_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        app = App(SECRET_KEY=KEY)
        real_now = itsdangerous.TimestampSigner.get_timestamp
        monkeypatch.setattr(
            itsdangerous.TimestampSigner, "get_timestamp", lambda self: real_now(self) + 3600
        )
        value = make_cookie(app, {"user": "ada"})
        monkeypatch.undo()
        assert dict(open_with(app, value)) == {}

    def test_other_salt_or_key_is_refused(self) -> None:
        app = App(SECRET_KEY=KEY)
        other_salt = itsdangerous.URLSafeTimedSerializer(KEY, salt="other").dumps({"u": 1})
        assert dict(open_with(app, other_salt)) == {}
        other_key = make_cookie(App(SECRET_KEY="another-key"), {"u": 1})
        assert dict(open_with(app, other_key)) == {}

    @pytest.mark.parametrize("valid_first", [True, False])
    def test_duplicate_session_cookies_use_the_first(self, valid_first: bool) -> None:
        app = App(SECRET_KEY=KEY)
        valid = make_cookie(app, {"user": "ada"})
        other = make_cookie(App(SECRET_KEY="attacker"), {"user": "mallory"})
        pairs = [f"session={valid}", f"session={other}"]
        if not valid_first:
            pairs.reverse()
        sess = app.session_interface.open_session(app, request("; ".join(pairs)))
        assert sess is not None
        assert dict(sess) == ({"user": "ada"} if valid_first else {})


class TestKeyRotation:
    def test_old_key_verifies_and_new_key_signs(self) -> None:
        old_app = App(SECRET_KEY="old-key")
        old_cookie = make_cookie(old_app, {"user": "ada"})
        app = App(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["older-key", "old-key"])
        sess = open_with(app, old_cookie)
        assert dict(sess) == {"user": "ada"}
        sess["seen"] = True
        new_cookie = cookie_value(set_cookies(save(app, sess))[0])
        # Signed with the new key only: an app that knows just the new key opens it.
        assert dict(open_with(App(SECRET_KEY="new-key"), new_cookie))["user"] == "ada"
        assert dict(open_with(old_app, new_cookie)) == {}

    def test_dropping_the_fallback_invalidates_old_cookies(self) -> None:
        old_cookie = make_cookie(App(SECRET_KEY="old-key"), {"user": "ada"})
        assert dict(open_with(App(SECRET_KEY="new-key"), old_cookie)) == {}

    def test_signer_is_rebuilt_when_keys_change(self) -> None:
        app = App(SECRET_KEY="one")
        interface = app.session_interface
        assert isinstance(interface, SecureCookieSessionInterface)
        first = interface.get_signing_serializer(app)
        assert interface.get_signing_serializer(app) is first
        app.config["SECRET_KEY"] = "two"
        assert interface.get_signing_serializer(app) is not first


class TestThroughRequestContext:
    def test_untouched_session_is_never_opened_or_saved(self) -> None:
        app = App(SECRET_KEY=KEY)
        response = Response("ok")
        with RequestContext(app, request(f"session={make_cookie(app, {'a': 1})}")) as ctx:
            ctx.save_session(response)
        assert "vary" not in response.headers
        assert "set-cookie" not in response.headers

    @pytest.mark.parametrize(
        "read",
        [
            lambda: session.get("a"),
            lambda: session["a"],
            lambda: "a" in session,
            lambda: len(session),
            lambda: list(session),
            lambda: bool(session),
            lambda: session.permanent,
            lambda: session.items(),
        ],
    )
    def test_every_read_path_adds_vary_cookie(self, read: Any) -> None:
        app = App(SECRET_KEY=KEY)
        response = Response("ok")
        with RequestContext(app, request(f"session={make_cookie(app, {'a': 1})}")) as ctx:
            read()
            ctx.save_session(response)
        assert response.headers["vary"] == "Cookie"
        assert "set-cookie" not in response.headers

    def test_write_sets_the_cookie_and_null_session_is_not_saved(self) -> None:
        app = App(SECRET_KEY=KEY)
        response = Response("ok")
        with RequestContext(app, request()) as ctx:
            session["user"] = "ada"
            ctx.save_session(response)
        assert response.headers["set-cookie"].startswith("session=")
        keyless = App()
        response = Response("ok")
        with RequestContext(keyless, request()) as ctx:
            assert session.get("user") is None
            ctx.save_session(response)
        assert "set-cookie" not in response.headers
        assert "vary" not in response.headers

    def test_async_store_protocol(self) -> None:
        store: dict[str, dict[str, Any]] = {"abc": {"user": "ada"}}

        class StoreInterface(SessionInterface):
            is_async = True

            async def open_session_async(self, app: Any, request: Any) -> SessionMixin | None:
                sid = request.cookies.get("sid")
                sess = SecureCookieSession(store.get(sid, {}))
                sess.sid = sid  # type: ignore[attr-defined]
                return sess

            async def save_session_async(
                self, app: Any, session: SessionMixin, response: Response
            ) -> None:
                store[session.sid] = dict(session)  # type: ignore[attr-defined]
                if session.accessed:
                    response.headers.add_vary("Cookie")

        app = App()
        app.session_interface = StoreInterface()
        response = Response("ok")

        async def handle() -> None:
            with RequestContext(app, request("sid=abc")) as ctx:
                await ctx.open_session_async()
                await ctx.open_session_async()  # loading twice is a no-op
                session["visits"] = 1
                await ctx.save_session_async(response)

        anyio.run(handle)
        assert store["abc"] == {"user": "ada", "visits": 1}
        assert response.headers["vary"] == "Cookie"

    def test_base_interface_sync_methods_are_abstract(self) -> None:
        interface = SessionInterface()
        with pytest.raises(NotImplementedError):
            interface.open_session(App(), request())
        with pytest.raises(NotImplementedError):
            interface.save_session(App(), SecureCookieSession(), Response())
