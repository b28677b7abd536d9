"""``kettle new NAME``: a new project made from the taskboard example's skeleton.

The skeleton is ``examples/taskboard`` (shipped inside the wheel as ``kettle/_skeleton``):
the app package, renamed, plus a ``pyproject.toml``, a README and the tests from its
``project-template`` folder. Nothing is overwritten: the target folder must not exist.
"""

from __future__ import annotations

import keyword
import re
import shutil
from pathlib import Path

import click

__all__ = ["create_project", "new"]

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_SKIP = {"__pycache__", "instance", "project-template", ".gitignore"}
#: text files whose package references are rewritten (others are copied as they are)
_TEXT = {".py", ".html", ".css", ".js", ".md", ".mako", ".toml", ".txt"}


def skeleton() -> Path:
    """The skeleton's folder: inside the installed package, or the repository's example."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_skeleton", here.parent / "examples" / "taskboard"):
        if (candidate / "app.py").is_file():
            return candidate
    raise click.ClickException("this kettle installation has no project skeleton")


def create_project(name: str, parent: Path) -> Path:
    """Write the project ``name`` into ``parent / name``; its folder.

    Raises:
        click.BadParameter: ``name`` is not a lowercase project name, or its package name
            is a Python keyword.
        click.ClickException: the folder already exists.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = create_project("tea-shop", Path(tempfile.mkdtemp()))
        >>> sorted(p.name for p in folder.iterdir())
        ['.gitignore', 'README.md', 'pyproject.toml', 'tea_shop', 'tests']
    """
    if not _NAME.match(name):
        raise click.BadParameter(
            "a project name is lowercase letters, digits, '-' and '_', starting with a letter"
        )
    package = name.replace("-", "_")
    if keyword.iskeyword(package):
        raise click.BadParameter(f"{package!r} is a Python keyword")
    target = parent / name
    if target.exists():
        raise click.ClickException(f"{target} already exists: choose another name or folder")
    source = skeleton()
    prefix = package.upper() + "_"
    values = {"{name}": name, "{package}": package, "{prefix}": prefix}

    def rewrite(text: str) -> str:
        text = text.replace("examples/taskboard", package).replace("examples.taskboard", package)
        text = re.sub(r"\bfrom taskboard\b", f"from {package}", text)
        return text.replace("TASKBOARD_", prefix)

    target.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if _SKIP & set(relative.parts) or path.is_dir():
            continue
        out = target / package / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in _TEXT:
            out.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copyfile(path, out)
    templates = source / "project-template"
    for template, destination in (
        ("pyproject.toml.template", "pyproject.toml"),
        ("README.md.template", "README.md"),
        ("gitignore.template", ".gitignore"),
        ("test_app.py", "tests/test_app.py"),
    ):
        text = rewrite((templates / template).read_text(encoding="utf-8"))
        for key, value in values.items():
            text = text.replace(key, value)
        out = target / destination
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target


@click.command()
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the project's folder is made.",
)
def new(name: str, directory: Path) -> None:
    """Create the project NAME from the taskboard skeleton: pages, API, database, tests."""
    folder = create_project(name, directory)
    package = name.replace("-", "_")
    click.echo(f"Created {folder}. Next:")
    click.echo(f"  cd {folder}")
    click.echo('  python -m venv .venv && .venv/bin/pip install -e ".[dev]"')
    click.echo(f"  .venv/bin/kettle run {package}/app.py:app --reload")
