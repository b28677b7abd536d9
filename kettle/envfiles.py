"""``.env`` and ``.flaskenv``: settings files the command line reads before it loads the app.

When `python-dotenv <https://pypi.org/project/python-dotenv/>`_ is installed, ``kettle``
commands (and ``app.run()``) read ``.flaskenv`` and ``.env``, the nearest ones from the
current directory upwards, into ``os.environ``. A variable already set in the
environment is never replaced, and ``.env`` wins over ``.flaskenv`` (the first holds a
machine's own settings and secrets, the second a project's public defaults, committed).
``KETTLE_SKIP_DOTENV=1`` (or Flask's ``FLASK_SKIP_DOTENV``) turns this off. Without
python-dotenv the files are left alone, with a hint on standard error if they exist.

Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "settings.env"), "w") as f:
    ...     _ = f.write("KETTLE_DOCTEST_GREETING=hello\\n")
    >>> load_dotenv(os.path.join(folder, "settings.env"), load_defaults=False)
    True
    >>> os.environ.pop("KETTLE_DOCTEST_GREETING")
    'hello'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["DEFAULT_FILES", "load_dotenv", "skip_dotenv"]

#: the files read by default, the ones read first winning where both set a variable
DEFAULT_FILES = (".env", ".flaskenv")


def skip_dotenv() -> bool:
    """Whether the environment asks not to read the files (``KETTLE_SKIP_DOTENV``)."""
    for name in ("KETTLE_SKIP_DOTENV", "FLASK_SKIP_DOTENV"):
        if os.environ.get(name, "").lower() not in ("", "0", "false", "no"):
            return True
    return False


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Read ``path`` (when given), then the nearest ``.env`` and ``.flaskenv``, into
    ``os.environ`` without replacing what is set. Returns whether any file was read.

    A ``path`` that does not exist is an error (the user named it); the default files
    are optional. The file named first wins: ``path``, then ``.env``, then ``.flaskenv``.
    """
    try:
        import dotenv
    except ImportError:
        if path is not None or any(_nearest(name) for name in DEFAULT_FILES):
            print(
                " * Tip: there are .env files present. Install python-dotenv to use them.",
                file=sys.stderr,
            )
        return False
    files: list[Path] = []
    if path is not None:
        given = Path(path)
        if not given.is_file():
            raise FileNotFoundError(f"no such env file: {given}")
        files.append(given)
    if load_defaults:
        files += [found for name in DEFAULT_FILES if (found := _nearest(name)) is not None]
    for file in files:
        dotenv.load_dotenv(file, encoding="utf-8", override=False)
    return bool(files)


def _nearest(name: str) -> Path | None:
    """``name`` in the current directory or the closest parent holding it."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
