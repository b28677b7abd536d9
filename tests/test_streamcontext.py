"""stream_with_context (kettle.streamcontext): a streamed body runs with its request's
context, whether the handler returns the stream or hands it to Flask's ``Response``; and
the session settings the Flask way (refresh, lifetime, partitioned cookies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from kettle import Kettle, request, session, stream_with_context
from kettle.flask import Response as FlaskResponse
from kettle.testing import TestClient


def sync_pieces() -> Iterator[str]:
    yield "Hello "
    yield request.args["name"]
    yield session.get("mark", "!")


async def async_pieces() -> AsyncIterator[str]:
    yield "Hello "
    yield request.args["name"]
    yield session.get("mark", "!")


WRAPS: dict[str, Callable[[Any], Any]] = {
    "returned": lambda stream: stream,
    "flask Response": FlaskResponse,
}


@pytest.mark.parametrize("pieces", [sync_pieces, async_pieces])
@pytest.mark.parametrize("wrap", WRAPS.values(), ids=WRAPS.keys())
def test_the_stream_sees_request_and_session(
    pieces: Callable[[], Any], wrap: Callable[[Any], Any]
) -> None:
    app = Kettle(__name__)
    app.secret_key = "test key"

    @app.route("/")
    def index() -> Any:
        session["mark"] = "?"
        return wrap(stream_with_context(pieces()))

    response = TestClient(app).get("/?name=Ada")
    assert response.text == "Hello Ada?"
    assert response.headers["content-type"].startswith("text/html")
    assert "cookie" in response.headers["vary"].lower()


def test_the_decorated_generator_and_its_close_run_in_context() -> None:
    app = Kettle(__name__)
    closed: list[str] = []

    class Pieces:
        def __init__(self) -> None:
            self.items = iter(["a", "b"])

        def __iter__(self) -> Pieces:
            return self

        def __next__(self) -> str:
            return next(self.items)

        def close(self) -> None:
            closed.append(request.path)

    @app.route("/plain")
    def plain() -> Any:
        return FlaskResponse(stream_with_context(Pieces()))

    @app.route("/decorated")
    def decorated() -> Any:
        @stream_with_context
        def generate(first: str) -> Iterator[str]:
            yield first
            yield request.path

        return FlaskResponse(generate("at "))

    client = TestClient(app)
    assert client.get("/plain").text == "ab"
    assert closed == ["/plain"]
    assert client.get("/decorated").text == "at /decorated"


def test_flask_response_streams_an_iterator_and_keeps_its_class() -> None:
    class Custom(FlaskResponse):
        pass

    streamed = Custom(iter([b"a", "b"]), status=201, mimetype="text/plain")
    assert isinstance(streamed, Custom)
    assert streamed.streams
    assert streamed.status_code == 201
    assert streamed.get_data() == b"ab"
    assert not Custom("whole").streams


def test_stream_with_context_needs_a_context() -> None:
    with pytest.raises(RuntimeError, match="only be used while handling a request"):
        stream_with_context(iter(()))


# -- sessions, the Flask way -------------------------------------------------------------------


def session_app(**config: Any) -> Kettle:
    app = Kettle(__name__)
    app.config.update(SECRET_KEY="test key", **config)

    @app.route("/login")
    def login() -> str:
        session["user"] = 1
        session.permanent = True
        return ""

    @app.route("/logout")
    def logout() -> str:
        session.clear()
        return ""

    @app.route("/ignored")
    def ignored() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.mark.parametrize(("refresh", "renewed"), [(True, True), (False, False)])
def test_a_permanent_session_is_renewed_on_requests_that_ignore_it(
    refresh: bool, renewed: bool
) -> None:
    client = TestClient(session_app(SESSION_REFRESH_EACH_REQUEST=refresh))
    client.get("/login")
    response = client.get("/ignored")
    assert response.json() == {"ok": True}
    assert ("set-cookie" in response.headers) is renewed
    assert ("cookie" in response.headers.get("vary", "").lower()) is renewed


def test_a_request_without_cookies_opens_no_session() -> None:
    response = TestClient(session_app()).get("/ignored")
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers


def test_a_partitioned_session_cookie_is_deleted_partitioned() -> None:
    client = TestClient(
        session_app(SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SECURE=True),
        base_url="https://testserver",
    )
    assert "partitioned" in client.get("/login").headers["set-cookie"].lower()
    deleted = client.get("/logout").headers["set-cookie"].lower()
    assert deleted.startswith("session=;")
    assert "partitioned" in deleted


@pytest.mark.parametrize("value", [42, timedelta(seconds=42)])
def test_the_session_lifetime_as_seconds_or_timedelta(value: Any) -> None:
    app = session_app(PERMANENT_SESSION_LIFETIME=value)
    assert app.permanent_session_lifetime == timedelta(seconds=42)
    assert "max-age=42" in TestClient(app).get("/login").headers["set-cookie"].lower()
    app.permanent_session_lifetime = timedelta(days=1)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=1)


def test_the_app_name() -> None:
    assert Kettle("shop.views").name == "shop.views"
    assert Kettle.default_config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)


@pytest.mark.parametrize(("limit", "warned"), [(100, True), (0, False), (None, False)])
def test_flask_response_warns_of_a_cookie_over_max_cookie_size(
    limit: int | None, warned: bool, recwarn: pytest.WarningsRecorder
) -> None:
    app = Kettle(__name__)
    if limit is not None:
        app.config["MAX_COOKIE_SIZE"] = limit
    with app.app_context():
        response = FlaskResponse("")
        assert response.max_cookie_size == (4093 if limit is None else limit)
        response.set_cookie("big", "x" * 300)
    too_large = [w for w in recwarn if "cookie is too large" in str(w.message)]
    assert len(too_large) == (1 if warned else 0)
