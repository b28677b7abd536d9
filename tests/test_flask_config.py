"""The Flask half in real apps: configuration loaders and defaults driving the app."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import cookie_value, unsign, write

from kettle import Kettle, current_app, session
from kettle.testing import TestClient


class TestConfig:
    def test_loaders_feed_the_app(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        write(tmp_path / "settings.py", "SESSION_COOKIE_NAME = 'from_pyfile'\nlower = 1\n")
        write(tmp_path / "settings.json", '{"SESSION_COOKIE_SAMESITE": "Strict"}')
        write(tmp_path / "settings.toml", 'SEND_FILE_MAX_AGE_DEFAULT = 60\nSITE = "toml"\n')
        write(tmp_path / "static" / "a.css", "a")

        class Defaults:
            SITE = "object"
            PERMANENT_SESSION_LIFETIME = timedelta(minutes=5)

        monkeypatch.setenv("SHOP_SECRET_KEY", "from-env")
        monkeypatch.setenv("SHOP_FEATURES__SEARCH", "true")
        app = Kettle(__name__, root_path=str(tmp_path))
        app.config.from_object(Defaults)
        assert app.config.from_pyfile("settings.py")
        assert app.config.from_file("settings.json", load=json.load)
        import tomllib

        assert app.config.from_file("settings.toml", load=tomllib.load, text=False)
        assert app.config.from_prefixed_env("SHOP")
        app.config.from_mapping({"GREETING": "hi"}, lower_is_skipped=1)

        @app.post("/in")
        def sign_in() -> dict[str, Any]:
            session.permanent = True
            session["user"] = "ada"
            return {
                "site": current_app.config["SITE"],
                "greeting": current_app.config["GREETING"],
                "search": current_app.config["FEATURES"]["SEARCH"],
                "lower": "lower" in current_app.config,
            }

        client = TestClient(app)
        response = client.post("/in")
        assert response.json() == {"site": "toml", "greeting": "hi", "search": True, "lower": False}
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("from_pyfile=")
        assert "SameSite=Strict" in cookie
        assert "Max-Age=300" in cookie
        assert unsign(app, cookie_value(cookie)) == {"_permanent": True, "user": "ada"}
        assert app.secret_key == "from-env"
        assert client.get("/static/a.css").headers["cache-control"] == "public, max-age=60"

    def test_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("KETTLE_DEBUG", raising=False)
        app = Kettle(__name__)
        assert (app.debug, app.testing, app.secret_key) == (False, False, None)
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["SESSION_COOKIE_SECURE"] is None
        assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
        assert app.config["SECRET_KEY_FALLBACKS"] == []
        other = Kettle(__name__)
        other.config["SECRET_KEY_FALLBACKS"].append("x")
        assert app.config["SECRET_KEY_FALLBACKS"] == []  # not shared between apps
