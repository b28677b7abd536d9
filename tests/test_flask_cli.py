"""The Flask half in real apps: the app's own ``@app.cli`` commands."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write

from kettle.cli import cli


@pytest.fixture
def cli_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module with an app and its commands, importable as ``shopcli``."""
    write(
        tmp_path / "shopcli.py",
        textwrap.dedent(
            """
            import click
            from kettle import Kettle, current_app, g, url_for

            app = Kettle(__name__)
            app.config.update(GREETING="hello", SERVER_NAME="shop.example")

            @app.get("/items/<int:item_id>")
            def item(item_id: int) -> str:
                return str(item_id)

            @app.cli.command()
            @click.argument("name")
            @click.option("--loud", is_flag=True)
            def greet(name, loud):
                \"\"\"Greet someone.\"\"\"
                g.name = name
                text = f"{current_app.config['GREETING']} {g.name}: {url_for('item', item_id=1)}"
                click.echo(text.upper() if loud else text)

            @app.cli.group()
            def db():
                \"\"\"Database commands.\"\"\"

            @db.command("init")
            def init_db():
                click.echo(f"init {current_app.import_name}")
            """
        ),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KETTLE_APP", raising=False)
    path = sys.path[:]
    yield "shopcli:app"
    sys.path[:] = path
    sys.modules.pop("shopcli", None)


class TestAppCommands:
    @pytest.mark.parametrize(
        ("args", "output"),
        [
            (["greet", "ada"], "hello ada: http://shop.example/items/1\n"),
            (["greet", "ada", "--loud"], "HELLO ADA: HTTP://SHOP.EXAMPLE/ITEMS/1\n"),
            (["db", "init"], "init shopcli\n"),
        ],
    )
    def test_run_in_an_app_context(self, cli_module: str, args: list[str], output: str) -> None:
        result = CliRunner().invoke(cli, ["--app", cli_module, *args])
        assert result.exit_code == 0, result.output
        assert result.output == output

    def test_through_the_environment(self, cli_module: str) -> None:
        result = CliRunner().invoke(cli, ["greet", "bob"], env={"KETTLE_APP": cli_module})
        assert result.exit_code == 0, result.output
        assert result.output.startswith("hello bob")

    def test_listed_in_help(self, cli_module: str) -> None:
        result = CliRunner().invoke(cli, ["--app", cli_module, "--help"])
        assert "greet" in result.output
        assert "db" in result.output


class TestEnvFiles:
    """``.env`` and ``.flaskenv`` are read before the app is named (python-dotenv)."""

    @pytest.fixture(autouse=True)
    def own_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import os

        # the files write to os.environ: give each test a copy to write to
        monkeypatch.setattr(os, "environ", dict(os.environ))
        for name in ("KETTLE_SKIP_DOTENV", "FLASK_SKIP_DOTENV", "SHOP_NOTE"):
            monkeypatch.delenv(name, raising=False)

    @pytest.mark.parametrize(
        ("files", "expected"),
        [
            ({".flaskenv": "SHOP_NOTE=from flaskenv\n"}, "from flaskenv"),
            ({".env": "SHOP_NOTE=from env\n"}, "from env"),
            ({".env": "SHOP_NOTE=env\n", ".flaskenv": "SHOP_NOTE=flaskenv\n"}, "env"),
        ],
    )
    def test_the_files_name_the_app_and_set_variables(
        self, cli_module: str, tmp_path: Path, files: dict[str, str], expected: str
    ) -> None:
        import os

        for name, text in files.items():
            text += f"KETTLE_APP={cli_module}\n"
            write(tmp_path / name, text)
        result = CliRunner().invoke(cli, ["greet", "ada"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("hello ada")
        assert os.environ["SHOP_NOTE"] == expected

    def test_the_environment_wins_over_the_files(self, cli_module: str, tmp_path: Path) -> None:
        import os

        write(tmp_path / ".env", f"KETTLE_APP={cli_module}\nSHOP_NOTE=file\n")
        os.environ["SHOP_NOTE"] = "shell"
        assert CliRunner().invoke(cli, ["greet", "ada"]).exit_code == 0
        assert os.environ["SHOP_NOTE"] == "shell"

    @pytest.mark.parametrize("variable", ["KETTLE_SKIP_DOTENV", "FLASK_SKIP_DOTENV"])
    def test_skipping_the_files(self, cli_module: str, tmp_path: Path, variable: str) -> None:
        import os

        write(tmp_path / ".env", f"KETTLE_APP={cli_module}\n")
        os.environ[variable] = "1"
        result = CliRunner().invoke(cli, ["greet", "ada"])
        assert result.exit_code != 0
        assert "KETTLE_APP" not in os.environ

    def test_env_file_option_is_read_first(self, cli_module: str, tmp_path: Path) -> None:
        import os

        write(tmp_path / "staging.env", f"KETTLE_APP={cli_module}\nSHOP_NOTE=staging\n")
        write(tmp_path / ".env", "SHOP_NOTE=default\n")
        result = CliRunner().invoke(cli, ["-e", "staging.env", "greet", "ada"])
        assert result.exit_code == 0, result.output
        assert os.environ["SHOP_NOTE"] == "staging"

    def test_a_missing_env_file_is_a_usage_error(self, cli_module: str) -> None:
        result = CliRunner().invoke(cli, ["--env-file", "nowhere.env", "routes"])
        assert result.exit_code == 2
        assert "nowhere.env" in result.output


@pytest.fixture
def plain_commands_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """flaskr's layout: plain click commands added to ``app.cli``, one decorated."""
    write(
        tmp_path / "plaincli.py",
        textwrap.dedent(
            """
            import click
            from kettle import Kettle, current_app
            from kettle.commands import with_appcontext

            app = Kettle(__name__)

            @click.command("init-db")
            def init_db_command():
                click.echo(f"init {current_app.import_name}")

            @click.command("seed")
            @with_appcontext
            def seed_command():
                click.echo(f"seed {current_app.import_name}")

            app.cli.add_command(init_db_command)
            app.cli.add_command(seed_command)
            """
        ),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KETTLE_APP", raising=False)
    path = sys.path[:]
    yield "plaincli:app"
    sys.path[:] = path
    sys.modules.pop("plaincli", None)


@pytest.mark.parametrize("command", ["init-db", "seed"])
def test_plain_commands_added_to_the_app_run_in_its_context(
    plain_commands_module: str, command: str
) -> None:
    result = CliRunner().invoke(cli, ["--app", plain_commands_module, command])
    assert result.exit_code == 0, result.output
    assert result.output == f"{command.split('-')[0]} plaincli\n"


def test_with_appcontext_finds_the_app_of_the_test_runner(
    plain_commands_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    import plaincli  # type: ignore[import-not-found]

    result = plaincli.app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert result.output == "seed plaincli\n"


def test_shell_starts_in_the_app_context_with_its_shell_context(
    cli_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    import shopcli  # type: ignore[import-not-found]

    startup = tmp_path / "startup.py"
    startup.write_text("greeting = 'from startup'\n")
    monkeypatch.setenv("PYTHONSTARTUP", str(startup))
    app = shopcli.app

    @app.shell_context_processor
    def extra() -> dict[str, int]:
        return {"answer": 42}

    lines = "print(answer, greeting, app.import_name)\n"
    lines += "from kettle import current_app; print(current_app.config['GREETING'])\n"
    result = CliRunner().invoke(cli, ["--app", cli_module, "shell"], input=lines)
    assert result.exit_code == 0, result.output
    assert "42 from startup shopcli" in result.output
    assert "hello" in result.output  # current_app works: the app context is pushed
