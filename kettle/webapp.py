"""What a server-rendered app needs on the application object, the Flask way.

Config, sessions, templates, static files, blueprints, ``url_for``, app and request
contexts outside a request, the app's CLI group and a Flask-style test client. Mixed into
``Kettle``; nothing here runs per request except ``url_for``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from kettle.config import DEFAULT_CONFIG, Config
from kettle.routing.routes import Route

if TYPE_CHECKING:
    import click

    from kettle.globals import AppContext, RequestContext
    from kettle.requests import Request
    from kettle.scaffold import Blueprint
    from kettle.sessions import SessionInterface
    from kettle.templating import Templating
    from kettle.testing import TestClient

F = TypeVar("F", bound=Callable[..., Any])


class WebAppMixin:
    """Flask's application-level features for ``Kettle``."""

    # Provided by Kettle / Scaffold:
    root_path: str
    import_name: str
    static_folder: str | os.PathLike[str] | None
    static_url_path: str | None
    template_folder: str | os.PathLike[str] | None
    include_router: Callable[..., None]
    ensure_compiled: Callable[[], Any]
    request_class: type[Request]
    _invalidate: Callable[[], None]

    def _init_webapp(self, debug: bool) -> None:
        self.config = Config(self.root_path, DEFAULT_CONFIG)
        self.config["DEBUG"] = debug
        self._session_interface: SessionInterface | None = None
        self._templating: Templating | None = None
        self._cli: click.Group | None = None
        self.blueprints: dict[str, Blueprint] = {}

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
        self._invalidate()  # dispatch decides at compile whether sessions load up front

    # -- config-backed settings ------------------------------------------------------------------

    @property
    def debug(self) -> bool:
        """Debug mode (``config["DEBUG"]``): tracebacks in error pages, template reloading."""
        return bool(self.config.get("DEBUG"))

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self._templating is not None:
            self._templating.auto_reload = self._auto_reload()
        self._invalidate()

    @property
    def testing(self) -> bool:
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

    # -- templates -------------------------------------------------------------------------------

    def _auto_reload(self) -> bool:
        setting = self.config.get("TEMPLATES_AUTO_RELOAD")
        return self.debug if setting is None else bool(setting)

    @property
    def templating(self) -> Templating:
        """The app's templates (created on first use: Jinja2 is imported only then)."""
        if self._templating is None:
            from kettle.templating import Templating

            folders = [self.template_folder] if self.template_folder is not None else []
            self._templating = Templating(
                self.root_path, folders, auto_reload=self._auto_reload(), debug=self.debug
            )
        return self._templating

    @property
    def jinja_env(self) -> Any:
        """The Jinja2 environment, as in Flask."""
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

    # -- blueprints ------------------------------------------------------------------------------

    def register_blueprint(self, blueprint: Blueprint, url_prefix: str | None = None) -> None:
        """Serve ``blueprint`` (and the blueprints registered inside it) in this app.

        ``url_prefix`` replaces the blueprint's own prefix.
        """
        for bp in blueprint.iter_blueprints():
            if bp.name in self.blueprints and self.blueprints[bp.name] is not bp:
                raise ValueError(f"a different blueprint is already registered as {bp.name!r}")
            self.blueprints[bp.name or ""] = bp
        self.include_router(blueprint, own_prefix=url_prefix)

    def _blueprint_setup(self) -> None:
        """At compile: template folders and the ``app_*`` template functions of blueprints."""
        for bp in self.blueprints.values():
            if bp.template_path is not None:
                self.templating.add_folder(bp.template_path)
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

    def _static_routes(self, bases: Mapping[int, str]) -> list[Route]:
        """The ``static`` routes of the app and its blueprints whose folders exist.

        ``bases`` maps each router (by ``id``) to its full path prefix.
        """
        from kettle.staticfiles import static_endpoint

        def max_age() -> Any:
            return self.config.get("SEND_FILE_MAX_AGE_DEFAULT")

        routes = []
        sources: list[tuple[Any, str]] = [(self, "static")]
        sources.extend((bp, f"{bp.name}.static") for bp in self.blueprints.values())
        for owner, name in sources:
            folder = owner.static_path
            if folder is None or not os.path.isdir(folder) or id(owner) not in bases:
                continue
            url = owner.static_url_path
            if url is None:
                url = "/" + os.path.basename(os.path.normpath(os.fspath(owner.static_folder)))
            path = f"{bases[id(owner)].rstrip('/')}{url.rstrip('/')}/{{filename:path}}"
            routes.append(
                Route(
                    path=path,
                    endpoint=static_endpoint(folder, max_age),
                    methods=frozenset({"GET"}),
                    name=name,
                    include_in_schema=False,
                    blueprint=owner.name or "",
                    owners=(self,),
                )
            )
        return routes

    # -- url_for -----------------------------------------------------------------------------------

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
        """The URL of the route named ``endpoint``, as in Flask.

        ``".name"`` is relative to the blueprint of the current request; values that are
        not path parameters become the query string; ``_external`` (the default outside a
        request) gives an absolute URL built from ``SERVER_NAME``,
        ``PREFERRED_URL_SCHEME`` and ``APPLICATION_ROOT``.

        Raises:
            NoMatchFound: no route has that name, or its parameters are missing.
        """
        from kettle.globals import RequestContext, current_context
        from kettle.helpers import build_url

        urls = self.ensure_compiled().urls
        ctx = current_context()
        request = ctx.request if isinstance(ctx, RequestContext) else None
        if endpoint.startswith("."):
            route = request.scope.get("route") if request is not None else None
            blueprint = route.blueprint if route is not None else ""
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        path, query = urls.build(endpoint, values)
        if request is not None:
            external = bool(_external) or _scheme is not None
            root = request.root_path
            base = f"{_scheme or request.url.scheme}://{request.host}{root}" if external else root
        else:
            external = True if _external is None else _external
            root = (self.config.get("APPLICATION_ROOT") or "/").rstrip("/")
            server = self.config.get("SERVER_NAME")
            if external and not server:
                raise RuntimeError(
                    "url_for outside a request needs SERVER_NAME for an absolute URL "
                    "(or pass _external=False)"
                )
            scheme = _scheme or self.config.get("PREFERRED_URL_SCHEME") or "http"
            base = f"{scheme}://{server}{root}" if external else root
        return build_url(path, query, anchor=_anchor, base_url=base)

    # -- contexts and testing --------------------------------------------------------------------

    def app_context(self) -> AppContext:
        """``with app.app_context():`` makes ``current_app`` and ``g`` usable outside a request."""
        from kettle.globals import AppContext

        return AppContext(self)

    def test_request_context(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        query_string: str | bytes = b"",
        data: bytes | str = b"",
        base_url: str = "http://localhost",
    ) -> RequestContext:
        """A request context for code that needs ``request``/``session`` outside a server.

        Example:
            >>> from kettle import Kettle, request
            >>> app = Kettle(__name__)
            >>> with app.test_request_context("/hello?name=ada"):
            ...     request.args["name"]
            'ada'
        """
        from kettle.globals import RequestContext

        base = urlsplit(base_url)
        path, _, query = path.partition("?")
        raw_query = query.encode() if query else query_string
        if isinstance(raw_query, str):
            raw_query = raw_query.encode()
        body = data.encode() if isinstance(data, str) else data
        raw_headers = [(b"host", (base.netloc or "localhost").encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "method": method.upper(),
            "scheme": base.scheme or "http",
            # As servers do: the path includes the root path the app is mounted under.
            "path": base.path.rstrip("/") + path,
            "raw_path": (base.path.rstrip("/") + path).encode(),
            "root_path": base.path.rstrip("/"),
            "query_string": raw_query,
            "headers": raw_headers,
            "client": ("127.0.0.1", 0),
            "server": (base.hostname or "localhost", base.port or 80),
            "app": self,
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return RequestContext(self, self.request_class(scope, receive))

    def test_client(self, **options: Any) -> TestClient:
        """A test client whose responses also offer Flask's ``.data`` and ``.get_json()``."""
        from kettle.testing import TestClient

        return TestClient(self, **options)  # type: ignore[arg-type]

    # -- the app's command line ------------------------------------------------------------------

    @property
    def cli(self) -> click.Group:
        """A click group for the app's own commands: ``@app.cli.command()``.

        They run inside an app context, as ``kettle --app module:app NAME``.
        """
        if self._cli is None:
            from kettle.commands import AppGroup

            self._cli = AppGroup(self)
        return self._cli

    @cli.setter
    def cli(self, group: click.Group) -> None:
        self._cli = group
