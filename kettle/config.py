"""``app.config``: a dict of settings with Flask's loaders.

Only UPPERCASE keys are taken from objects, files and mappings, so a config module can
use lowercase names for its own helpers. Relative file names are resolved against the
``root_path`` given to :class:`Config` (the app's folder).
"""

from __future__ import annotations

import copy
import errno
import functools
import importlib
import json
import os
import types
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import IO, Any, ClassVar, Generic, TypeVar, overload

from kettle.responses import Response

T = TypeVar("T")

__all__ = [
    "DEFAULT_CONFIG",
    "Config",
    "ConfigAttribute",
    "FlaskAppSettings",
    "app_name",
    "as_timedelta",
    "get_debug_flag",
    "import_string",
]

#: Flask's defaults, with kettle's secure choices where they differ: the session cookie
#: is ``SameSite=Lax`` and ``Secure`` follows the request's scheme (``None``) instead of
#: being off. ``Config(root_path, DEFAULT_CONFIG)`` copies it, so apps never share the
#: lists inside.
DEFAULT_CONFIG: Mapping[str, Any] = types.MappingProxyType(
    {
        "DEBUG": False,
        "TESTING": False,
        "PROPAGATE_EXCEPTIONS": None,
        "SECRET_KEY": None,
        # Old keys that still verify signed cookies after SECRET_KEY changed, newest first.
        "SECRET_KEY_FALLBACKS": [],
        "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
        "SERVER_NAME": None,
        "APPLICATION_ROOT": "/",
        "PREFERRED_URL_SCHEME": "http",
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "SESSION_COOKIE_HTTPONLY": True,
        # None: Secure exactly when the request came over HTTPS.
        "SESSION_COOKIE_SECURE": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PARTITIONED": False,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_CONTENT_LENGTH": None,
        "MAX_COOKIE_SIZE": 4093,
        "SEND_FILE_MAX_AGE_DEFAULT": None,
        "TEMPLATES_AUTO_RELOAD": None,
        "EXPLAIN_TEMPLATE_LOADING": False,
        "TRAP_HTTP_EXCEPTIONS": False,
        "JSON_SORT_KEYS": False,
    }
)


class Config(dict[str, Any]):
    """Settings, loaded from objects, Python files, data files, mappings or the environment.

    Args:
        root_path: folder that relative file names are resolved against.
        defaults: initial values (copied, so nested lists are not shared).

    Example:
        >>> from kettle.config import Config, DEFAULT_CONFIG
        >>> config = Config(".", DEFAULT_CONFIG)
        >>> config.from_mapping({"SECRET_KEY": "dev", "ignored": 1})
        True
        >>> config["SECRET_KEY"], "ignored" in config, config["SESSION_COOKIE_SAMESITE"]
        ('dev', False, 'Lax')
    """

    def __init__(
        self, root_path: str | os.PathLike[str] = ".", defaults: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(copy.deepcopy(dict(defaults)) if defaults else {})
        self.root_path = os.fspath(root_path)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by environment variable ``variable_name``.

        Returns False (with ``silent=True``) or raises ``RuntimeError`` when it is unset.
        """
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set, and as such "
                "configuration could not be loaded. Set it to the path of a configuration "
                "file."
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str | None = None, *, loads: Callable[[str], Any] = json.loads
    ) -> bool:
        """Load every environment variable named ``{prefix}_KEY``.

        Without a ``prefix``, both ``FLASK_KEY`` (so a Flask app's environment keeps
        working) and ``KETTLE_KEY`` are read, the ``KETTLE_`` value winning.

        Values are parsed with ``loads`` (JSON: ``"5"`` → 5, ``"true"`` → True,
        ``'["a"]'`` → a list) and kept as strings when that fails. A double underscore
        sets a nested key: ``KETTLE_DB__HOST`` → ``config["DB"]["HOST"]``.

        Example:
            >>> import os
            >>> from kettle.config import Config
            >>> os.environ.update({"DEMO_PORT": "8080", "DEMO_DB__HOST": "db.local"})
            >>> config = Config()
            >>> config.from_prefixed_env("DEMO")
            True
            >>> config["PORT"], config["DB"]
            (8080, {'HOST': 'db.local'})
            >>> for name in ("DEMO_PORT", "DEMO_DB__HOST"):
            ...     del os.environ[name]
        """
        for each in ("FLASK", "KETTLE") if prefix is None else (prefix,):
            self._load_prefixed(f"{each}_", loads)
        return True

    def _load_prefixed(self, start: str, loads: Callable[[str], Any]) -> None:
        for name in sorted(os.environ):
            if not name.startswith(start):
                continue
            raw = os.environ[name]
            key = name[len(start) :]
            try:
                value = loads(raw)
            except Exception:
                # Not JSON (a bare word, a path): the string itself is the value.
                value = raw
            if "__" not in key:
                self[key] = value
                continue
            *parents, last = key.split("__")
            target: dict[str, Any] = self
            for part in parents:
                child = target.get(part)
                if not isinstance(child, dict):
                    child = target[part] = {}
                target = child
            target[last] = value

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Run a Python file and load its UPPERCASE names.

        Returns False when the file is missing and ``silent`` is true.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, "rb") as file:
                source = file.read()
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        exec(compile(source, path, "exec"), module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of ``obj`` (an object, or an import path to one).

        Example:
            >>> from kettle.config import Config
            >>> class Defaults:
            ...     DEBUG = True
            ...     helper = "not loaded"
            >>> config = Config()
            >>> config.from_object(Defaults)
            >>> config
            <Config {'DEBUG': True}>
        """
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` (``json.load``, or ``tomllib.load`` with ``text=False``).

        Example:
            >>> import json, pathlib, tempfile
            >>> from kettle.config import Config
            >>> folder = pathlib.Path(tempfile.mkdtemp())
            >>> _ = (folder / "config.json").write_text('{"DEBUG": true}')
            >>> config = Config(folder)
            >>> config.from_file("config.json", load=json.load)
            True
            >>> config["DEBUG"]
            True
        """
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb", encoding="utf-8" if text else None) as file:
                data = load(file)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        return self.from_mapping(data)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the UPPERCASE keys of ``mapping`` and of the keyword arguments."""
        values: dict[str, Any] = {}
        if mapping is not None:
            values.update(mapping)
        values.update(kwargs)
        for key, value in values.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, Any]:
        """The settings whose names start with ``namespace``, as keyword arguments.

        Example:
            >>> from kettle.config import Config
            >>> config = Config()
            >>> config.from_mapping(IMAGE_STORE_PATH="/var/images", IMAGE_STORE_TYPE="fs")
            True
            >>> config.get_namespace("IMAGE_STORE_")
            {'path': '/var/images', 'type': 'fs'}
        """
        found: dict[str, Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


class ConfigAttribute(Generic[T]):
    """An app attribute that reads and writes one config key (Flask's ``ConfigAttribute``).

    Args:
        key: the config key.
        get_converter: turns the stored value into what the attribute gives.

    Example:
        >>> from kettle.config import Config, ConfigAttribute, as_timedelta
        >>> class App:
        ...     config = Config()
        ...     lifetime = ConfigAttribute("LIFETIME", get_converter=as_timedelta)
        >>> app = App()
        >>> app.lifetime = 90
        >>> app.config["LIFETIME"], app.lifetime.seconds
        (90, 90)
    """

    def __init__(self, key: str, get_converter: Callable[[Any], T] | None = None) -> None:
        self.key = key
        self.get_converter = get_converter

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> ConfigAttribute[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.config[self.key]  # type: ignore[attr-defined]
        return value if self.get_converter is None else self.get_converter(value)

    def __set__(self, obj: object, value: Any) -> None:
        obj.config[self.key] = value  # type: ignore[attr-defined]


def as_timedelta(value: timedelta | float) -> timedelta:
    """A duration given as a ``timedelta`` or as seconds, as a ``timedelta``.

    Example:
        >>> as_timedelta(42).seconds, as_timedelta(timedelta(days=1)).days
        (42, 1)
    """
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=float(value))


def app_name(app: Any) -> str:
    """Flask's ``app.name``: the import name, or for ``"__main__"`` the file name of the
    script being run (without ``.py``), so the app of ``python shop.py`` is ``"shop"``.

    Example:
        >>> from kettle import Kettle
        >>> app_name(Kettle("shop.views"))
        'shop.views'
    """
    import_name: str = app.import_name
    if import_name == "__main__":
        import sys

        filename: str | None = getattr(sys.modules.get("__main__"), "__file__", None)
        if filename:
            return os.path.splitext(os.path.basename(filename))[0]
    return import_name


class FlaskAppSettings:
    """Flask's app attributes that are views of the app's settings, for ``Kettle`` (a
    base holding no state: each reads ``config`` or ``import_name``).

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle("shop")
        >>> app.config["PERMANENT_SESSION_LIFETIME"] = 3600
        >>> app.name, app.permanent_session_lifetime.seconds
        ('shop', 3600)
        >>> Kettle.default_config["SESSION_COOKIE_NAME"]
        'session'
    """

    #: the defaults every app's config starts from
    default_config: ClassVar[Mapping[str, Any]] = DEFAULT_CONFIG
    #: the class Flask code builds responses from: ``app.response_class(body, status)``,
    #: and what ``make_response`` returns a body as (a ``Response`` subclass)
    response_class: type[Response] = Response
    #: ``PERMANENT_SESSION_LIFETIME`` as a ``timedelta`` (set a ``timedelta`` or seconds)
    permanent_session_lifetime: ConfigAttribute[timedelta] = ConfigAttribute(
        "PERMANENT_SESSION_LIFETIME", get_converter=as_timedelta
    )

    @functools.cached_property
    def name(self) -> str:
        """The app's name (its logger's): :func:`app_name`. Assignable."""
        return app_name(self)


def import_string(path: str) -> Any:
    """Import ``"package.module:attribute"`` or ``"package.module.attribute"``.

    Example:
        >>> from kettle.config import import_string
        >>> import_string("os.path:join") is import_string("os.path.join")
        True
    """
    if ":" in path:
        module_name, _, attribute = path.partition(":")
        module = importlib.import_module(module_name)
        try:
            value: Any = module
            for part in attribute.split("."):
                value = getattr(value, part)
            return value
        except AttributeError:
            raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from None
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        module_name, _, attribute = path.rpartition(".")
        # Only "no such module" means the last part may be an attribute; a module that
        # exists but fails to import must report its own error.
        if exc.name != path or not module_name:
            raise
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise ImportError(f"module {module_name!r} has no attribute {attribute!r}") from None


def get_debug_flag() -> bool:
    """Whether the environment asks for debug mode (``KETTLE_DEBUG``, or Flask's
    ``FLASK_DEBUG``, set to ``1``, ``true`` or ``yes``).

    Example:
        >>> import os
        >>> os.environ["FLASK_DEBUG"] = "1"
        >>> get_debug_flag()
        True
        >>> del os.environ["FLASK_DEBUG"]
    """
    value = os.environ.get("KETTLE_DEBUG") or os.environ.get("FLASK_DEBUG") or ""
    return value.lower() in ("1", "true", "yes")


def find_instance_path(root_path: str, import_name: str) -> str:
    """Flask's default instance folder: ``instance/`` beside the package (or the module).

    A package's ``root_path`` is its own folder, so its instance folder is a sibling of it;
    a module's is the folder holding the module.
    """
    import importlib.util
    import sys

    module = sys.modules.get(import_name)
    is_package = module is not None and hasattr(module, "__path__")
    if module is None and import_name != "__main__":
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        is_package = spec is not None and spec.submodule_search_locations is not None
    base = os.path.dirname(os.path.abspath(root_path)) if is_package else root_path
    return os.path.join(os.path.abspath(base), "instance")


def open_under(
    folder: str, resource: str, mode: str, encoding: str | None, *, writable: bool = False
) -> IO[Any]:
    """Open ``resource`` under ``folder`` (for reading only unless ``writable``)."""
    if not writable and mode not in ("r", "rt", "rb"):
        raise ValueError("resources are opened for reading only")
    path = os.path.join(folder, resource)
    if "b" in mode:
        return open(path, mode)
    return open(path, mode, encoding=encoding)
