"""app.config: defaults and Flask's loaders."""

from __future__ import annotations

import json
import sys
import tomllib
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kettle.config import DEFAULT_CONFIG, Config, import_string


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(tmp_path, DEFAULT_CONFIG)


class TestDefaults:
    def test_secure_session_defaults(self, config: Config) -> None:
        assert config["SECRET_KEY"] is None
        assert config["SESSION_COOKIE_NAME"] == "session"
        assert config["SESSION_COOKIE_HTTPONLY"] is True
        assert config["SESSION_COOKIE_SECURE"] is None  # automatic on HTTPS
        assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
        assert config["SECRET_KEY_FALLBACKS"] == []
        for key in ("DEBUG", "TESTING", "MAX_CONTENT_LENGTH", "SEND_FILE_MAX_AGE_DEFAULT"):
            assert key in config

    def test_defaults_are_copied_not_shared(self, tmp_path: Path) -> None:
        first = Config(tmp_path, DEFAULT_CONFIG)
        first["SECRET_KEY_FALLBACKS"].append("old")
        assert Config(tmp_path, DEFAULT_CONFIG)["SECRET_KEY_FALLBACKS"] == []
        assert DEFAULT_CONFIG["SECRET_KEY_FALLBACKS"] == []
        with pytest.raises(TypeError):
            DEFAULT_CONFIG["DEBUG"] = True  # type: ignore[index]

    def test_empty_without_defaults_and_repr(self) -> None:
        config = Config()
        assert config == {}
        assert config.root_path == "."
        config["A"] = 1
        assert repr(config) == "<Config {'A': 1}>"


class TestFromObject:
    def test_uppercase_attributes_only(self, config: Config) -> None:
        config.from_object(SimpleNamespace(SECRET_KEY="s", lower="no", Mixed="no", _private="no"))
        assert config["SECRET_KEY"] == "s"
        assert "lower" not in config
        assert "Mixed" not in config
        assert "_private" not in config

    def test_class_attributes_are_inherited(self, config: Config) -> None:
        class Base:
            DEBUG = False
            DB = "sqlite://"

        class Development(Base):
            DEBUG = True

        config.from_object(Development)
        assert config["DEBUG"] is True
        assert config["DB"] == "sqlite://"

    @pytest.mark.parametrize("path", ["kettle_cfg_mod.Settings", "kettle_cfg_mod:Settings"])
    def test_import_path(
        self, path: str, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "kettle_cfg_mod.py").write_text("class Settings:\n    PORT = 1\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, "kettle_cfg_mod", raising=False)
        config.from_object(path)
        assert config["PORT"] == 1

    def test_module_path(self, config: Config) -> None:
        config.from_object("json")  # a module is an object too; no uppercase names there
        assert "dumps" not in config


class TestImportString:
    @pytest.mark.parametrize(
        ("path", "error"),
        [
            ("no_such_module_xyz", "no_such_module_xyz"),
            ("no_such_module_xyz.attr", "no_such_module_xyz"),
            ("json.no_such_attribute", "no_such_attribute"),
            ("json:no_such_attribute", "no_such_attribute"),
            ("json:decoder.nope", "decoder.nope"),
        ],
    )
    def test_errors_name_what_is_missing(self, path: str, error: str) -> None:
        with pytest.raises(ImportError, match=error):
            import_string(path)

    def test_dotted_attribute_after_colon(self) -> None:
        assert import_string("json:decoder.JSONDecoder") is json.decoder.JSONDecoder


class TestFromPyfile:
    def test_relative_to_root_path(self, config: Config, tmp_path: Path) -> None:
        (tmp_path / "settings.py").write_text(
            "import os\nSECRET_KEY = 'from-file'\nhelper = 1\nHERE = __file__\n"
        )
        assert config.from_pyfile("settings.py") is True
        assert config["SECRET_KEY"] == "from-file"
        assert "helper" not in config
        assert config["HERE"] == str(tmp_path / "settings.py")

    def test_missing_file(self, config: Config) -> None:
        assert config.from_pyfile("missing.py", silent=True) is False
        with pytest.raises(OSError, match="Unable to load configuration file"):
            config.from_pyfile("missing.py")

    def test_errors_in_the_file_propagate(self, config: Config, tmp_path: Path) -> None:
        (tmp_path / "bad.py").write_text("SECRET_KEY = 1 / 0\n")
        with pytest.raises(ZeroDivisionError):
            config.from_pyfile("bad.py", silent=True)


class TestFromEnvvar:
    def test_loads_the_named_file(
        self, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "prod.py").write_text("DEBUG = False\nNAME = 'prod'\n")
        monkeypatch.setenv("KETTLE_TEST_SETTINGS", str(tmp_path / "prod.py"))
        assert config.from_envvar("KETTLE_TEST_SETTINGS") is True
        assert config["NAME"] == "prod"

    def test_unset_variable(self, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("KETTLE_TEST_SETTINGS", raising=False)
        assert config.from_envvar("KETTLE_TEST_SETTINGS", silent=True) is False
        with pytest.raises(RuntimeError, match="KETTLE_TEST_SETTINGS"):
            config.from_envvar("KETTLE_TEST_SETTINGS")


class TestFromFile:
    def test_json(self, config: Config, tmp_path: Path) -> None:
        (tmp_path / "c.json").write_text('{"DEBUG": true, "lower": 1, "PORT": 8000}')
        assert config.from_file("c.json", load=json.load) is True
        assert config["DEBUG"] is True
        assert config["PORT"] == 8000
        assert "lower" not in config

    def test_toml_in_binary_mode(self, config: Config, tmp_path: Path) -> None:
        (tmp_path / "c.toml").write_text('SECRET_KEY = "t"\n[DB]\nHOST = "x"\n')
        assert config.from_file("c.toml", load=tomllib.load, text=False) is True
        assert config["SECRET_KEY"] == "t"
        assert config["DB"] == {"HOST": "x"}

    def test_absolute_path_and_missing(self, config: Config, tmp_path: Path) -> None:
        absolute = tmp_path / "sub" / "c.json"
        absolute.parent.mkdir()
        absolute.write_text('{"A": 1}')
        assert config.from_file(str(absolute), load=json.load)
        assert config.from_file("nope.json", load=json.load, silent=True) is False
        with pytest.raises(OSError, match="Unable to load configuration file"):
            config.from_file("nope.json", load=json.load)


class TestFromMapping:
    def test_mapping_and_keywords(self, config: Config) -> None:
        assert config.from_mapping({"A": 1, "b": 2}, C=3, d=4) is True
        assert config["A"] == 1
        assert config["C"] == 3
        assert "b" not in config
        assert "d" not in config
        assert config.from_mapping() is True


class TestFromPrefixedEnv:
    @pytest.mark.parametrize(
        ("raw", "value"),
        [
            ("8080", 8080),
            ("1.5", 1.5),
            ("true", True),
            ("null", None),
            ('["a", "b"]', ["a", "b"]),
            ('{"x": 1}', {"x": 1}),
            ("plain words", "plain words"),
            ("/var/lib/app", "/var/lib/app"),
            ("", ""),
        ],
    )
    def test_values_are_json_when_possible(
        self, raw: str, value: Any, config: Config, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KETTLE_VALUE", raw)
        assert config.from_prefixed_env() is True
        assert config["VALUE"] == value

    def test_prefix_and_nesting(self, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MYAPP_SECRET_KEY", "env-secret")
        monkeypatch.setenv("MYAPP_DB__HOST", "db.local")
        monkeypatch.setenv("MYAPP_DB__PORT", "5432")
        monkeypatch.setenv("MYAPP_A__B__C", "deep")
        monkeypatch.setenv("OTHER_SECRET_KEY", "ignored")
        config["A"] = "not a dict"  # replaced by the nested value
        config.from_prefixed_env("MYAPP")
        assert config["SECRET_KEY"] == "env-secret"
        assert config["DB"] == {"HOST": "db.local", "PORT": 5432}
        assert config["A"] == {"B": {"C": "deep"}}

    def test_nested_into_existing_dict(
        self, config: Config, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        config["DB"] = {"USER": "app"}
        monkeypatch.setenv("KETTLE_DB__HOST", "h")
        config.from_prefixed_env()
        assert config["DB"] == {"USER": "app", "HOST": "h"}

    def test_custom_loads(self, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KETTLE_N", "5")
        config.from_prefixed_env(loads=str.upper)
        assert config["N"] == "5"


class TestGetNamespace:
    def test_options(self, config: Config) -> None:
        config.from_mapping(IMAGE_PATH="/img", IMAGE_TYPE="fs", OTHER=1)
        assert config.get_namespace("IMAGE_") == {"path": "/img", "type": "fs"}
        assert config.get_namespace("IMAGE_", lowercase=False) == {"PATH": "/img", "TYPE": "fs"}
        assert config.get_namespace("IMAGE_", trim_namespace=False) == {
            "image_path": "/img",
            "image_type": "fs",
        }
