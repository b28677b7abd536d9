"""Flask's error trapping and handler rules, through the test client."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle
from kettle.exceptions import BadRequest, BadRequestKeyError, HTTPException, NotFound, abort
from kettle.flask import request
from kettle.helpers import make_response


def _app(**config: Any) -> Kettle:
    app = Kettle(__name__)
    app.config.update(config)

    @app.route("/key")
    def key() -> str:
        return str(request.form["secret_field"])

    @app.route("/abort")
    def aborted() -> str:
        abort(400)

    @app.route("/missing")
    def missing() -> str:
        abort(404)

    return app


@pytest.mark.parametrize(
    ("config", "raised"),
    [
        ({}, None),
        ({"DEBUG": True, "TESTING": True}, BadRequestKeyError),
        ({"TRAP_BAD_REQUEST_ERRORS": True, "TESTING": True}, BadRequestKeyError),
        ({"TRAP_HTTP_EXCEPTIONS": True, "TESTING": True}, BadRequestKeyError),
    ],
)
def test_a_missing_form_key_is_a_400_that_hides_the_key_unless_trapped(
    config: dict[str, Any], raised: type[BaseException] | None
) -> None:
    client = _app(**config).test_client()
    if raised is None:
        response = client.get("/key")
        assert response.status_code == 400
        assert b"secret_field" not in response.data
    else:
        with pytest.raises(raised) as trapped:
            client.get("/key")
        assert isinstance(trapped.value, BadRequestKeyError)
        assert "secret_field" in trapped.value.get_description()


@pytest.mark.parametrize(
    ("config", "path", "raised"),
    [
        ({"TRAP_BAD_REQUEST_ERRORS": True, "TESTING": True}, "/abort", BadRequest),
        ({"TRAP_HTTP_EXCEPTIONS": True, "TESTING": True}, "/missing", NotFound),
    ],
)
def test_trapped_http_errors_are_raised_in_the_test(
    config: dict[str, Any], path: str, raised: type[BaseException]
) -> None:
    with pytest.raises(raised):
        _app(**config).test_client().get(path)


@pytest.mark.parametrize("path", ["/missing", "/not-routed"])
def test_an_exception_handler_answers_http_errors_as_what_they_are(path: str) -> None:
    app = _app()

    @app.errorhandler(Exception)
    def handle(exc: Exception) -> str:
        return f"{type(exc).__name__} {isinstance(exc, NotFound)}"

    assert app.test_client().get(path).data == b"NotFound True"


@pytest.mark.parametrize(
    ("key", "error", "words"),
    [
        (KeyError(), TypeError, "is an instance, not a class"),
        (list, ValueError, "'list' is not a subclass of Exception"),
        (999, ValueError, "Use a subclass of HTTPException"),
        ("404", TypeError, "neither an exception class nor a status code"),
    ],
)
def test_an_error_handler_key_that_cannot_match_is_refused(
    key: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        Kettle(__name__).register_error_handler(key, str)


@pytest.mark.parametrize("args", [(), ("hi",), ("gone", 404)])
def test_make_response_makes_html_pages(args: tuple[Any, ...]) -> None:
    assert make_response(*args).mimetype == "text/html"


def test_http_exception_handler_keeps_its_place() -> None:
    app = _app()

    @app.errorhandler(HTTPException)
    def handle(exc: HTTPException) -> tuple[str, int]:
        return f"http {exc.code}", exc.code

    response = app.test_client().get("/missing")
    assert (response.status_code, response.data) == (404, b"http 404")
