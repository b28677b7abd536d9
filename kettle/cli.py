"""The ``kettle`` command line: ``kettle run``, ``kettle routes``, ``kettle openapi`` and
the app's own commands.

Every command finds the app the same way, through :func:`kettle.loading.load_app` (an app
spec: ``module:attr``, ``module`` or ``path/to/file.py:attr``).
"""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from kettle.app import Kettle
from kettle.envfiles import load_dotenv, skip_dotenv
from kettle.exceptions import ConfigurationError
from kettle.globals import has_app_context
from kettle.loading import (
    AppLoadError,
    AppSpec,
    load_app,
    load_spec,
    resolve_spec,
)
from kettle.middleware.proxy import ProxyHeadersMiddleware, parse_trusted
from kettle.newproject import new as new_project
from kettle.reloading import RELOAD_ENV, reload_settings
from kettle.routing.routes import Route
from kettle.server import (
    DEFAULT_LIMIT_CONNECTIONS,
    PROXY_ENV,
    ServerSettings,
    largest_websocket_message_size,
    proxy_settings,
    server_access_log,
)

__all__ = [
    "AppLoadError",
    "AppSpec",
    "cli",
    "largest_websocket_message_size",
    "load_app",
    "main",
    "resolve_spec",
]

LOOPBACK_NAMES = ("localhost",)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
SECONDS = click.FloatRange(min=0, min_open=True)
SERVER_DEFAULTS = ServerSettings()


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

    Before the app is looked up, ``--env-file``, ``.env`` and ``.flaskenv`` are read into
    the environment (:mod:`kettle.envfiles`), so they may set ``KETTLE_APP`` too.
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        group = self.app_commands(ctx)
        command = group.get_command(ctx, cmd_name) if group is not None else None
        if command is not None and not has_app_context():
            # As Flask's CLI does: every command of the app's group runs in its context,
            # also plain click commands added with app.cli.add_command().
            ctx.with_resource(ctx.ensure_object(CliState).load_app().app_context())
        return command

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


def _read_env_files(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Eager and declared before --app, so it runs first even when not given (value None):
    # the files may name the app. The file given wins over .env and .flaskenv.
    if value is not None or not skip_dotenv():
        load_dotenv(value, load_defaults=not skip_dotenv())


def _store_app_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Stored while the options are parsed, before the group resolves the command name:
    # looking up an app command needs the spec already.
    ctx.ensure_object(CliState).app_spec = value


@click.group(name="kettle", cls=KettleGroup)
@click.option(
    "-e",
    "--env-file",
    type=click.Path(exists=True, dir_okay=False),
    callback=_read_env_files,
    expose_value=False,
    is_eager=True,
    help="Read environment variables from this file (as .env is), before --app.",
)
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
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="uvicorn's own access lines. [default: off when the app has AccessLogMiddleware, "
    "whose records say more (one line per request), else on]",
)
@click.option("--root-path", default="", help="ASGI root_path when mounted below a proxy prefix.")
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=None,
    help="Read the client's address, scheme and host from the proxies named by "
    "--forwarded-allow-ips. [default: on when those are given, else off]",
)
@click.option(
    "--forwarded-allow-ips",
    default="",
    envvar="KETTLE_FORWARDED_ALLOW_IPS",
    help="Comma-separated addresses or networks of the reverse proxies whose forwarded "
    "headers are trusted ('unix' for a Unix-socket peer, '*' for any). "
    "[default: none] [env: KETTLE_FORWARDED_ALLOW_IPS]",
)
@click.option(
    "--forwarded-style",
    type=click.Choice(["x-forwarded", "forwarded"]),
    default="x-forwarded",
    show_default=True,
    help="The headers your proxy sets: X-Forwarded-For/-Proto/-Host/-Port, or RFC 7239 "
    "Forwarded (the other kind is ignored).",
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
    "--drain-delay",
    default=SERVER_DEFAULTS.drain_delay,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds after SIGTERM during which /readyz fails but requests are still "
    "accepted, so a load balancer stops sending first (docs/deploy.md).",
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
    access_log: bool | None,
    root_path: str,
    proxy_headers: bool | None,
    forwarded_allow_ips: str,
    forwarded_style: str,
    factory: bool,
    debug: bool,
    unsafe_remote_debug: bool,
    timeout_head: float,
    timeout_body: float,
    min_body_rate: float,
    timeout_keep_alive: float,
    timeout_graceful_shutdown: float,
    drain_delay: float,
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
    proxies = _trusted_proxies(proxy_headers, forwarded_allow_ips)
    if debug:
        if os.environ.get("KETTLE_ENV", "").lower() == "production":
            raise click.UsageError("refusing --debug: KETTLE_ENV says this is production")
        # Read by Kettle() in every process (reload and worker processes import anew).
        os.environ["KETTLE_DEBUG"] = "1"
    text = info.spec_for(app_arg)
    spec, attr, app, factory = load_spec(text, factory)
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
        drain_delay=drain_delay,
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
    if reload:
        # An edit that breaks the import gets an error page, not a socket nobody accepts.
        os.environ[RELOAD_ENV] = reload_settings(target, factory)
        target, factory = "kettle.reloading:app_or_error_page", True
    if proxies:
        # kettle's ProxyHeadersMiddleware, not uvicorn's (which reads X-Forwarded-For and
        # -Proto only, and trusts 127.0.0.1 unless told otherwise).
        if isinstance(target, str):
            os.environ[PROXY_ENV] = proxy_settings(target, factory, proxies, forwarded_style)
            target, factory = "kettle.server:proxied_app", True
        else:
            style: Any = forwarded_style
            target = ProxyHeadersMiddleware(target, trusted_proxies=proxies, style=style)
    from kettle.shutdown import exit_quietly

    # uvicorn re-raises the SIGTERM it shut down for once it has put this handler back:
    # a graceful stop then exits with status 0 (docs/deploy.md).
    signal.signal(signal.SIGTERM, exit_quietly)
    uvicorn.run(
        target,
        host=host,
        port=port,
        reload=reload,
        reload_dirs=list(reload_dirs) or None,
        workers=workers,
        log_level=log_level,
        access_log=server_access_log(app) if access_log is None else access_log,
        root_path=root_path,
        # Forwarded headers are kettle's to read (above), never uvicorn's.
        proxy_headers=False,
        factory=factory and isinstance(target, str),
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


def _trusted_proxies(enabled: bool | None, allow_ips: str) -> list[str]:
    """The proxies ``kettle run`` trusts: none unless ``--forwarded-allow-ips`` names them."""
    entries = [entry.strip() for entry in allow_ips.split(",") if entry.strip()]
    if enabled is False:
        return []
    if not entries:
        if enabled:
            raise click.UsageError(
                "--proxy-headers needs --forwarded-allow-ips: name the addresses of your "
                "reverse proxies (none is trusted by default, not even 127.0.0.1)"
            )
        return []
    try:
        parse_trusted(entries)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--forwarded-allow-ips") from None
    return entries


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


# -- kettle shell ------------------------------------------------------------------------


@cli.command()
@APP_ARGUMENT
@click.option("--factory", is_flag=True, help="APP is a callable returning the app.")
@click.pass_obj
def shell(info: CliState, app_arg: str | None, factory: bool) -> None:
    """Start an interactive Python shell inside APP's app context.

    It starts with ``app``, ``g`` and what the app's shell context processors return
    (``@app.shell_context_processor``), after running the file ``PYTHONSTARTUP`` names,
    as Python's own shell does.
    """
    import code
    import sys

    app = info.load_app(app_arg, factory)
    banner = f"Python {sys.version} on {sys.platform}\nApp: {app.import_name}"
    with app.app_context():
        namespace: dict[str, Any] = {}
        startup = os.environ.get("PYTHONSTARTUP")
        if startup and os.path.isfile(startup):
            with open(startup, encoding="utf-8") as file:
                exec(compile(file.read(), startup, "exec"), namespace)  # the user's own file
        namespace.update(app.make_shell_context())
        code.interact(banner=banner, local=namespace, exitmsg="")


cli.add_command(new_project)


def main(args: Sequence[str] | None = None) -> None:
    """The ``kettle`` console script."""
    cli.main(args=list(args) if args is not None else None)
