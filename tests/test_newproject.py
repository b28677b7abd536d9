"""``kettle new NAME``: a project from the taskboard skeleton, whose own tests pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kettle.cli import cli
from kettle.newproject import create_project


def test_new_makes_a_project_whose_tests_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new", "tea-shop", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "tea-shop"
    assert "kettle run tea_shop/app.py:app" in result.output
    assert (folder / "tea_shop" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert not (folder / "tea_shop" / "project-template").exists()
    assert 'name = "tea-shop"' in (folder / "pyproject.toml").read_text()
    settings = (folder / "tea_shop" / "settings.py").read_text()
    assert 'env_prefix="TEA_SHOP_"' in settings
    sources = "".join(p.read_text() for p in folder.rglob("*.py"))
    assert "examples" not in sources
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKBOARD_", "TEA_SHOP_"))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


@pytest.mark.parametrize(
    ("name", "message"),
    [("Tea", "lowercase"), ("1tea", "lowercase"), ("tea/../x", "lowercase"), ("class", "keyword")],
)
def test_bad_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["new", name, "--directory", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "tea").mkdir()
    (tmp_path / "tea" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new", "tea", "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (tmp_path / "tea" / "keep.txt").read_text() == "mine"
    with pytest.raises(Exception, match="already exists"):
        create_project("tea", tmp_path)
