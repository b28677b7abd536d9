"""Finding the app an *app spec* names: what every ``kettle`` command starts with.

An app spec is:

- ``module:attr`` (``attr`` may be dotted: ``pkg.web:api.app``);
- ``module`` alone, which finds an ``app`` or ``application`` attribute, or the one
  :class:`~kettle.Kettle` instance the module defines;
- a file path instead of a module (``examples/hello/app.py:app``, ``src/pkg/web.py``).

A factory is found and called the way Flask's ``--app`` does it: ``module`` with no app
in it but a ``create_app`` (or ``make_app``) function, ``module:create_app`` naming a
function, or ``module:create_app()``; each must be callable without arguments. With
``factory=True`` (``--factory``) the spec must name such a callable.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from kettle.app import Kettle

__all__ = ["APP_NAMES", "FACTORY_NAMES", "AppLoadError", "AppSpec", "load_app", "resolve_spec"]

#: Attributes tried, in order, when a spec names only a module.
APP_NAMES = ("app", "application")
#: Callables tried, in order, when a spec names only a module and ``--factory`` is given.
FACTORY_NAMES = ("create_app", "make_app")


class AppLoadError(click.ClickException):
    """The app spec could not be turned into an app: a short message, exit status 2.

    The message is one line, except when the app's module raised something other than an
    import error: then it carries that traceback, without the CLI's own frames.
    """

    exit_code = 2


@dataclasses.dataclass(frozen=True, slots=True)
class AppSpec:
    """A parsed app spec.

    Attributes:
        text: the spec as the user wrote it (used in messages).
        module: the dotted module name to import.
        attr: the (possibly dotted) attribute, or ``None`` to search the module.
        app_dir: a directory to put first on ``sys.path`` (set for file-path specs).
        file: the file the module must be loaded from (set for file-path specs).
    """

    text: str
    module: str
    attr: str | None
    app_dir: str | None = None
    file: Path | None = None


def resolve_spec(text: str) -> AppSpec:
    """Parse ``module:attr``, ``module``, ``path/to/file.py:attr`` or ``path/to/dir``.

    A file path is turned into a module name the way Python would import it: the
    directory holding the top-most package (``__init__.py``) becomes ``app_dir``.

    Raises:
        AppLoadError: the spec is empty or names a file that does not exist.

    Example:
        >>> resolve_spec("web:api.app")
        AppSpec(text='web:api.app', module='web', attr='api.app', app_dir=None, file=None)
    """
    target, sep, attr = text.rpartition(":")
    if not sep or any(c in attr for c in "/\\"):
        # No attribute, or the colon belongs to a path (a Windows drive letter).
        target, attr = text, ""
    if not target or (sep and not attr):
        raise AppLoadError(f"invalid app spec {text!r}: expected 'module:attr'")
    if target.endswith(".py") or "/" in target or os.sep in target:
        module, app_dir, file = _module_from_path(text, Path(target))
        return AppSpec(text, module, attr or None, app_dir, file)
    return AppSpec(text, target, attr or None)


def _module_from_path(text: str, path: Path) -> tuple[str, str, Path]:
    """The module name, the directory to import it from and the file it must come from."""
    path = path.resolve()
    if not path.exists():
        raise AppLoadError(f"could not load {text!r}: no such file or directory: {path}")
    if path.is_dir():
        path = path / "__init__.py"
        if not path.is_file():
            raise AppLoadError(f"could not load {text!r}: {path.parent} is not a Python package")
    elif path.suffix != ".py":
        raise AppLoadError(f"could not load {text!r}: {path} is not a Python file")
    if path.stem == "__init__":
        directory, parts = path.parent.parent, [path.parent.name]
    else:
        directory, parts = path.parent, [path.stem]
    # Walk up through enclosing packages so relative imports inside the app keep working.
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), str(directory), path


def _put_on_path(directory: str) -> None:
    if directory not in sys.path:
        sys.path.insert(0, directory)


def _import(spec: AppSpec) -> Any:
    """Import the spec's module, turning import failures into :class:`AppLoadError`."""
    _put_on_path(os.getcwd())
    if spec.app_dir is not None:
        _put_on_path(spec.app_dir)
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and _is_parent_or_self(exc.name, spec.module):
            raise AppLoadError(
                f"could not import {spec.text!r}: no module named {exc.name!r} "
                "(searched the current directory and sys.path)"
            ) from None
        raise AppLoadError(_error_inside(spec, exc)) from None
    except (ImportError, SyntaxError) as exc:
        raise AppLoadError(_error_inside(spec, exc)) from None
    except Exception as exc:
        # A bug in the app's module: its traceback is what helps, minus our frames.
        frames = "".join(traceback.format_list(_user_frames(exc)))
        raise AppLoadError(
            f"importing {spec.text!r} failed:\nTraceback (most recent call last):\n"
            f"{frames}{type(exc).__name__}: {exc}"
        ) from None
    loaded = getattr(module, "__file__", None)
    if spec.file is not None and (loaded is None or Path(loaded).resolve() != spec.file):
        # e.g. a file called http.py: the standard library's module is already imported.
        raise AppLoadError(
            f"could not load {spec.text!r}: the module name {spec.module!r} is already taken "
            f"by {loaded or 'a built-in module'}; rename the file"
        )
    return module


def _is_parent_or_self(name: str, module: str) -> bool:
    return module == name or module.startswith(name + ".")


def _error_inside(spec: AppSpec, exc: BaseException) -> str:
    """``importing 'x' failed: <message> (file, line N)`` for an error in the user's code."""
    where, message = "", str(exc)
    if isinstance(exc, SyntaxError):
        message = exc.msg
        where = f" ({exc.filename}, line {exc.lineno})"
    else:
        frames = _user_frames(exc)
        if frames:
            where = f" ({frames[-1].filename}, line {frames[-1].lineno})"
    return f"importing {spec.text!r} failed: {type(exc).__name__}: {message}{where}"


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback of ``exc`` without the CLI's and the import system's frames."""
    skip = {__file__, importlib.__file__}
    return [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen ") and frame.filename not in skip
    ]


def _find_attr(spec: AppSpec, module: Any, factory: bool) -> str:
    """The attribute to use when the spec names only a module: an app, else a factory."""
    if not factory:
        for name in APP_NAMES:
            if hasattr(module, name):
                return name
        apps = _kettle_names(module)
        if len(apps) == 1:
            return apps[0]
        if apps:
            raise AppLoadError(
                f"{spec.module!r} defines several apps ({', '.join(apps)}): "
                f"pick one with '{spec.module}:{apps[0]}'"
            )
    for name in FACTORY_NAMES:
        if inspect.isfunction(getattr(module, name, None)):
            return name
    raise AppLoadError(
        f"could not find a Kettle app in {spec.module!r}: name it with "
        f"'{spec.module}:attr' (tried {', '.join(APP_NAMES if not factory else ())}"
        f"{', ' if not factory else ''}{', '.join(f'{n}()' for n in FACTORY_NAMES)})"
    )


def _kettle_names(module: Any) -> list[str]:
    return [name for name, value in vars(module).items() if isinstance(value, Kettle)]


def _spec_and_attr(text: str, factory: bool) -> tuple[AppSpec, str, Any]:
    spec = resolve_spec(text)
    module = _import(spec)
    attr = spec.attr or _find_attr(spec, module, factory)
    if attr.endswith(")"):
        name, _, arguments = attr.partition("(")
        if arguments.strip() != ")":
            raise AppLoadError(
                f"could not load {text!r}: an app factory is called without arguments "
                f"here ('{spec.module}:{name}()'); read settings from the environment instead"
            )
        attr = name.strip()
    obj: Any = module
    done: list[str] = []
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            owner = repr(f"{spec.module}:{'.'.join(done)}") if done else f"module {spec.module!r}"
            found = [] if done else _kettle_names(module)
            hint = f" (Kettle apps in it: {', '.join(found)})" if found else ""
            raise AppLoadError(
                f"could not load {text!r}: {owner} has no attribute {part!r}{hint}"
            ) from None
        done.append(part)
    return spec, attr, obj


def load_app(spec: str, *, factory: bool = False) -> Kettle:
    """Import the app named by ``spec`` (``module:attr``, ``module`` or ``file.py:attr``).

    Every command loads its app through this function. The current directory is put on
    ``sys.path`` first, as ``python -m`` would.

    Args:
        spec: the app spec (see the module docstring).
        factory: ``spec`` names a callable taking no arguments that returns the app.

    Raises:
        AppLoadError: the module or attribute is missing, the module failed to import, or
            the object is not a Kettle app (exit status 2, no traceback).

    Example:
        >>> app = load_app("examples/hello/app.py:app")  # doctest: +SKIP
    """
    return load_spec(spec, factory)[2]


def load_spec(text: str, factory: bool) -> tuple[AppSpec, str, Kettle, bool]:
    """Load the app ``text`` names: its parsed spec, the attribute, the app itself and
    whether the attribute is a factory (named so, or found as one)."""
    spec, attr, obj = _spec_and_attr(text, factory)
    # A function where an app was expected is a factory, as for Flask's --app.
    factory = factory or (inspect.isfunction(obj) and not isinstance(obj, Kettle))
    if factory:
        if not callable(obj):
            raise AppLoadError(f"{text!r} is not callable, so it cannot be an app factory")
        try:
            inspect.signature(obj).bind()
        except TypeError:
            raise AppLoadError(
                f"the app factory {text!r} must be callable without arguments"
            ) from None
        except ValueError:  # no signature available (some builtins): just try the call
            pass
        obj = obj()
    if not isinstance(obj, Kettle):
        what = "the app factory returned" if factory else "found"
        raise AppLoadError(
            f"{text!r} is not a Kettle app: {what} {type(obj).__name__}; "
            "serve other ASGI apps with an ASGI server directly"
        )
    return spec, attr, obj, factory
