"""The signals sent around each request (kettle.requestsignals), in Flask's order, and
the contexts they come with: re-entering the current context, copying it, and
``after_this_request``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kettle import Kettle, Response, request, session
from kettle.globals import after_this_request, app_ctx, request_ctx
from kettle.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)
from kettle.testing import TestClient

SIGNALS = {
    "appcontext_pushed": appcontext_pushed,
    "request_started": request_started,
    "request_finished": request_finished,
    "request_tearing_down": request_tearing_down,
    "appcontext_tearing_down": appcontext_tearing_down,
    "appcontext_popped": appcontext_popped,
}


@pytest.fixture
def calls() -> Iterator[list[str]]:
    """Every lifecycle signal recorded by name, for the duration of a test."""
    seen: list[str] = []
    receivers = []
    for name, signal in SIGNALS.items():

        def record(sender: Any, _name: str = name, **kwargs: Any) -> None:
            seen.append(_name)

        receivers.append(record)
        signal.connect(record)
    yield seen
    for receiver, signal in zip(receivers, SIGNALS.values(), strict=True):
        signal.disconnect(receiver)


def make_app(calls: list[str]) -> Kettle:
    app = Kettle(__name__)

    @app.before_request
    def before() -> None:
        calls.append("before_request")

    @app.after_request
    def after(response: Response) -> Response:
        calls.append("after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown_request")

    @app.route("/")
    def index() -> str:
        calls.append("view")
        return "ok"

    @app.route("/boom")
    def boom() -> str:
        raise ZeroDivisionError

    return app


ORDER = [
    "appcontext_pushed",
    "request_started",
    "before_request",
    "view",
    "after_request",
    "request_finished",
    "teardown_request",
    "request_tearing_down",
    "appcontext_tearing_down",
    "appcontext_popped",
]


def test_signals_come_in_flasks_order(calls: list[str]) -> None:
    TestClient(make_app(calls)).get("/")
    assert calls == ORDER


@pytest.mark.parametrize("path", ["/missing", "/"])
def test_each_request_pushes_and_pops_its_app_context_once(calls: list[str], path: str) -> None:
    TestClient(make_app(calls)).get(path)
    assert calls.count("appcontext_pushed") == calls.count("appcontext_popped") == 1


def test_teardown_signals_carry_the_unhandled_error() -> None:
    app = make_app([])
    errors: list[Any] = []

    def record(sender: Any, exc: BaseException | None) -> None:
        errors.append(exc)

    with appcontext_tearing_down.connected_to(record, app):
        assert TestClient(app, raise_server_exceptions=False).get("/boom").status_code == 500
    assert len(errors) == 1
    assert isinstance(errors[0], ZeroDivisionError)


def test_a_request_inside_a_pushed_app_context_leaves_the_appcontext_signals_to_it(
    calls: list[str],
) -> None:
    app = make_app(calls)
    client = TestClient(app)
    with app.app_context():
        client.get("/")
        assert "appcontext_pushed" not in calls[1:]
        assert "appcontext_popped" not in calls
    assert calls.count("appcontext_pushed") == calls.count("appcontext_popped") == 1


def test_request_finished_sees_the_final_response() -> None:
    app = make_app([])
    seen: list[bytes] = []

    def record(sender: Any, response: Response) -> None:
        seen.append(response.body)

    with request_finished.connected_to(record, app):
        TestClient(app).get("/")
    assert seen == [b"ok"]


def test_after_this_request_runs_before_the_after_request_hooks() -> None:
    calls: list[str] = []
    app = make_app(calls)

    @app.route("/tagged")
    async def tagged() -> str:
        @after_this_request
        def tag(response: Response) -> Response:
            calls.append("after_this_request")
            response.headers["X-Tag"] = "seen"
            return response

        return "tagged"

    response = TestClient(app).get("/tagged")
    assert response.headers["x-tag"] == "seen"
    assert calls[-3:] == ["after_this_request", "after_request", "teardown_request"]
    assert "x-tag" not in TestClient(app).get("/").headers  # only for that request


def test_after_this_request_needs_a_request() -> None:
    with pytest.raises(RuntimeError, match="outside of request context"):
        after_this_request(lambda response: response)


def test_the_current_context_can_be_entered_again() -> None:
    app = Kettle(__name__)
    torn: list[str] = []
    app.teardown_request(lambda exc: torn.append("request"))
    app.teardown_appcontext(lambda exc: torn.append("app"))

    @app.route("/")
    def index() -> str:
        with app_ctx, request_ctx:
            assert request.path == "/"
        assert torn == []  # leaving the inner `with` tears nothing down
        return ""

    assert TestClient(app).get("/").status_code == 200
    assert torn == ["request", "app"]


def test_a_copied_context_keeps_the_request_and_session() -> None:
    app = Kettle(__name__)
    app.secret_key = "test key"
    later: list[Any] = []

    @app.route("/")
    def index() -> str:
        session["fizz"] = "buzz"
        later.append(request_ctx.copy())
        return ""

    TestClient(app).get("/?foo=bar")
    with later[0]:
        assert request.args["foo"] == "bar"
        assert session["fizz"] == "buzz"
    assert not request
