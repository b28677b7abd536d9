"""The Flask half in real apps: Flask's test client API."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import KEY

from kettle import Kettle, session
from kettle.testing import TestClient


def client_app() -> Kettle:
    app = Kettle(__name__)
    app.config["SECRET_KEY"] = KEY

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"user": session.get("user")}

    return app


class TestFlaskTestClient:
    def test_response_api(self) -> None:
        response = client_app().test_client().get("/me")
        assert response.status_code == 200
        assert response.status == "200 OK"
        assert response.headers["content-type"] == "application/json"
        assert response.mimetype == "application/json"
        assert response.data == b'{"user":null}'
        assert response.get_data(as_text=True) == '{"user":null}'
        assert response.get_json() == {"user": None}

    def test_get_json_of_a_page(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> str:
            return "<p>hi</p>"

        response = app.test_client().get("/")
        assert response.get_json(silent=True) is None
        with pytest.raises(ValueError, match="not JSON"):
            response.get_json()

    def test_session_transaction(self) -> None:
        app = client_app()
        client = app.test_client()
        with client.session_transaction() as sess:
            assert "user" not in sess
            sess["user"] = "ada"
        assert client.get("/me").json() == {"user": "ada"}
        with client.session_transaction() as sess:
            assert sess["user"] == "ada"
            sess.clear()
        assert client.get("/me").json() == {"user": None}

    def test_session_transaction_over_https(self) -> None:
        client = TestClient(client_app(), base_url="https://testserver")
        with client.session_transaction() as sess:
            sess["user"] = "ada"
        assert client.get("/me").json() == {"user": "ada"}


def test_the_client_sets_reads_and_deletes_cookies() -> None:
    # Flask 2.3's test client API (set_cookie(key, value), get_cookie, delete_cookie).
    app = Kettle(__name__)

    @app.get("/")
    def flavour() -> dict[str, Any]:
        from kettle import request

        return {"flavour": request.cookies.get("flavour")}

    client = app.test_client()
    client.set_cookie("flavour", "oat")
    cookie = client.get_cookie("flavour")
    assert cookie is not None
    assert cookie.value == "oat"
    assert client.get("/").get_json() == {"flavour": "oat"}
    client.delete_cookie("flavour")
    assert client.get_cookie("flavour") is None
    assert client.get("/").get_json() == {"flavour": None}
