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
