"""Route declarations and the ``Router`` that groups them.

Declaring is plain data: nothing here inspects handlers or builds matchers. The app
flattens its routers (prefixes joined, names qualified, options inherited) and compiles
the result at startup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from kettle.exceptions import ConfigurationError
from kettle.introspection import describe
from kettle.limits import Limits, merge_limits
from kettle.routing import inherit

F = TypeVar("F", bound=Callable[..., Any])


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: ``response_model`` not given: the return annotation decides.
UNSET: Any = _Unset()

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
#: Registered extension methods a route may name too (WebDAV's, RFC 4918 and 3253; the
#: QUERY draft's): a view class may answer them (``def propfind(self)``). Any other name
#: is refused as the typo it most likely is.
EXTENSION_METHODS = frozenset(
    {
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "REPORT",
        "SEARCH",
        "QUERY",
        "MKCALENDAR",
    }
)
WEBSOCKET = "WEBSOCKET"

#: Route options read by the compile step that are not :class:`Route` fields (they travel
#: in ``Route.options``). Anything else is a typo or an unsupported feature, and refused.
EXTRA_OPTIONS = frozenset(
    {
        "response_model_include",
        "response_model_exclude",
        "response_model_by_alias",
        "response_model_exclude_unset",
        "response_model_exclude_defaults",
        "response_model_exclude_none",
        "response_description",
        "openapi_extra",
        # OpenAPI callbacks: a router (or its routes) documented under the operation,
        # never served (FastAPI's ``callbacks=``).
        "callbacks",
        # Flask's ``defaults={"page": 1}``: values passed as if the path held them.
        "defaults",
        "subdomain",  # Flask's host routing (kettle.routing.hosts)
        "host",
        # FastAPI's: ``generate_unique_id_function(route)`` names the operation in the
        # OpenAPI document; ``strict_content_type=False`` reads JSON sent without its type.
        "generate_unique_id_function",
        "strict_content_type",
    }
)


@dataclasses.dataclass(slots=True)
class Route:
    """One declared route: a path template, the methods it answers and its handler."""

    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    name: str
    status_code: int | None = None
    limits: Limits | Mapping[str, Any] | None = None
    sync_to_thread: bool = True
    include_in_schema: bool = True
    tags: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    operation_id: str | None = None
    responses: Mapping[int | str, Any] | None = None
    response_model: Any = UNSET
    response_class: type | None = None
    dependencies: tuple[Any, ...] = ()
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: answer ``OPTIONS`` with the path's methods (``None``: unless the route takes
    #: ``OPTIONS`` itself; a view's ``provide_automatic_options`` attribute decides first)
    provide_automatic_options: bool | None = None
    #: Blueprint-style name qualifier ("auth" for "auth.login"); "" at the top level.
    blueprint: str = ""
    #: The routers from the app down to the one that declared the route (for their hooks
    #: and error handlers).
    owners: tuple[Any, ...] = ()
    #: the subdomain each of ``owners`` serves under: its own, or the one it was
    #: registered with (``register_blueprint(bp, subdomain=...)``; ``kettle.routing.hosts``)
    subdomains: tuple[str | None, ...] = ()
    #: the compiled ``await handler(request) -> Response``, set by the compile step for a
    #: route class that overrides :meth:`get_route_handler`
    compiled_handler: Callable[[Any], Awaitable[Any]] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    @property
    def is_websocket(self) -> bool:
        return WEBSOCKET in self.methods

    @property
    def path_format(self) -> str:
        """The path with its parameters' converters left out (``/items/{item_id}``), as a
        ``generate_unique_id_function`` reads it."""
        return inherit.path_format(self.path)

    def get_route_handler(self) -> Callable[[Any], Awaitable[Any]]:
        """The route's handler as ``await handler(request) -> Response``: parameters read
        from that request and validated, the handler called, its value encoded. A
        ``RequestValidationError`` or ``HTTPException`` propagates to the caller.

        Override it in a subclass (``Router(route_class=...)``, ``app.router.route_class``)
        to wrap every request of the routes declared with that class, as in FastAPI; the
        compile step calls it once per route. The default class is never wrapped: its
        routes keep the direct request path.

        Example:
            >>> from kettle import Kettle
            >>> from kettle.routing import Route
            >>> class Timed(Route):
            ...     def get_route_handler(self):
            ...         handle = super().get_route_handler()
            ...         async def timed(request):
            ...             response = await handle(request)
            ...             response.headers["x-timed"] = "yes"
            ...             return response
            ...         return timed
            >>> app = Kettle(__name__)
            >>> app.router.route_class = Timed
            >>> @app.get("/")
            ... async def index() -> dict[str, bool]:
            ...     return {"ok": True}
            >>> from kettle.testing import TestClient
            >>> TestClient(app).get("/").headers["x-timed"]
            'yes'
        """
        if self.compiled_handler is None:
            raise RuntimeError("get_route_handler() is called by the app's compile step")
        return self.compiled_handler


_ROUTE_FIELDS = frozenset(f.name for f in dataclasses.fields(Route))
#: Route fields set by the router itself, never passed as options.
_INTERNAL_FIELDS = frozenset(
    {"path", "endpoint", "methods", "name", "blueprint", "owners", "subdomains", "compiled_handler"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Include:
    router: Router
    prefix: str
    tags: tuple[str, ...]
    dependencies: tuple[Any, ...]
    include_in_schema: bool
    #: replaces the router's own prefix (Flask's ``register_blueprint(url_prefix=...)``)
    own_prefix: str | None = None
    responses: Mapping[int | str, Any] | None = None
    deprecated: bool = False
    #: replaces the router's own name (Flask's ``register_blueprint(name=...)``)
    own_name: str | None = None
    #: route defaults given to ``include_router`` (see :mod:`kettle.routing.inherit`)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: replaces the router's own subdomain (Flask's ``register_blueprint(subdomain=...)``)
    own_subdomain: str | None = None


def join_paths(prefix: str, path: str) -> str:
    """``/api`` + ``/items`` → ``/api/items``; an empty path is the prefix itself."""
    if not prefix:
        return path or "/"
    return prefix.rstrip("/") + path if path else prefix


class Router:
    """A group of routes under a common prefix, nestable and includable.

    A router holds declarations only; ``app.include_router(router, prefix=...)`` makes
    them live. Routes added to a router after it was included are picked up too.

    Example:
        >>> from kettle import Kettle, Router
        >>> users = Router(prefix="/users", tags=["users"])
        >>> @users.get("/{user_id:int}")
        ... async def get_user(user_id: int) -> dict[str, int]:
        ...     return {"id": user_id}
        >>> app = Kettle(__name__)
        >>> app.include_router(users, prefix="/api")
        >>> app.url_path_for("get_user", user_id=7)
        '/api/users/7'
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        include_in_schema: bool = True,
        limits: Limits | Mapping[str, Any] | None = None,
        responses: Mapping[int | str, Any] | None = None,
        deprecated: bool = False,
        route_class: type[Route] = Route,
        default_response_class: type | None = None,
        callbacks: Sequence[Route] | None = None,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        strict_content_type: bool | None = None,
        routes: Sequence[Route] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Callable[[Any], Any] | None = None,
        redirect_slashes: bool = True,
        default: Any = None,
        dependency_overrides_provider: Any = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(
                f"a router prefix must start with '/' and not end with '/': {prefix!r}"
            )
        self.prefix = prefix
        self.name = name
        self.tags = tuple(tags or ())
        self.dependencies = tuple(dependencies or ())
        self.include_in_schema = include_in_schema
        self.limits = limits
        #: extra OpenAPI responses of every route under this router (a route's own win)
        self.responses = dict(responses or {})
        #: every route under this router is marked deprecated in the OpenAPI document
        self.deprecated = deprecated
        #: the class of the routes declared here (a subclass may wrap each request: see
        #: :meth:`Route.get_route_handler`)
        self.route_class = route_class
        self.routes: list[Route] = list(routes or ())
        #: defaults of every route below (see :mod:`kettle.routing.inherit`)
        self.route_defaults = inherit.route_defaults(
            default_response_class, callbacks, generate_unique_id_function, strict_content_type
        )
        #: run with the app's own when the router is included (see :mod:`kettle.lifespan`)
        self.on_startup = list(on_startup or ())
        self.on_shutdown = list(on_shutdown or ())
        self.lifespan = lifespan
        # Only the app's own router answers requests, so only the app's setting counts
        # (as in FastAPI, where an included router's routes move into the app's router).
        self.redirect_slashes = redirect_slashes
        # Starlette's app for unmatched requests and FastAPI's overrides provider: kettle's
        # app answers 404 itself and keeps ``dependency_overrides``; accepted, ignored.
        del default, dependency_overrides_provider
        #: ``(path, asgi_app, name)`` of the apps mounted here (see :meth:`mount`)
        self.mounts: list[tuple[str, Any, str | None]] = []
        self._includes: list[_Include] = []
        self._listeners: list[Callable[[], None]] = []

    # -- change tracking: an app recompiles when any router under it changed -------------

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # -- declaring ------------------------------------------------------------------------

    def add_route(
        self,
        /,
        path: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Route:
        """Register ``endpoint`` for ``path``; ``methods`` defaults to ``["GET"]``."""
        # FastAPI's add_api_route(route_class_override=...): this route's class
        route_class = options.pop("route_class_override", None) or self.route_class
        if isinstance(methods, str):  # "GET POST" would be read letter by letter
            raise TypeError(f"methods for {path!r} must be a list of names, not {methods!r}")
        wanted = frozenset(m.upper() for m in (methods or ("GET",)))
        unknown = wanted - set(HTTP_METHODS) - EXTENSION_METHODS - {WEBSOCKET}
        if unknown:
            raise ValueError(f"unknown HTTP method(s) {sorted(unknown)} for {path!r}")
        known = {k: v for k, v in options.items() if k in _ROUTE_FIELDS}
        extra = {k: v for k, v in options.items() if k not in _ROUTE_FIELDS}
        unknown_options = sorted(set(extra) - EXTRA_OPTIONS) + sorted(set(known) & _INTERNAL_FIELDS)
        if unknown_options:
            accepted = sorted((_ROUTE_FIELDS - _INTERNAL_FIELDS) | EXTRA_OPTIONS)
            raise ConfigurationError(
                f"{describe(endpoint)}: unknown route option "
                f"{', '.join(repr(o) for o in unknown_options)} for {path!r} "
                f"(accepted: {', '.join(accepted)})"
            )
        if known.get("provide_automatic_options") is None:
            known["provide_automatic_options"] = getattr(
                endpoint, "provide_automatic_options", None
            )
        for key in ("tags", "dependencies"):
            if key in known:
                known[key] = tuple(known[key] or ())
        route = route_class(
            path=path,
            endpoint=endpoint,
            methods=wanted,
            name=str(name or getattr(endpoint, "__name__", "endpoint")),
            options={**known.pop("options", {}), **extra},
            **known,
        )
        self.routes.append(route)
        self._changed()
        return route

    def route(
        self, /, path: str, methods: Iterable[str] | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Register the decorated function for ``path`` (Flask style; GET by default).

        Example:
            >>> from kettle import Router
            >>> router = Router()
            >>> @router.route("/items/<int:item_id>", methods=["GET", "POST"])
            ... def item(item_id: int) -> dict[str, int]:
            ...     return {"item_id": item_id}
        """

        if "endpoint" in options:  # Flask's name for the route name
            options["name"] = options.pop("endpoint")

        def decorator(func: F) -> F:
            self.add_route(path, func, methods, **options)
            return func

        return decorator

    api_route = route
    add_api_route = add_route  # FastAPI's names

    def _method(self, method: str) -> Callable[..., Callable[[F], F]]:
        def register(path: str, **options: Any) -> Callable[[F], F]:
            return self.route(path, [method], **options)

        register.__name__ = method.lower()
        register.__doc__ = f"Register the decorated function for ``{method} path``."
        return register

    def get(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``GET path`` (``HEAD`` is answered too)."""
        return self.route(path, ["GET"], **options)

    def post(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``POST path``."""
        return self.route(path, ["POST"], **options)

    def put(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``PUT path``."""
        return self.route(path, ["PUT"], **options)

    def patch(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``PATCH path``."""
        return self.route(path, ["PATCH"], **options)

    def delete(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``DELETE path``."""
        return self.route(path, ["DELETE"], **options)

    def options(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``OPTIONS path``."""
        return self.route(path, ["OPTIONS"], **options)

    def head(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``HEAD path``."""
        return self.route(path, ["HEAD"], **options)

    def trace(self, /, path: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function for ``TRACE path``."""
        return self.route(path, ["TRACE"], **options)

    def add_websocket_route(
        self, /, path: str, endpoint: Callable[..., Any], name: str | None = None, **options: Any
    ) -> Route:
        """Register a WebSocket handler for ``path``."""
        return self.add_route(path, endpoint, [WEBSOCKET], name, include_in_schema=False, **options)

    def websocket(self, /, path: str, name: str | None = None, **options: Any) -> Callable[[F], F]:
        """Register the decorated function as the WebSocket handler for ``path``.

        Example:
            >>> from kettle import Router, WebSocket
            >>> router = Router()
            >>> @router.websocket("/ws")
            ... async def echo(ws: WebSocket) -> None:
            ...     await ws.accept()
            ...     await ws.send_text(await ws.receive_text())
            ...     await ws.close()
        """

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, name, **options)
            return func

        return decorator

    add_api_websocket_route = add_websocket_route

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serve any ASGI ``app`` under ``path``: a sub-application (another kettle or
        FastAPI app with its own docs), static files, a WSGI app behind an adapter.

        Routes come first: a request no route takes whose path is ``path`` or starts with
        ``path + "/"`` goes to the mounted app (the longest matching mount), with
        ``root_path`` extended by the mount's path and ``path`` left whole, as ASGI
        servers pass them. ``name`` makes ``url_path_for(name, path="/file")`` build URLs
        into it.

        Example:
            >>> from kettle import Kettle
            >>> from kettle.testing import TestClient
            >>> api = Kettle(__name__)
            >>> @api.get("/ping")
            ... async def ping() -> str:
            ...     return "pong"
            >>> app = Kettle(__name__)
            >>> app.mount("/api", api)
            >>> TestClient(app).get("/api/ping").text
            'pong'
        """
        if path != "" and (not path.startswith("/") or path.endswith("/")):
            raise ValueError(f"a mount path must start with '/' and not end with '/': {path!r}")
        if not callable(app):
            raise ConfigurationError(f"mount({path!r}): {app!r} is not an ASGI app")
        self.mounts.append((path, app, name))
        self._changed()

    def iter_mounts(
        self, prefix: str = "", own_prefix: str | None = None
    ) -> Iterator[tuple[str, Any, str | None]]:
        """Every app mounted under this router, with its full path."""
        mine = self.prefix if own_prefix is None else own_prefix
        base = join_paths(prefix, mine) if mine else prefix
        for path, app, name in self.mounts:
            yield (base.rstrip("/") + path, app, name)
        for inc in self._includes:
            yield from inc.router.iter_mounts(
                join_paths(base, inc.prefix) if inc.prefix else base, inc.own_prefix
            )

    def include_router(
        self,
        router: Router,
        prefix: str = "",
        *,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        include_in_schema: bool = True,
        own_prefix: str | None = None,
        responses: Mapping[int | str, Any] | None = None,
        deprecated: bool = False,
        own_name: str | None = None,
        default_response_class: type | None = None,
        callbacks: Sequence[Route] | None = None,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        own_subdomain: str | None = None,
    ) -> None:
        """Serve ``router``'s routes under ``prefix`` (added to the router's own prefix;
        ``own_prefix`` replaces the router's own prefix instead). ``tags``,
        ``dependencies``, ``responses`` and ``deprecated`` apply to every included route,
        outside the router's own; ``own_name`` replaces the router's name in its routes'
        names, ``own_subdomain`` its subdomain (a blueprint registered twice)."""
        if router is self or router._reaches(self):
            raise ValueError("including this router would make a cycle")
        for given in (prefix, own_prefix):
            if given and (not given.startswith("/") or given.endswith("/")):
                raise ValueError(f"a prefix must start with '/' and not end with '/': {given!r}")
        self._includes.append(
            _Include(
                router,
                prefix,
                tuple(tags or ()),
                tuple(dependencies or ()),
                include_in_schema,
                own_prefix,
                dict(responses or {}),
                deprecated,
                own_name,
                inherit.route_defaults(
                    default_response_class, callbacks, generate_unique_id_function
                ),
                own_subdomain,
            )
        )
        router._listeners.append(self._changed)
        self._changed()

    def iter_routers(self) -> Iterator[Router]:
        """This router and every router included under it, each once."""
        seen: set[int] = set()
        stack = [self]
        while stack:
            router = stack.pop(0)
            if id(router) not in seen:
                seen.add(id(router))
                yield router
                stack.extend(inc.router for inc in router._includes)

    def _reaches(self, target: Router) -> bool:
        return any(inc.router is target or inc.router._reaches(target) for inc in self._includes)

    # -- flattening (used by the app's compile step) --------------------------------------

    def iter_routes(
        self,
        prefix: str = "",
        blueprint: str = "",
        tags: tuple[str, ...] = (),
        dependencies: tuple[Any, ...] = (),
        include_in_schema: bool = True,
        limits: Limits | Mapping[str, Any] | None = None,
        owners: tuple[Any, ...] = (),
        own_prefix: str | None = None,
        bases: dict[int, str] | None = None,
        responses: Mapping[int | str, Any] | None = None,
        deprecated: bool = False,
        own_name: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        subdomains: tuple[str | None, ...] = (),
        own_subdomain: str | None = None,
    ) -> Iterator[Route]:
        """Every route under this router, with prefixes joined and options inherited.

        ``bases``, when given, receives each router's full path prefix (by ``id``).
        """
        mine = self.prefix if own_prefix is None else own_prefix
        base = join_paths(prefix, mine) if mine else prefix
        owners = (*owners, self)
        mine_sub = getattr(self, "subdomain", None) if own_subdomain is None else own_subdomain
        subdomains = (*subdomains, mine_sub)
        if bases is not None:
            bases[id(self)] = base
        qualifier = ".".join(p for p in (blueprint, own_name or self.name or "") if p)
        tags = tags + self.tags
        dependencies = dependencies + self.dependencies
        include_in_schema = include_in_schema and self.include_in_schema
        limits = merge_limits(limits, self.limits)
        responses = {**(responses or {}), **self.responses}
        deprecated = deprecated or self.deprecated
        defaults = inherit.merge(defaults or {}, self.route_defaults)
        for declared in self.routes:
            route = inherit.apply(declared, defaults)
            yield dataclasses.replace(
                route,
                path=join_paths(base, route.path),
                name=f"{qualifier}.{route.name}" if qualifier else route.name,
                blueprint=qualifier,
                tags=tuple(dict.fromkeys(tags + route.tags)),
                dependencies=dependencies + route.dependencies,
                include_in_schema=include_in_schema and route.include_in_schema,
                limits=merge_limits(limits, route.limits),
                owners=owners,
                subdomains=subdomains,
                responses={**responses, **(route.responses or {})} or route.responses,
                deprecated=deprecated or route.deprecated,
            )
        for inc in self._includes:
            yield from inc.router.iter_routes(
                join_paths(base, inc.prefix) if inc.prefix else base,
                qualifier,
                tags + inc.tags,
                dependencies + inc.dependencies,
                include_in_schema and inc.include_in_schema,
                limits,
                owners,
                inc.own_prefix,
                bases,
                {**responses, **(inc.responses or {})},
                deprecated or inc.deprecated,
                inc.own_name,
                inherit.merge(defaults, inc.defaults),
                subdomains,
                inc.own_subdomain,
            )
