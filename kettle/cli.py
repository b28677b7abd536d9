"""The ``kettle`` command line: ``kettle run`` and ``kettle routes``.

Every command finds the app the same way, through :func:`load_app`. An app is named by
an *app spec*:

- ``module:attr`` (``attr`` may be dotted: ``pkg.web:api.app``);
- ``module`` alone, which finds an ``app`` or ``application`` attribute, or the one
  :class:`~kettle.Kettle` instance the module defines;
- a file path instead of a module (``examples/hello/app.py:app``, ``src/pkg/web.py``).

With ``--factory`` the spec names a callable (``module:create_app``) that returns the app.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import ipaddress
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from kettle.app import Kettle
from kettle.exceptions import ConfigurationError
from kettle.routing.routes import Route
from kettle.server import DEFAULT_LIMIT_CONNECTIONS, ServerSettings

__all__ = [
    "AppLoadError",
    "AppSpec",
    "cli",
    "largest_websocket_message_size",
    "load_app",
    "main",
    "resolve_spec",
]

#: Attributes tried, in order, when a spec names only a module.
APP_NAMES = ("app", "application")
#: Callables tried, in order, when a spec names only a module and ``--factory`` is given.
FACTORY_NAMES = ("create_app", "make_app")
LOOPBACK_NAMES = ("localhost",)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
SECONDS = click.FloatRange(min=0, min_open=True)
SERVER_DEFAULTS = ServerSettings()


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
    """The attribute to use when the spec names only a module."""
    for name in FACTORY_NAMES if factory else APP_NAMES:
        if hasattr(module, name):
            return name
    if factory:
        raise AppLoadError(
            f"could not find an app factory in {spec.module!r}: "
            f"name one with '{spec.module}:function' (tried {', '.join(FACTORY_NAMES)})"
        )
    apps = _kettle_names(module)
    if len(apps) == 1:
        return apps[0]
    if apps:
        raise AppLoadError(
            f"{spec.module!r} defines several apps ({', '.join(apps)}): "
            f"pick one with '{spec.module}:{apps[0]}'"
        )
    raise AppLoadError(
        f"could not find a Kettle app in {spec.module!r}: "
        f"name it with '{spec.module}:attr' (tried {', '.join(APP_NAMES)})"
    )


def _kettle_names(module: Any) -> list[str]:
    return [name for name, value in vars(module).items() if isinstance(value, Kettle)]


def _spec_and_attr(text: str, factory: bool) -> tuple[AppSpec, str, Any]:
    spec = resolve_spec(text)
    module = _import(spec)
    attr = spec.attr or _find_attr(spec, module, factory)
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
    return _load(spec, factory)[2]


def _load(text: str, factory: bool) -> tuple[AppSpec, str, Kettle]:
    spec, attr, obj = _spec_and_attr(text, factory)
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
        hint = " (is it an app factory? pass --factory)" if inspect.isfunction(obj) else ""
        raise AppLoadError(
            f"{text!r} is not a Kettle app: {what} {type(obj).__name__}{hint}; "
            "serve other ASGI apps with an ASGI server directly"
        )
    return spec, attr, obj


# -- the command group ------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class CliState:
    """What the group collected for its commands (stored as ``ctx.obj``)."""

    app_spec: str | None = None

    def spec_for(self, positional: str | None) -> str:
        """The app spec: the command's argument, else ``--app``/``KETTLE_APP``, else ``app``."""
        spec = positional or self.app_spec
        if spec:
            return spec
        if Path("app.py").is_file() or Path("app", "__init__.py").is_file():
            return "app"
        raise click.UsageError(
            "no app given: pass APP (for example 'app:app'), use --app or set KETTLE_APP"
        )

    def load_app(self, positional: str | None = None, factory: bool = False) -> Kettle:
        return load_app(self.spec_for(positional), factory=factory)


class KettleGroup(click.Group):
    """The ``kettle`` group: the built-in commands, then commands the app adds.

    Hook for app commands: when a command name is not built in and an app was named
    (``--app`` or ``KETTLE_APP``), the app's ``cli`` attribute is consulted if it is a
    click group, so ``@app.cli.command()`` functions run as ``kettle --app app:app NAME``.
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        group = self.app_commands(ctx)
        return group.get_command(ctx, cmd_name) if group is not None else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in commands, then the app's (so ``kettle --app X --help`` lists them)."""
        names = list(super().list_commands(ctx))
        try:
            group = self.app_commands(ctx)
        except click.ClickException:
            group = None  # a broken --app must not break --help
        if group is not None:
            names.extend(n for n in group.list_commands(ctx) if n not in names)
        return names

    def app_commands(self, ctx: click.Context) -> click.Group | None:
        """The app's own command group, or ``None`` when no app is named or it has none."""
        info = ctx.find_object(CliState)
        if info is None or not info.app_spec:
            return None
        group = getattr(info.load_app(), "cli", None)
        return group if isinstance(group, click.Group) else None


class AppGroup(click.Group):
    """``app.cli``: a click group whose commands run inside the app's context.

    Example:
        >>> from kettle import Kettle, current_app
        >>> app = Kettle(__name__)
        >>> @app.cli.command("init-db")
        ... def init_db() -> None:
        ...     print("initialising", current_app.import_name)
    """

    def __init__(self, app: Any, **attrs: Any) -> None:
        attrs.setdefault("name", getattr(app, "import_name", "app"))
        super().__init__(**attrs)
        self.app = app

    def command(self, *args: Any, **kwargs: Any) -> Any:
        decorate = super().command(*args, **kwargs)

        def decorator(func: Callable[..., Any]) -> click.Command:
            @functools.wraps(func)
            def in_context(*f_args: Any, **f_kwargs: Any) -> Any:
                with self.app.app_context():
                    return func(*f_args, **f_kwargs)

            return decorate(in_context)  # type: ignore[no-any-return]

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", type(self))
        app = self.app

        def decorator(func: Callable[..., Any]) -> click.Group:
            group = click.group(*args, **{**kwargs, "cls": click.Group})(func)
            sub = AppGroup(app, name=group.name, callback=group.callback, help=group.help)
            self.add_command(sub)
            return sub

        return decorator


def _store_app_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Stored while the options are parsed, before the group resolves the command name:
    # looking up an app command needs the spec already.
    ctx.ensure_object(CliState).app_spec = value


@click.group(name="kettle", cls=KettleGroup)
@click.option(
    "--app",
    envvar="KETTLE_APP",
    callback=_store_app_spec,
    expose_value=False,
    is_eager=True,  # read before --help, which lists the app's commands
    metavar="MODULE:ATTR",
    help="The app to use: module:attr, module or path/to/file.py:attr. [env: KETTLE_APP]",
)
@click.version_option(package_name="kettle", prog_name="kettle")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """kettle: run and inspect kettle apps."""
    ctx.ensure_object(CliState)


APP_ARGUMENT = click.argument("app_arg", metavar="[APP]", required=False)


# -- kettle run ---------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.command()
@APP_ARGUMENT
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to bind."
)
@click.option("--reload", is_flag=True, help="Restart when Python files change (development).")
@click.option(
    "--reload-dir",
    "reload_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="Directory to watch with --reload (repeatable). [default: current directory]",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of worker processes.",
)
@click.option("--log-level", type=click.Choice(LOG_LEVELS), help="[default: info]")
@click.option("--root-path", default="", help="ASGI root_path when mounted below a proxy prefix.")
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=True,
    show_default=True,
    help="Trust X-Forwarded-For/-Proto from the addresses in --forwarded-allow-ips.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Comma-separated addresses or networks whose proxy headers are trusted ('*' = all).",
)
@click.option("--factory", is_flag=True, help="APP is a callable returning the app.")
@click.option(
    "--debug",
    is_flag=True,
    help="Debug mode: tracebacks in error pages, template reloading. Loopback only.",
)
@click.option(
    "--unsafe-remote-debug",
    is_flag=True,
    help="Allow --debug on a non-loopback address (anyone reaching it sees your code).",
)
@click.option(
    "--timeout-head",
    default=SERVER_DEFAULTS.timeout_head,
    show_default=True,
    type=SECONDS,
    help="Seconds to send a request head, from the connection's opening or the head's "
    "first byte (408 and close past it).",
)
@click.option(
    "--timeout-body",
    default=SERVER_DEFAULTS.timeout_body,
    show_default=True,
    type=SECONDS,
    help="Seconds to send a request body, plus one per --min-body-rate bytes received "
    "(408 and close past it).",
)
@click.option(
    "--min-body-rate",
    default=SERVER_DEFAULTS.min_body_rate,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Bytes per second that earn a body more time (0: --timeout-body is fixed).",
)
@click.option(
    "--timeout-keep-alive",
    default=SERVER_DEFAULTS.timeout_keep_alive,
    show_default=True,
    type=SECONDS,
    help="Seconds an idle connection is kept open between requests.",
)
@click.option(
    "--timeout-graceful-shutdown",
    default=SERVER_DEFAULTS.timeout_graceful_shutdown,
    show_default=True,
    type=SECONDS,
    help="Seconds requests in progress get after SIGTERM before their connections close.",
)
@click.option(
    "--limit-connections",
    type=click.IntRange(min=1),
    help="Open connections per process; more are answered 503. "
    f"[default: {DEFAULT_LIMIT_CONNECTIONS}, fewer if the open-file limit is low]",
)
@click.option(
    "--limit-concurrency",
    default=SERVER_DEFAULTS.limit_concurrency,
    show_default=True,
    type=click.IntRange(min=1),
    help="HTTP requests handled at once per process; more are answered 503.",
)
@click.option(
    "--ws-per-message-deflate/--no-ws-per-message-deflate",
    default=False,
    show_default=True,
    help="Offer WebSocket compression (off: a small compressed frame costs a whole "
    "message of inflating).",
)
@click.pass_obj
def run(
    info: CliState,
    app_arg: str | None,
    host: str,
    port: int,
    reload: bool,
    reload_dirs: tuple[str, ...],
    workers: int,
    log_level: str | None,
    root_path: str,
    proxy_headers: bool,
    forwarded_allow_ips: str,
    factory: bool,
    debug: bool,
    unsafe_remote_debug: bool,
    timeout_head: float,
    timeout_body: float,
    min_body_rate: float,
    timeout_keep_alive: float,
    timeout_graceful_shutdown: float,
    limit_connections: int | None,
    limit_concurrency: int,
    ws_per_message_deflate: bool,
) -> None:
    """Serve APP with uvicorn.

    APP is module:attr, module or path/to/file.py:attr (default: --app, KETTLE_APP or
    app.py in the current directory). Request heads and bodies have deadlines, and
    connections and requests in progress are capped (docs/server.md).
    """
    if reload and workers > 1:
        raise click.UsageError("--reload runs a single process: it cannot be used with --workers")
    if debug:
        if os.environ.get("KETTLE_ENV", "").lower() == "production":
            raise click.UsageError("refusing --debug: KETTLE_ENV says this is production")
        # Read by Kettle() in every process (reload and worker processes import anew).
        os.environ["KETTLE_DEBUG"] = "1"
    text = info.spec_for(app_arg)
    spec, attr, app = _load(text, factory)
    if debug:
        app.debug = True
    wants_debug = app.debug or os.environ.get("KETTLE_DEBUG", "").lower() in ("1", "true", "yes")
    if wants_debug and os.environ.get("KETTLE_ENV", "").lower() == "production":
        raise click.UsageError(
            "refusing to serve an app in debug mode: KETTLE_ENV says this is production"
        )
    if app.debug and not _is_loopback(host) and not unsafe_remote_debug:
        raise click.UsageError(
            f"the app is in debug mode, which shows tracebacks: it only binds to loopback "
            f"addresses, not {host!r}"
        )
    try:
        app.compile()  # report declaration mistakes now rather than at the first request
    except ConfigurationError as exc:
        raise click.ClickException(f"the app cannot be served: {exc}") from None

    import uvicorn

    from kettle.server import (
        SETTINGS_ENV,
        default_connection_limit,
        http_protocol,
        raise_open_file_limit,
        ws_protocol,
    )

    open_files = raise_open_file_limit()
    settings = ServerSettings(
        timeout_head=timeout_head,
        timeout_body=timeout_body,
        min_body_rate=min_body_rate,
        timeout_keep_alive=timeout_keep_alive,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        limit_connections=limit_connections or default_connection_limit(open_files),
        limit_concurrency=limit_concurrency,
    )
    # Read by the protocol class in every server process (reload and worker processes
    # import it anew, and inherit the environment).
    os.environ[SETTINGS_ENV] = settings.to_env()
    # uvicorn types these as int, but they only ever reach loop.call_later and timeouts.
    timeouts: dict[str, Any] = {
        "timeout_keep_alive": timeout_keep_alive,
        "timeout_graceful_shutdown": timeout_graceful_shutdown,
    }
    target: Any = app
    if reload or workers > 1:
        # Each process imports the app itself, so uvicorn needs an import string.
        target = f"{spec.module}:{attr}"
    uvicorn.run(
        target,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=list(reload_dirs) or None,
        workers=workers,
        log_level=log_level,
        root_path=root_path,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        factory=factory and not isinstance(target, Kettle),
        app_dir=spec.app_dir or os.getcwd(),
        loop="auto",
        # uvicorn's httptools protocol, with kettle's bounds (see kettle/server.py).
        http=http_protocol(),
        h11_max_incomplete_event_size=settings.max_head_size,
        ws=ws_protocol(),
        # The server refuses a WebSocket message past this before buffering (or
        # inflating) more of it; kettle's per-route limits then apply below it.
        ws_max_size=largest_websocket_message_size(app),
        ws_per_message_deflate=ws_per_message_deflate,
        lifespan="on",
        **timeouts,
    )


def largest_websocket_message_size(app: Kettle) -> int:
    """The largest ``max_websocket_message_size`` any of ``app``'s WebSocket routes allows
    (the app-wide limit when it has none), so the server refuses nothing a route accepts."""
    sizes = [
        app.limits.merged(route.limits).max_websocket_message_size
        for route in app.compiled_routes
        if route.is_websocket
    ]
    return max(sizes, default=app.limits.max_websocket_message_size)


# -- kettle routes ------------------------------------------------------------------------

ROUTE_COLUMNS = ("Path", "Methods", "Name", "Handler")


def _handler_name(endpoint: Callable[..., Any]) -> str:
    target = inspect.unwrap(endpoint)
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{qualname}" if module else qualname


def _route_row(route: Route) -> tuple[str, str, str, str]:
    return (
        route.path,
        ",".join(sorted(route.methods)),
        route.name,
        _handler_name(route.endpoint),
    )


def format_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines of left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


@cli.command()
@APP_ARGUMENT
@click.option(
    "--sort",
    "sort_by",
    type=click.Choice(["path", "name", "methods"]),
    default="path",
    show_default=True,
    help="Column to sort the table by.",
)
@click.option("--factory", is_flag=True, help="APP is a callable returning the app.")
@click.pass_obj
def routes(info: CliState, app_arg: str | None, sort_by: str, factory: bool) -> None:
    """Show APP's routes: path, methods, name and handler.

    WebSocket routes show WEBSOCKET as their method; the HEAD answered for every GET
    route is not listed.
    """
    app = info.load_app(app_arg, factory)
    try:
        table = [_route_row(route) for route in app.compiled_routes]
    except ConfigurationError as exc:
        raise click.ClickException(f"the app's routes do not compile: {exc}") from None
    if not table:
        click.echo("No routes.")
        return
    column = {"path": 0, "methods": 1, "name": 2}[sort_by]
    table.sort(key=lambda row: (row[column], row[0], row[1]))
    rule = tuple("-" * len(title) for title in ROUTE_COLUMNS)
    for line in format_table([ROUTE_COLUMNS, rule, *table]):
        click.echo(line)


# -- kettle openapi -----------------------------------------------------------------------


@cli.command()
@APP_ARGUMENT
@click.option("--yaml", "as_yaml", is_flag=True, help="Write YAML instead of JSON.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    show_default=True,
    help="File to write the document to ('-' for standard output).",
)
@click.option("--factory", is_flag=True, help="APP is a callable returning the app.")
@click.pass_obj
def openapi(info: CliState, app_arg: str | None, as_yaml: bool, output: str, factory: bool) -> None:
    """Print APP's OpenAPI document (JSON, or YAML with --yaml)."""
    import json

    from kettle.openapi import to_yaml

    app = info.load_app(app_arg, factory)
    try:
        document = app.openapi()
    except ConfigurationError as exc:
        raise click.ClickException(f"the app's document cannot be built: {exc}") from None
    text = to_yaml(document) if as_yaml else json.dumps(document, indent=2) + "\n"
    with click.open_file(output, "w", encoding="utf-8") as out:
        out.write(text)


def main(args: Sequence[str] | None = None) -> None:
    """The ``kettle`` console script."""
    cli.main(args=list(args) if args is not None else None)
