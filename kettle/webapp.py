"""What a server-rendered app needs, the Flask way: a part the app holds (``app.web``).

Config, sessions, templates, static files, blueprints' template functions, ``url_for``,
request contexts outside a request and the app's CLI group. ``Kettle`` holds one
:class:`WebApp` and offers Flask's names for it (``app.config``, ``app.jinja_env``,
``app.url_for``, ...); nothing here runs per request except ``url_for``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from kettle.config import DEFAULT_CONFIG, Config
from kettle.routing.routes import Route

if TYPE_CHECKING:
    import click

    from kettle.compiler import CompiledApp
    from kettle.globals import RequestContext
    from kettle.requests import Request
    from kettle.scaffold import Blueprint
    from kettle.sessions import SessionInterface
    from kettle.templating import Templating


_DEFAULT_PORTS = {"http": 80, "https": 443}


class WebAppOwner(Protocol):
    """What :class:`WebApp` reads of the app that holds it."""

    root_path: str
    static_folder: str | os.PathLike[str] | None
    static_url_path: str | None
    template_folder: str | os.PathLike[str] | None
    request_class: type[Request]

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

    def __init__(self, owner: WebAppOwner, debug: bool, changed: Callable[[], None]) -> None:
        self.owner = owner
        self.changed = changed
        self.config = Config(owner.root_path, DEFAULT_CONFIG)
        self.config["DEBUG"] = debug
        #: ``{name: blueprint}`` of every blueprint registered on the app
        self.blueprints: dict[str, Blueprint] = {}
        self._session_interface: SessionInterface | None = None
        self._templating: Templating | None = None
        self._cli: click.Group | None = None

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
        return bool(self.config.get("DEBUG"))

    def set_debug(self, value: bool) -> None:
        """Switch debug mode: error pages and template reloading follow."""
        self.config["DEBUG"] = value
        if self._templating is not None:
            self._templating.auto_reload = self.auto_reload()
        self.changed()

    def auto_reload(self) -> bool:
        """Whether templates are re-read when they change (debug mode, unless configured)."""
        setting = self.config.get("TEMPLATES_AUTO_RELOAD")
        return self.debug if setting is None else bool(setting)

    @property
    def templating(self) -> Templating:
        """The app's templates (created on first use: Jinja2 is imported only then)."""
        if self._templating is None:
            from kettle.templating import Templating

            folder = self.owner.template_folder
            self._templating = Templating(
                self.owner.root_path,
                [folder] if folder is not None else [],
                auto_reload=self.auto_reload(),
                debug=self.debug,
            )
        return self._templating

    # -- compiling ---------------------------------------------------------------------------

    def prepare(self, bases: Mapping[int, str]) -> list[Route]:
        """At compile: blueprints' template folders and ``app_*`` template functions, the
        reload setting, and the ``static`` routes (``bases``: each router's full prefix)."""
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
                    blueprint=getattr(owner, "name", None) or "",
                    owners=(app.router,),
                )
            )
        return routes

    # -- url_for -----------------------------------------------------------------------------

    def url_for(
        self,
        endpoint: str,
        values: dict[str, Any],
        *,
        anchor: str | None = None,
        scheme: str | None = None,
        external: bool | None = None,
    ) -> str:
        """``app.url_for``: the URL of the route named ``endpoint`` (see ``Kettle.url_for``)."""
        from kettle.globals import RequestContext, current_context
        from kettle.helpers import build_url

        urls = self.owner.ensure_compiled().urls
        ctx = current_context()
        request = ctx.request if isinstance(ctx, RequestContext) else None
        if endpoint.startswith("."):
            route = request.scope.get("route") if request is not None else None
            blueprint = route.blueprint if route is not None else ""
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        path, query = urls.build(endpoint, values)
        if request is not None:
            absolute = bool(external) or scheme is not None
            root = request.root_path
            base = f"{scheme or request.url.scheme}://{request.host}{root}" if absolute else root
        else:
            absolute = True if external is None else external
            root = (self.config.get("APPLICATION_ROOT") or "/").rstrip("/")
            server = self.config.get("SERVER_NAME")
            if absolute and not server:
                raise RuntimeError(
                    "url_for outside a request needs SERVER_NAME for an absolute URL "
                    "(or pass _external=False)"
                )
            scheme = scheme or self.config.get("PREFERRED_URL_SCHEME") or "http"
            base = f"{scheme}://{server}{root}" if absolute else root
        return build_url(path, query, anchor=anchor, base_url=base)

    # -- contexts outside a request ------------------------------------------------------------

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
        """``app.test_request_context``: a request context for a made-up request, for code
        that needs ``request``/``session`` outside a server.

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
        prefix = base.path.rstrip("/")
        scope = {
            "type": "http",
            "method": method.upper(),
            "scheme": base.scheme or "http",
            # As servers do: the path includes the root path the app is mounted under.
            "path": prefix + path,
            "raw_path": (prefix + path).encode(),
            "root_path": prefix,
            "query_string": raw_query,
            "headers": raw_headers,
            "client": ("127.0.0.1", 0),
            "server": (
                base.hostname or "localhost",
                base.port or _DEFAULT_PORTS.get(base.scheme, 80),
            ),
            "app": self.owner,
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return RequestContext(self.owner, self.owner.request_class(scope, receive))

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
