"""A WSGI app mounted in a kettle app through ``WSGIMiddleware``, as a user would."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from kettle import Kettle
from kettle.fastapi.middleware.wsgi import WSGIMiddleware
from kettle.testing import TestClient


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Seen", "yes")])
    keys = ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "HTTP_X_USER", "REQUEST_METHOD")
    return [" ".join(str(environ.get(k)) for k in keys).encode(), b"|", body]


def make(wsgi: Any, **options: Any) -> TestClient:
    app = Kettle(__name__)
    app.mount("/old", WSGIMiddleware(wsgi, **options))
    return TestClient(app, raise_server_exceptions=False)


def test_a_request_reaches_the_wsgi_app() -> None:
    response = make(echo).post("/old/a/b?x=1", content=b"payload", headers={"x-user": "ann"})
    assert response.status_code == 201
    assert response.headers["x-seen"] == "yes"
    assert response.text == "/old /a/b x=1 ann POST|payload"


def test_an_underscore_header_does_not_pass_for_a_dashed_one() -> None:
    response = make(echo).get("/old/", headers={"x_user": "mallory"})
    assert " None " in response.text


@pytest.mark.parametrize("sent", [b"x" * 11, None])
def test_a_body_past_the_limit_is_a_413(sent: bytes | None) -> None:
    client = make(echo, max_body_size=10)
    if sent is None:  # announced too large: refused before reading
        response = client.post("/old/", content=b"x" * 20)
    else:
        response = client.post("/old/", content=sent)
    assert response.status_code == 413


def split(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: b")])
    return [b"no"]


def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    raise RuntimeError("boom")


@pytest.mark.parametrize("wsgi", [split, broken])
def test_a_failing_wsgi_app_is_a_500(wsgi: Any) -> None:
    response = make(wsgi).get("/old/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert "set-cookie" not in response.headers


def test_a_streamed_answer_is_sent_in_pieces() -> None:
    def stream(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [])
        yield b"one,"
        yield b""
        yield b"two"

    assert make(stream).get("/old/").text == "one,two"
