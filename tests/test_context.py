"""The per-request context (kettle/context.py): built lazily, and sealed once the response
has started, so a session read inside a streamed body is visible to caches (``Vary:
Cookie``) and a session write there fails loudly instead of being dropped (the class of
Flask's CVE-2023-30861)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from kettle import Kettle, StreamingResponse, session, stream_with_context
from kettle.context import RequestContext, SealedSession, request_class
from kettle.requests import Request
from kettle.templating import stream_template_string
from kettle.testing import TestClient


def make_app(secret: str | None = "a-long-random-secret") -> Kettle:
    app = Kettle(__name__)
    if secret:
        app.secret_key = secret

    @app.get("/login")
    def login() -> str:
        session["user"] = "ada"
        return "in"

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def body() -> Iterator[str]:
            yield "hello "
            yield str(session.get("user"))

        return StreamingResponse(stream_with_context(body()), media_type="text/plain")

    @app.get("/stream-async")
    async def stream_async() -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            yield "hello "
            yield str(session.get("user"))

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/template")
    def template() -> StreamingResponse:
        page = stream_template_string("hello {{ session.get('user') }}")
        return StreamingResponse(stream_with_context(page), media_type="text/html")

    @app.get("/write-in-stream")
    async def write_in_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            yield "a"
            session["late"] = True
            yield "b"

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/write-then-stream")
    async def write_then_stream() -> StreamingResponse:
        session["early"] = True

        async def body() -> AsyncIterator[str]:
            yield str(session["early"])

        return StreamingResponse(body(), media_type="text/plain")

    @app.get("/plain-stream")
    async def plain_stream() -> StreamingResponse:
        async def body() -> AsyncIterator[str]:
            yield "no session here"

        return StreamingResponse(body(), media_type="text/plain")

    return app


@pytest.mark.parametrize("path", ["/stream", "/stream-async", "/template"])
def test_a_session_read_while_streaming_is_visible_to_caches(path: str) -> None:
    client = TestClient(make_app())
    client.get("/login")
    response = client.get(path)
    assert response.text == "hello ada"
    assert "Cookie" in response.headers["vary"]


def test_every_streamed_response_varies_on_the_cookie_when_sessions_are_on() -> None:
    # The headers leave before the body runs: kettle cannot know whether it will look.
    response = TestClient(make_app()).get("/plain-stream")
    assert "Cookie" in response.headers["vary"]


def test_without_a_secret_key_streams_do_not_vary() -> None:
    response = TestClient(make_app(secret=None)).get("/plain-stream")
    assert "vary" not in response.headers


def test_a_session_write_while_streaming_fails_loudly() -> None:
    client = TestClient(make_app())
    client.get("/login")
    with pytest.raises(RuntimeError, match="cannot change once the response has started"):
        client.get("/write-in-stream")


def test_a_session_write_before_streaming_is_saved() -> None:
    client = TestClient(make_app())
    response = client.get("/write-then-stream")
    assert response.text == "True"
    assert "session=" in response.headers["set-cookie"]


def test_non_streamed_responses_stay_cacheable() -> None:
    app = make_app()

    @app.get("/static-page")
    def page() -> str:
        return "same for everyone"

    assert "vary" not in TestClient(app).get("/static-page").headers


class TestSealedSession:
    @pytest.mark.parametrize(
        "change",
        [
            lambda s: s.__setitem__("k", 1),
            lambda s: s.__delitem__("user"),
            lambda s: s.pop("user"),
            lambda s: s.popitem(),
            lambda s: s.setdefault("k", 1),
            lambda s: s.update(k=1),
            lambda s: s.clear(),
        ],
    )
    def test_every_change_raises(self, change: Any) -> None:
        sealed = SealedSession({"user": "ada"})
        with pytest.raises(RuntimeError, match="already sent"):
            change(sealed)
        assert dict(sealed) == {"user": "ada"}

    def test_reads_work(self) -> None:
        sealed = SealedSession({"user": "ada"})
        assert (sealed["user"], sealed.get("x", 1), "user" in sealed) == ("ada", 1, True)


class TestRequestContext:
    def scope(self) -> dict[str, Any]:
        return {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

    def test_dispatch_context_builds_nothing_up_front(self) -> None:
        app = make_app()
        ctx = RequestContext.for_dispatch(app, None, request_class(app))(self.scope(), None)  # type: ignore[arg-type]
        assert ctx.created_request is None
        assert ctx.uploads is None
        assert not ctx.session_opened
        assert ctx.request.path == "/"
        assert ctx.created_request is ctx.request

    def test_session_after_sealing_is_read_only(self) -> None:
        app = make_app()
        ctx = RequestContext(app, Request(self.scope()))
        ctx.session["user"] = "ada"
        ctx.sealed = True
        assert ctx.session["user"] == "ada"
        with pytest.raises(RuntimeError):
            ctx.session["user"] = "eve"
