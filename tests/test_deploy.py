"""compose.yaml (docs/deploy.md) is documentation CI cannot run: check that it parses and
that what it names -- services, environment variables, `kettle run` options, probe paths,
timings -- matches the taskboard's settings and kettle's command line."""

from __future__ import annotations

import ipaddress
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from examples.taskboard.app import create_app
from examples.taskboard.settings import Settings
from kettle.cli import run
from kettle.testing import TestClient

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
WEB = ("web1", "web2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _script(service: dict[str, Any]) -> str:
    command = service["command"]
    assert command[:2] == ["sh", "-c"]
    return str(command[2])


def _kettle_commands(service: dict[str, Any]) -> list[list[str]]:
    """Each `kettle ...` command of the service's shell script, as arguments."""
    commands = []
    for part in re.split(r"&&", _script(service)):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        if words and words[0] == "kettle":
            commands.append(words[1:])
    return commands


def _seconds(text: str) -> float:
    found = re.fullmatch(r"(\d+)s", text)
    assert found, text
    return float(found.group(1))


def test_the_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "migrate", *WEB, "proxy"}
    for name, service in compose["services"].items():
        # Public images by name only: no registry host, a tag.
        assert re.fullmatch(r"[a-z0-9]+:[\w.-]+", service["image"]), name


@pytest.mark.parametrize("name", [*WEB, "migrate"])
def test_the_environment_is_the_apps_settings(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = compose["services"][name]["environment"]
    aliases = {"DATABASE_URL", "REDIS_URL", "KETTLE_ENV"}
    for key in env:
        field = key.removeprefix("TASKBOARD_").lower()
        assert key in aliases or (key.startswith("TASKBOARD_") and field in Settings.model_fields)
    secret = "${TASKBOARD_SECRET_KEY:?set TASKBOARD_SECRET_KEY}"  # compose's interpolation
    for key, value in env.items():
        monkeypatch.setenv(key, value.replace(secret, "s"))
    settings = Settings()
    assert settings.database_url == env["DATABASE_URL"]
    assert settings.redis_url == env.get("REDIS_URL")
    assert str(settings.upload_dir) == env["TASKBOARD_UPLOAD_DIR"]

    database = urlsplit(env["DATABASE_URL"])
    postgres = compose["services"]["postgres"]["environment"]
    assert database.scheme == "postgresql+asyncpg"  # the driver the examples extra installs
    assert (database.username, database.password) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
    )
    assert (database.hostname, database.path) == ("postgres", "/" + postgres["POSTGRES_DB"])
    if "REDIS_URL" in env:
        assert urlsplit(env["REDIS_URL"]).hostname == "redis"


@pytest.mark.parametrize("name", WEB)
def test_the_kettle_run_command(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    [args] = _kettle_commands(service)
    assert args[0] == "run"
    context = run.make_context("run", args[1:])  # the options parse as kettle run's
    params = context.params
    spec = params["app_arg"].partition(":")[0]
    assert (ROOT / spec).is_file()
    assert params["workers"] == 2
    assert params["host"] == "0.0.0.0"
    # The container is stopped (SIGKILL) only after the drain and the grace period.
    grace = _seconds(service["stop_grace_period"])
    assert params["drain_delay"] + params["timeout_graceful_shutdown"] < grace
    assert service["stop_signal"] == "SIGTERM"
    # The proxy is the one trusted for forwarded headers, at its fixed address.
    proxy_address = compose["services"]["proxy"]["networks"]["board"]["ipv4_address"]
    assert params["forwarded_allow_ips"] == proxy_address
    subnet = compose["networks"]["board"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    # Behind the proxy, under the container's own healthcheck.
    assert f"server {name}:8000" in compose["configs"]["nginx"]["content"]
    assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_the_migrate_commands_exist(compose: dict[str, Any]) -> None:
    commands = _kettle_commands(compose["services"]["migrate"])
    app = create_app(Settings(database_url="sqlite+aiosqlite://", demo_data=False))
    names = set(app.cli.commands)
    assert [c[:2] for c in commands] == [["--app", "examples/taskboard/app.py:app"]] * 2
    assert {c[2] for c in commands} == {"init-db", "seed"} <= names
    for web in WEB:
        needs = compose["services"][web]["depends_on"]["migrate"]["condition"]
        assert needs == "service_completed_successfully"


def test_the_probe_the_healthcheck_asks_is_the_apps(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'board.sqlite'}",
            upload_dir=tmp_path / "uploads",
            demo_data=False,
        )
    )
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200


def test_an_unknown_option_would_be_caught() -> None:
    with pytest.raises(click.NoSuchOption):
        run.make_context("run", ["app:app", "--drain-dely", "5"])
