"""What a server-rendered app needs, the Flask way: a part the app holds (``app.web``).

Config, sessions, templates, static files, blueprints' template functions, ``url_for``,
request contexts outside a request and the app's CLI group. ``Kettle`` holds one
:class:`WebApp` and offers Flask's names for it (``app.config``, ``app.jinja_env``,
``app.url_for``, ...); nothing here runs per request except ``url_for``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from kettle.config import DEFAULT_CONFIG, Config, find_instance_path, open_under
from kettle.exceptions import ConfigurationError
from kettle.routing.routes import Route
from kettle.signals import appcontext_tearing_down

if TYPE_CHECKING:
    import click

    from kettle.commands import AppCliRunner
    from kettle.compiler import CompiledApp
    from kettle.globals import PushedAppContext, PushedRequestContext
    from kettle.jsonprovider import JSONProvider
    from kettle.requests import Request
    from kettle.responses import Response
    from kettle.rules import URLMap
    from kettle.scaffold import Blueprint
    from kettle.sessions import SessionInterface
    from kettle.templating import Templating
    from kettle.testing import TestClient

F = TypeVar("F", bound=Callable[..., Any])


class WebAppOwner(Protocol):
    """What :class:`WebApp` reads of the app that holds it."""

    root_path: str
    import_name: str
    static_folder: str | os.PathLike[str] | None
    static_url_path: str | None
    template_folder: str | os.PathLike[str] | None
    request_class: type[Request]
    #: the templates' Jinja environment class (``None``: kettle's own)
    jinja_environment: type[Any] | None

    @property
    def static_path(self) -> str | None: ...

    @property
    def router(self) -> Any: ...  # the root router (routes and folders)

    def ensure_compiled(self) -> CompiledApp: ...


class WebApp:
    """Flask's application-level features, held by a ``Kettle`` as ``app.web``.

    Args:
        owner: the app (its folders, request class and compiled URL map).
        debug: the initial ``config["DEBUG"]``.
        changed: called when a setting the compiled app depends on changes.

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> app.web.config is app.config
        True
    """

    def __init__(
        self,
        owner: WebAppOwner,
        debug: bool,
        changed: Callable[[], None],
        *,
        instance_path: str | None = None,
        instance_relative_config: bool = False,
    ) -> None:
        self.owner = owner
        self.changed = changed
        #: the folder for files the app writes and keeps (a database, local settings),
        #: outside the package: ``instance/`` beside the package or module
        self.instance_path = instance_path or find_instance_path(owner.root_path, owner.import_name)
        if not os.path.isabs(self.instance_path):
            raise ValueError(f"instance_path must be absolute, not {self.instance_path!r}")
        # A subclass's ``config_class`` (Flask's name) makes the config: a Config subclass.
        config_class: type[Config] = getattr(owner, "config_class", None) or Config
        self.config = config_class(
            self.instance_path if instance_relative_config else owner.root_path, DEFAULT_CONFIG
        )
        self.config["DEBUG"] = debug
        #: ``{name: blueprint}`` of every blueprint registered on the app
        self.blueprints: dict[str, Blueprint] = {}
        #: ``handler(error, endpoint, values)`` tried in turn when url_for fails to build
        self.url_build_error_handlers: list[Callable[..., Any]] = []
        #: ``register_blueprint(url_defaults=...)`` by registered name
        self.blueprint_url_defaults: dict[str, dict[str, Any]] = {}
        self._session_interface: SessionInterface | None = None
        self._templating: Templating | None = None
        self._cli: click.Group | None = None
        self._json: JSONProvider | None = None
        #: ``teardown_appcontext`` functions, run when an app context ends
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], Any]] = []
        #: functions returning names for ``kettle shell`` (``shell_context_processor``)
        self.shell_context_processors: list[Callable[[], Mapping[str, Any]]] = []
        #: the classes ``test_client()`` and ``test_cli_runner()`` build (``None``: kettle's)
        self.test_client_class: type[TestClient] | None = None
        self.test_cli_runner_class: type[AppCliRunner] | None = None

    @property
    def url_map(self) -> URLMap:
        """The routes and converters under Werkzeug's names (``app.url_map``)."""
        from kettle.rules import URLMap

        app: Any = self.owner  # the app: converters and compiled routes
        return URLMap(app)

    @property
    def json(self) -> JSONProvider:
        """``app.json``: the app's JSON settings (``sort_keys``, ``ensure_ascii``...)."""
        if self._json is None:
            from kettle.jsonprovider import DefaultJSONProvider

            self._json = DefaultJSONProvider(self.owner)
        return self._json

    @json.setter
    def json(self, provider: JSONProvider) -> None:
        self._json = provider

    # -- sessions --------------------------------------------------------------------------

    @property
    def session_interface(self) -> SessionInterface:
        """How sessions are loaded and saved: signed cookies unless you plug in a store."""
        if self._session_interface is None:
            # Created on first use: the signing library is imported only by apps with sessions.
            from kettle.sessions import SecureCookieSessionInterface

            self._session_interface = SecureCookieSessionInterface()
        return self._session_interface

    @session_interface.setter
    def session_interface(self, interface: SessionInterface) -> None:
        self._session_interface = interface
        self.changed()  # dispatch decides at compile whether sessions load up front

    # -- templates -------------------------------------------------------------------------

    @property
    def debug(self) -> bool:
        """Debug mode (``config["DEBUG"]``): tracebacks in error pages, template reloading."""
        return bool(self.config.get("DEBUG"))

    @debug.setter
    def debug(self, value: bool) -> None:
        self.set_debug(value)

    def set_debug(self, value: bool) -> None:
        """Switch debug mode: error pages and template reloading follow."""
        self.config["DEBUG"] = value
        if self._templating is not None:
            self._templating.auto_reload = self.auto_reload()
        self.changed()

    @property
    def testing(self) -> bool:
        """Testing mode (``config["TESTING"]``), as in Flask."""
        return bool(self.config.get("TESTING"))

    @testing.setter
    def testing(self, value: bool) -> None:
        self.config["TESTING"] = value

    @property
    def secret_key(self) -> Any:
        """The key sessions are signed with (``config["SECRET_KEY"]``)."""
        return self.config.get("SECRET_KEY")

    @secret_key.setter
    def secret_key(self, value: Any) -> None:
        self.config["SECRET_KEY"] = value

    def auto_reload(self) -> bool:
        """Whether templates are re-read when they change (debug mode, unless configured)."""
        setting = self.config.get("TEMPLATES_AUTO_RELOAD")
        return self.debug if setting is None else bool(setting)

    @property
    def templating(self) -> Templating:
        """The app's templates (created on first use: Jinja2 is imported only then)."""
        if self._templating is None:
            from kettle.templating import app_templating

            reload = self.auto_reload()
            self._templating = app_templating(self.owner, auto_reload=reload, debug=self.debug)
        return self._templating

    @property
    def jinja_env(self) -> Any:
        """The Jinja2 environment, as in Flask (blueprints' folders already searched)."""
        from kettle.templating import add_blueprint_folders

        add_blueprint_folders(self.templating, self.blueprints.values())
        return self.templating.env

    def context_processor(self, func: F) -> F:
        """Merge the dict ``func()`` returns into every template's context."""
        return self.templating.context_processor(func)

    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template filter (``@app.template_filter()``)."""
        return self.templating.template_filter(name)

    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template global function."""
        return self.templating.template_global(name)

    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template test."""
        return self.templating.template_test(name)

    def add_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.templating.add_template_filter(func, name)

    def add_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        self.templating.add_template_global(func, name)

    def add_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        self.templating.add_template_test(func, name)

    # -- blueprints ------------------------------------------------------------------------

    def register_blueprint(
        self,
        blueprint: Blueprint,
        url_prefix: str | None = None,
        name: str | None = None,
        subdomain: str | None = None,
        url_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        """Serve ``blueprint`` (and the blueprints registered inside it) in this app.

        ``url_prefix`` replaces the blueprint's own prefix; ``name`` its name (routes are
        then ``"name.view"``), so one blueprint may be registered twice; ``url_defaults``
        are values its views get as if they were in the path (over the blueprint's own).

        Raises:
            ValueError: a blueprint is already registered under that name.
        """
        if name is not None and ("." in name or not name):
            raise ValueError(f"a blueprint name must be non-empty and contain no dot: {name!r}")
        key = name or blueprint.name or ""
        if key in self.blueprints:
            raise ValueError(
                f"a blueprint is already registered as {key!r}: pass name=... to register "
                "it (again) under another name"
            )
        if url_defaults:  # merged into the routes' defaults at compile (kettle.urlprocessing)
            self.blueprint_url_defaults[key] = dict(url_defaults)
        for bp in blueprint.iter_blueprints():
            if bp is not blueprint:
                if bp.name in self.blueprints and self.blueprints[bp.name] is not bp:
                    raise ValueError(f"a different blueprint is registered as {bp.name!r}")
                key = bp.name or ""
            self.blueprints[key] = bp
            if bp.app_template_functions or bp.context_processors:
                self._add_template_functions(bp)
        self.owner.router.include_router(
            blueprint,
            own_prefix=None if url_prefix is None else url_prefix.rstrip("/"),
            own_name=name,
            # kettle.routing.hosts: replaces the blueprint's own for this registration
            own_subdomain=subdomain,
        )

    def _add_template_functions(self, bp: Blueprint) -> None:
        """``bp``'s context processors, filters, globals and tests, in the app's templates
        (when it is registered, and again at compile for those added since)."""
        if bp.context_processors:
            self.templating.blueprint_context_processors[bp.name or ""] = bp.context_processors
        for kind, func, name in bp.app_template_functions:
            templating = self.templating
            if kind == "context_processor":
                if func not in templating.context_processors:
                    templating.context_processor(func)
            elif kind == "filter":
                templating.add_template_filter(func, name)
            elif kind == "global":
                templating.add_template_global(func, name)
            else:
                templating.add_template_test(func, name)

    # -- compiling ---------------------------------------------------------------------------

    def prepare(self, bases: Mapping[int, str]) -> list[Route]:
        """At compile: blueprints' template folders and ``app_*`` template functions, the
        reload setting, and the ``static`` routes (``bases``: each router's full prefix)."""
        from kettle.templating import add_blueprint_folders

        add_blueprint_folders(self.templating, self.blueprints.values())
        for bp in self.blueprints.values():
            self._add_template_functions(bp)
        if self._templating is not None:
            self._templating.auto_reload = self.auto_reload()
        return self._static_routes(bases)

    def _static_routes(self, bases: Mapping[int, str]) -> list[Route]:
        """The ``static`` routes of the app and its blueprints whose folders exist."""
        from kettle.staticfiles import static_endpoint

        def max_age() -> Any:
            return self.config.get("SEND_FILE_MAX_AGE_DEFAULT")

        app = self.owner
        routes = []
        sources: list[tuple[Any, str]] = [(app.router, "static")]
        sources.extend((bp, f"{bp.name}.static") for bp in self.blueprints.values())

        def decide(owner: Any) -> Any:  # an app or blueprint subclass's own max age
            return owner.max_age_override(app if owner is app.router else owner)

        for owner, name in sources:
            folder = owner.static_path
            if folder is None or not os.path.isdir(folder) or id(owner) not in bases:
                continue
            url = owner.static_url_path
            if url is None:  # the folder's name; none for the root folder (static_folder="")
                url = "/" + os.path.basename(os.path.normpath(os.fspath(owner.static_folder)))
                url = "" if url == "/." else url
            path = f"{bases[id(owner)].rstrip('/')}{url.rstrip('/')}/{{filename:path}}"
            routes.append(
                Route(
                    path=path,
                    endpoint=static_endpoint(folder, max_age, decide(owner)),
                    methods=frozenset({"GET"}),
                    name=name,
                    include_in_schema=False,
                    blueprint=getattr(owner, "name", None) or "",
                    owners=(app.router,),
                )
            )
        return routes

    # -- url_for -----------------------------------------------------------------------------

    def url_for(
        self,
        endpoint: str,
        /,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """The URL of the route named ``endpoint``, as in Flask (``app.url_for``).

        ``".name"`` is relative to the blueprint of the current request; values that are
        not path parameters become the query string; ``_external`` (the default outside a
        request) gives an absolute URL built from ``SERVER_NAME``,
        ``PREFERRED_URL_SCHEME`` and ``APPLICATION_ROOT``.

        Raises:
            NoMatchFound: no route has that name, or its parameters are missing.

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__)
            >>> @app.get("/users/{user_id:int}", name="user")
            ... async def user(user_id: int) -> dict[str, int]:
            ...     return {"id": user_id}
            >>> app.url_for("user", user_id=3, _external=False, tab="posts")
            '/users/3?tab=posts'
        """
        from kettle.urlprocessing import build_url_for

        options = {"_anchor": _anchor, "_method": _method, "_scheme": _scheme}
        return build_url_for(self, endpoint, values, external=_external, **options)

    def redirect(self, location: str, code: int = 302) -> Response:
        """``app.redirect``: what ``redirect()`` answers in this app (replaceable, as in
        Flask); see :func:`kettle.helpers.plain_redirect`."""
        from kettle.helpers import plain_redirect

        return plain_redirect(location, code)

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Fill ``values`` in place with the ``url_defaults`` functions for ``endpoint``."""
        from kettle.urlprocessing import inject_url_defaults

        inject_url_defaults(self, endpoint, values)

    def handle_url_build_error(
        self, error: Exception, endpoint: str, values: dict[str, Any]
    ) -> str:
        """The URL a ``url_build_error_handlers`` entry gives, or ``error`` raised again."""
        from kettle.urlprocessing import handle_url_build_error

        return handle_url_build_error(self.url_build_error_handlers, error, endpoint, values)

    # -- contexts outside a request ------------------------------------------------------------

    def test_request_context(self, *args: Any, **kwargs: Any) -> PushedRequestContext:
        """``app.test_request_context``: a request context for a made-up request, for code
        that needs ``request``/``session`` outside a server. It takes the test client's
        arguments (:class:`~kettle.flasktesting.EnvironBuilder`'s: ``base_url``,
        ``url_scheme``, ``headers``, ``data``...); the host, root path and scheme default
        to ``SERVER_NAME``, ``APPLICATION_ROOT`` and ``PREFERRED_URL_SCHEME``.

        Example:
            >>> from kettle import Kettle, request
            >>> app = Kettle(__name__)
            >>> with app.test_request_context("/hello?name=ada", url_scheme="https"):
            ...     request.args["name"], str(request.url)
            ('ada', 'https://localhost/hello?name=ada')
        """
        from kettle.environbuilder import request_scope
        from kettle.globals import PushedRequestContext

        scope, body = request_scope(self.owner, *args, **kwargs)
        try:
            match = self.owner.ensure_compiled().match_request
        except ConfigurationError:
            match = None  # a declaration mistake is the first request's to report
        matched = None if match is None else match(scope)
        if matched is not None:  # Flask's request.endpoint, blueprint and view_args
            scope["route"], scope["path_params"] = matched

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return PushedRequestContext(self.owner, self.owner.request_class(scope, receive))

    def app_context(self) -> PushedAppContext:
        """``with app.app_context():`` makes ``current_app`` and ``g`` usable outside a request
        (or ``ctx.push()``, then ``ctx.pop()``)."""
        from kettle.globals import PushedAppContext

        return PushedAppContext(self.owner)

    def make_default_options_response(self) -> Response:
        """An empty answer whose ``Allow`` lists the methods the current request's URL
        answers (Flask's)."""
        from kettle.globals import request

        allowed = self.owner.ensure_compiled().allowed_methods
        methods = ", ".join(sorted(allowed(request.scope))) if allowed is not None else ""
        return self.owner.response_class(None, 200, {"Allow": methods})  # type: ignore[attr-defined, no-any-return]

    def make_response(self, rv: Any) -> Response:
        """What a view's return value ``rv`` is sent as (Flask's ``app.make_response``)."""
        from kettle.helpers import make_response

        return make_response(rv)

    def shell_context_processor(self, func: F) -> F:
        """Add the names ``func()`` returns (a dict) to those ``kettle shell`` starts with."""
        self.shell_context_processors.append(func)
        return func

    def make_shell_context(self) -> dict[str, Any]:
        """The names ``kettle shell`` starts with: ``app``, ``g``, then the processors'."""
        from kettle.globals import g

        context: dict[str, Any] = {"app": self.owner, "g": g}
        for func in self.shell_context_processors:
            context.update(func())
        return context

    def teardown_appcontext(self, func: F) -> F:
        """Run ``func(error)`` when an app context ends: after each request, and when a
        context from :meth:`app_context` is left (close a database connection kept in ``g``).

        Example:
            >>> from kettle import Kettle, g
            >>> app = Kettle(__name__)
            >>> @app.teardown_appcontext
            ... def close_db(error):
            ...     print("closing", g.get("db"))
            >>> with app.app_context():
            ...     g.db = "sqlite"
            closing sqlite
        """
        if not self.teardown_appcontext_funcs:
            # The request's part of the work is a teardown_request hook, first in the list
            # so it runs after the others (they run last-registered first): an app with no
            # teardown_appcontext function has no hook at all.
            self.owner.router.teardown_request_funcs.insert(0, self._teardown_request)
            self.changed()
        self.teardown_appcontext_funcs.append(func)
        return func

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        """Run the ``teardown_appcontext`` functions (last registered first), then send
        ``appcontext_tearing_down``."""
        from kettle.globals import _run_sync_or_async

        for func in reversed(self.teardown_appcontext_funcs):
            _run_sync_or_async(func, exc)
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(self.owner, exc=exc)

    async def _teardown_request(self, exc: BaseException | None) -> None:
        from kettle.globals import pushed_app_context

        if pushed_app_context(self.owner):
            return  # the app context pushed around the request tears down when it pops
        for func in reversed(self.teardown_appcontext_funcs):
            result = func(exc)
            if inspect.isawaitable(result):
                await result
        # appcontext_tearing_down follows, from dispatch (kettle.requestsignals).

    def test_client(self, /, use_cookies: bool = True, **options: Any) -> TestClient:
        """Flask's test client (:class:`~kettle.flasktesting.FlaskClient`, or
        :attr:`test_client_class` when set): Flask's arguments, redirects not followed
        unless asked, the last request's context kept inside ``with client:``."""
        from kettle.flasktesting import FlaskClient

        app: Any = self.owner  # an ASGI app: the owner is the Kettle app
        if not use_cookies:  # only when asked: a test_client_class may not take it
            options["use_cookies"] = False
        return (self.test_client_class or FlaskClient)(app, **options)

    def test_cli_runner(self, /, **options: Any) -> AppCliRunner:
        """A click runner for the app's commands (of :attr:`test_cli_runner_class` when set).

        Example:
            >>> from kettle import Kettle
            >>> Kettle(__name__).test_cli_runner().invoke(args=["--help"]).exit_code
            0
        """
        from kettle.commands import AppCliRunner

        return (self.test_cli_runner_class or AppCliRunner)(self.owner, **options)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> IO[Any]:
        """Open a file relative to the app's ``root_path`` (a schema shipped with the app)."""
        return open_under(self.owner.root_path, resource, mode, encoding)

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> IO[Any]:
        """Open a file relative to :attr:`instance_path` (for writing too)."""
        return open_under(self.instance_path, resource, mode, encoding, writable=True)

    def run(
        self,
        /,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: Any,
    ) -> None:
        """``app.run()``: serve the app for development (use ``kettle run`` otherwise).

        ``host`` and ``port`` default to ``SERVER_NAME``'s, else ``127.0.0.1:8000``;
        ``debug`` switches debug mode first. The other options go to
        :func:`kettle.serving.run_simple` (uvicorn's options included).
        """
        from kettle import serving
        from kettle.envfiles import load_dotenv as read_env_files
        from kettle.envfiles import skip_dotenv

        if load_dotenv and not skip_dotenv():
            read_env_files()
        if debug is not None:
            self.set_debug(bool(debug))
        server_host, _, server_port = str(self.config.get("SERVER_NAME") or "").partition(":")
        host = host or server_host or "127.0.0.1"
        if port is None:
            port = int(server_port) if server_port.isdigit() else 8000
        serving.run_simple(host, port, self.owner, **options)

    # -- the app's command line ------------------------------------------------------------------

    @property
    def cli(self) -> click.Group:
        """The click group of the app's own commands (created on first use)."""
        if self._cli is None:
            from kettle.commands import AppGroup

            self._cli = AppGroup(self.owner)
        return self._cli

    @cli.setter
    def cli(self, group: click.Group) -> None:
        self._cli = group
