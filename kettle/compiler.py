"""Compiling an app: its declarations, route by route, into one frozen :class:`CompiledApp`.

``Kettle.compile()`` gathers the routes (the app's, its routers' and blueprints', the static
folders' and the docs pages') and hands each to :class:`Build`, which parses its path, plans
its handler, picks its hooks and error handlers, and adds its endpoint to the matcher. What
comes out is replaced as a whole when a declaration changes; nothing in it changes while
requests are served.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from kettle.dispatch import (
    DispatchTable,
    Endpoint,
    compile_automatic_options,
    compile_endpoint,
    compile_unrouted,
    make_dispatch,
    methods_allowed,
)
from kettle.errorhandlers import ExceptionHandlers
from kettle.exceptions import ConfigurationError
from kettle.flaskrequest import read_ahead
from kettle.hooks import route_error_layers, route_hooks
from kettle.introspection import describe, generator_kind
from kettle.middleware.debug import debug_response
from kettle.middleware.errors import ServerErrorMiddleware
from kettle.params import Depends
from kettle.plan import RoutePlan
from kettle.responses import JSONResponse, Response
from kettle.routing.hosts import HostRouting
from kettle.routing.matcher import Matcher
from kettle.routing.patterns import PathPattern, PatternError, parse_pattern
from kettle.routing.routes import UNSET, Route
from kettle.routing.urls import URLMap
from kettle.scaffold import url_only
from kettle.serialization import ResponseEncoder, model_for
from kettle.signature import CallSpec, analyze
from kettle.socketendpoint import compile_websocket_endpoint
from kettle.streams import item_type, stream_invoker
from kettle.types import ASGIApp, Scope
from kettle.urlprocessing import (
    preprocessor_hook,
    route_preprocessors,
    with_blueprint_url_defaults,
)

if TYPE_CHECKING:
    from kettle.concurrency import ThreadPool
    from kettle.di import AppScope
    from kettle.limits import Limits
    from kettle.openapi.models import PlanEntry

#: the methods whose requests carry no body a view reads (RFC 9110 9.3)
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CompilingApp(Protocol):
    """What the compile step reads of the app (``Kettle``; a Protocol, so this module does
    not import the app that imports it)."""

    @property
    def thread_pool(self) -> ThreadPool: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def debug(self) -> bool: ...

    @property
    def error_handlers(self) -> Mapping[Any, Any]: ...

    @property
    def before_request_funcs(self) -> Sequence[Callable[..., Any]]: ...

    @property
    def after_request_funcs(self) -> Sequence[Callable[..., Any]]: ...

    @property
    def teardown_request_funcs(self) -> Sequence[Callable[..., Any]]: ...

    @property
    def blueprints(self) -> Mapping[str, Any]: ...

    @property
    def redirect_slashes(self) -> bool: ...

    @property
    def strict_content_type(self) -> bool: ...

    @property
    def default_response_class(self) -> type | None: ...

    @property
    def returns_pages(self) -> bool: ...

    @property
    def allow_shadowed_routes(self) -> bool: ...

    @property
    def slash_redirect_status(self) -> int: ...

    @property
    def conventions(self) -> str: ...

    @property
    def converters(self) -> Mapping[str, Any]: ...

    @property
    def app_scope(self) -> AppScope: ...

    @property
    def dependency_overrides(self) -> Mapping[Callable[..., Any], Callable[..., Any]]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledApp:
    """What ``Kettle.compile()`` builds, frozen: replaced as a whole when declarations change.

    Attributes:
        stack: the ASGI callable requests enter (middleware around dispatch).
        routes: the app's own routes, flattened (prefixes joined, names qualified).
        urls: route names to paths, for ``url_path_for`` and ``url_for`` alike.
        plans: every HTTP route with its pattern, plan and response encoder (the OpenAPI
            document is built from these).
        app_scoped: the app-scoped dependencies to create at startup.
        url_defaults: what ``url_for`` runs for each route name, kept once looked up.
        match_request: the route a request scope would be served by, and its path values
            (for ``test_request_context``: Flask's ``request.endpoint`` there); never
            called by dispatch.
        allowed_methods: the methods a request's path answers (Flask's
            ``make_default_options_response``).
    """

    stack: ASGIApp
    routes: tuple[Route, ...]
    urls: URLMap
    plans: tuple[PlanEntry, ...]
    app_scoped: Mapping[Callable[..., Any], CallSpec]
    match_request: Callable[[Scope], tuple[Route, dict[str, Any]] | None] | None = None
    allowed_methods: Callable[[Scope], set[str]] | None = None
    #: the URL default functions of each route name ``url_for`` built, filled on first use
    #: (``kettle.urlprocessing.inject_url_defaults``)
    url_defaults: dict[str, tuple[Callable[..., Any], ...]] = dataclasses.field(
        default_factory=dict
    )


class _MountPattern(PathPattern):
    """A mount's URLs: its path, then the ``path`` value, with or without its leading
    slash (``url_path_for("static", path="/site.css")`` as Starlette users write it)."""

    def format(self, values: Mapping[str, Any]) -> str:
        return super().format({**values, "path": str(values.get("path", "")).lstrip("/")})


class Build:
    """The state of one compile: what every route adds to, and the app-wide pieces."""

    def __init__(self, app: CompilingApp) -> None:
        self.app = app
        self.pool = app.thread_pool
        limits = app.limits
        self.max_content = app.config.get("MAX_CONTENT_LENGTH")
        if self.max_content is not None:  # Flask's setting, mapped onto the body limit
            limits = limits.replace(max_body_size=int(self.max_content))
        self.limits = limits
        self.debug_page = debug_response if app.debug else None
        self.app_handlers = dict(app.error_handlers)
        self.app_hooks: tuple[list[Callable[..., Any]], ...] = (
            list(app.before_request_funcs),
            list(app.after_request_funcs),
            list(app.teardown_request_funcs),
        )
        for bp in app.blueprints.values():
            self.app_handlers.update(bp.app_error_handlers)
            self.app_hooks[0].extend(bp.app_before_request_funcs)
            self.app_hooks[1].extend(bp.app_after_request_funcs)
            self.app_hooks[2].extend(bp.app_teardown_request_funcs)
        self.errors = ExceptionHandlers(self.app_handlers, self.pool, self.debug_page)
        # One handler table per set of blueprints around a route, shared by their routes.
        self.tables: dict[tuple[int, ...], ExceptionHandlers] = {(): self.errors}
        self.matcher: Matcher[Endpoint] = Matcher()
        #: ``(full path, asgi_app)`` of the mounted apps
        self.mounts: list[tuple[str, Any]] = []
        self.urls = URLMap()
        self.plans: list[PlanEntry] = []
        self.app_scoped: dict[Callable[..., Any], CallSpec] = {}
        #: a second handler for a routed method and path is ignored rather than refused
        self.shadowing = app.allow_shadowed_routes
        #: the patterns answering OPTIONS automatically (added last: a route's own wins)
        self.automatic_options: list[PathPattern] = []
        #: subdomain or host matching (``routing/hosts.py``): the extra leading segment
        self.hosts = HostRouting.for_app(app)
        #: each endpoint's route, by ``id`` (:func:`_request_matcher`)
        self.endpoint_routes: dict[int, Route] = {}

    def add(self, route: Route) -> None:
        """Compile ``route`` and route its methods to it."""
        route = with_blueprint_url_defaults(self.app, route)
        pattern = self.pattern(route)
        url_pattern = self.hosts.url_pattern(route, pattern, self.app.converters)
        self.urls.add(route.name, url_pattern, route.endpoint, route.methods)
        limits = self.limits.merged(route.limits)
        if self.max_content is not None and limits.max_body_size == self.app.limits.max_body_size:
            # Flask's MAX_CONTENT_LENGTH, unless this route set its own body limit.
            limits = limits.replace(max_body_size=int(self.max_content))
        # What the matcher routes on: the path, or the host part and the path.
        template = self.hosts.template(route)
        routed = pattern if template == route.path else None
        if template is not None and routed is None:
            routed = self.pattern(route, template)
        owners = route.owners or (self.app,)
        preprocess = self.url_preprocessors(route, owners)
        plan = self.plan(route, routed or pattern, unbound_ok=bool(preprocess))
        if route.is_websocket:
            endpoint = compile_websocket_endpoint(route, plan, limits)
        else:
            encoder = self.encoder(route, plan)
            self.plans.append((route, pattern, plan, encoder))
            plan.respond_with(route.status_code, encoder, pages=self.app.returns_pages)
            response_class = route.response_class or self.app.default_response_class
            invoke = None
            kind = generator_kind(route.endpoint)
            if kind is not None:
                invoke = self.stream(route, plan, kind, response_class)
            elif _renders_itself(response_class):
                plan.encode = _class_encoder(response_class, route.status_code, encoder)
                plan.encodes_plain_data = False
            if self.reads_ahead(route, plan):
                plan.read_first(read_ahead)
            hooks = route_hooks(self.app_hooks, owners, self.pool, preprocess)
            endpoint = compile_endpoint(
                route, plan, limits, self.pool, hooks, self.error_table(route), self.app, invoke
            )
        defaults = route.options.get("defaults")
        if defaults:
            endpoint = _with_defaults(endpoint, dict(defaults))
        self.endpoint_routes[id(endpoint)] = route
        methods = route.methods
        automatic = route.provide_automatic_options
        if automatic is None:
            automatic = "OPTIONS" not in methods
        if routed is None:
            return  # a subdomain route of an app without subdomain matching: url_for only
        if automatic and not route.is_websocket:
            # Flask's rule: an automatic answer asked for beats the route's own OPTIONS.
            methods = methods - {"OPTIONS"}
            self.automatic_options.append(routed)
        for method in sorted(methods):
            if not self.matcher.add(routed, method, endpoint) and not self.shadowing:
                raise ConfigurationError(
                    f"{describe(route.endpoint)}: {method} {route.path} is already routed"
                )
        if "GET" in route.methods and "HEAD" not in route.methods:
            self.matcher.add(routed, "HEAD", endpoint)  # implicit HEAD; an explicit one wins

    def reads_ahead(self, route: Route, plan: RoutePlan) -> bool:
        """Whether the route's body is read before its handler runs: an ``async def``
        Flask view (no body, form or ``Request`` parameter, in an app answering pages)
        for a method that carries a body, whose ``request.form`` and ``get_json()``
        cannot wait for it on the event loop (``kettle.flaskrequest.read_ahead``)."""
        return (
            self.app.returns_pages
            and plan.spec.is_async
            and not plan.reads_body
            and bool(route.methods - _BODILESS)
        )

    def finish(
        self,
        routes: Sequence[Route],
        lifespan: ASGIApp,
        middleware: Sequence[Any],
    ) -> CompiledApp:
        """The compiled app, once every route was added: dispatch (with the answer for
        requests no route takes), wrapped in the app's middleware."""
        app_wide = route_hooks(self.app_hooks, (self.app,), self.pool)
        unrouted = compile_unrouted(self.app, app_wide, self.errors, self.limits, self.pool)
        options = compile_automatic_options(self.matcher, unrouted)
        for pattern in self.automatic_options:
            self.matcher.add(pattern, "OPTIONS", options)  # False: a route's own OPTIONS
        prebuilt = None
        if not app_wide and not self.errors.customized(404):
            prebuilt = JSONResponse({"detail": "Not Found"}, 404)
        mounts = sorted(self.mounts, key=lambda mount: len(mount[0]), reverse=True)
        host_key = self.hosts.key_function()
        table = DispatchTable(
            self.matcher,
            self.limits,
            self.app.redirect_slashes,
            unrouted,
            prebuilt,
            tuple(mounts),
            self.app.slash_redirect_status,
            host_key,
        )
        stack: ASGIApp = make_dispatch(table, lifespan)
        if middleware:
            for entry in reversed(middleware):
                stack = entry.build(stack)
            stack = ServerErrorMiddleware(stack, self.errors)
        return CompiledApp(
            stack=stack,
            routes=tuple(routes),
            urls=self.urls,
            plans=tuple(self.plans),
            app_scoped=self.app_scoped,
            match_request=_request_matcher(self.matcher, host_key, self.endpoint_routes),
            allowed_methods=methods_allowed(self.matcher),
        )

    def with_views(
        self, routes: list[Route], views: Mapping[str, Callable[..., Any]]
    ) -> list[Route]:
        """The routes to serve: rules declared without a view get the one registered under
        their name (``@app.endpoint``); those with none only build URLs."""
        served = []
        for route in routes:
            if route.endpoint is url_only:
                view = views.get(route.name)
                if view is None:
                    self.urls.add(route.name, self.pattern(route))
                    continue
                route = dataclasses.replace(route, endpoint=view)
            served.append(route)
        return served

    def mount(self, path: str, app: ASGIApp, name: str | None) -> None:
        """Send requests under ``path`` no route takes to ``app``; ``name`` builds URLs."""
        if name is not None:
            parsed = self.pattern(Route(f"{path}/{{path:path}}", app, frozenset(), name))
            self.urls.add(name, _MountPattern(parsed.template, parsed.segments), app)
        self.mounts.append((path, app))

    def error_table(self, route: Route) -> ExceptionHandlers:
        """The error handlers for ``route``: its blueprints' (innermost first), then the app's."""
        key = tuple(id(o) for o in route.owners[1:] if getattr(o, "error_handlers", None))
        table = self.tables.get(key)
        if table is None:
            layers = route_error_layers(route.owners)
            table = self.tables[key] = ExceptionHandlers(
                self.app_handlers, self.pool, self.debug_page, layers
            )
        return table

    def pattern(self, route: Route, template: str | None = None) -> PathPattern:
        try:
            return parse_pattern(template or route.path, self.app.converters)
        except PatternError as exc:
            raise ConfigurationError(f"{describe(route.endpoint)}: {exc}") from None

    def url_preprocessors(self, route: Route, owners: Sequence[Any]) -> list[Callable[..., Any]]:
        """The hook running the route's URL value preprocessors, if it has any."""
        app: Any = self.app
        funcs = route_preprocessors(app.router, app.blueprints.values(), owners)
        return [preprocessor_hook(funcs, route.name)] if funcs else []

    def plan(self, route: Route, pattern: PathPattern, unbound_ok: bool = False) -> RoutePlan:
        """The route's plan; ``unbound_ok``: a URL value preprocessor may pop path values
        the handler does not take."""
        dependencies = [d for d in route.dependencies if isinstance(d, Depends)]
        if len(dependencies) != len(route.dependencies):
            raise ConfigurationError(
                f"{describe(route.endpoint)}: dependencies=[...] takes Depends(...) items"
            )
        # Flask's ``defaults={...}``: values the handler gets as if they were in the path.
        path_names = [*pattern.params, *(route.options.get("defaults") or {})]
        try:
            spec = analyze(
                route.endpoint,
                path_names,
                dependencies,
                self.app.dependency_overrides,
                unbound_ok=unbound_ok,
            )
        except ConfigurationError as exc:
            raise _naming(route, exc) from exc
        for prm in spec.params:
            converter = pattern.params.get(prm.name)
            # PERF: a path value the converter already produced as the annotated type (or
            # an unannotated one) needs no second validation.
            if (
                prm.location == "path"
                and converter is not None
                and prm.annotation in (Any, converter.converter.python_type)
                and not prm.marker.constraints()
            ):
                prm.annotation = Any
        try:
            plan = RoutePlan(
                spec,
                self.pool,
                self.app.app_scope,
                strict_content_type=route.options.get(
                    "strict_content_type", self.app.strict_content_type
                ),
            )
        except ConfigurationError as exc:
            raise _naming(route, exc) from exc
        if self.app.conventions == "fastapi":
            plan.use_fastapi_conventions()
        for step in plan.steps:
            if step.spec.scope == "app":
                self.app_scoped.setdefault(step.spec.func, step.spec)
        return plan

    def stream(
        self, route: Route, plan: RoutePlan, kind: str, response_class: Any
    ) -> Callable[..., Any]:
        """How a generator handler is called: its items streamed (see ``streams.py``)."""
        element = item_type(plan.spec.return_annotation)
        model = model_for(element, UNSET, UNSET) if element is not None else None
        items = ResponseEncoder(model, route.options) if model is not None else None
        return stream_invoker(
            route.endpoint,
            kind,
            self.pool,
            response_class,
            items.to_content if items is not None else None,
            items.encode if items is not None else None,
            route.status_code,
        )

    def encoder(self, route: Route, plan: RoutePlan) -> ResponseEncoder | None:
        if generator_kind(route.endpoint) is not None:
            return None  # its items are validated one by one (see stream())
        model = model_for(plan.spec.return_annotation, route.response_model, UNSET)
        if model is None:
            return None
        try:
            return ResponseEncoder(model, route.options)
        except Exception as exc:  # pydantic cannot build a schema for it
            raise ConfigurationError(
                f"{describe(route.endpoint)}: invalid response model {model!r}: {exc}"
            ) from exc


def _renders_itself(response_class: Any) -> bool:
    """Whether return values must be handed to ``response_class`` rather than take
    kettle's own JSON encoding: any class but ``JSONResponse`` and its subclasses that
    keep its rendering (``JSONResponse`` itself goes the fast way)."""
    if response_class is None:
        return False
    if isinstance(response_class, type) and issubclass(response_class, JSONResponse):
        return response_class.render is not JSONResponse.render
    return True


def _class_encoder(
    response_class: Any, status: int | None, model: ResponseEncoder | None
) -> Callable[[Any], Any]:
    """Hand each return value (filtered through the response model, if any) to the
    route's response class, as FastAPI does: ``RedirectResponse`` for a URL,
    ``FileResponse`` for a path, a class of your own with its ``render``. The class's own
    default status stands unless the route gave one."""
    extra = {} if status is None else {"status_code": status}
    to_content = model.to_content if model is not None else None

    def encode(value: Any) -> Any:
        if isinstance(value, Response):
            return value
        content = to_content(value) if to_content is not None else value
        return response_class(content, **extra)

    return encode


def _naming(route: Route, exc: ConfigurationError) -> ConfigurationError:
    """``exc``, prefixed with the route's handler when it names only a dependency."""
    label = describe(route.endpoint)
    if label in str(exc):
        return exc
    return ConfigurationError(f"{label}: {exc}")


def _with_defaults(endpoint: Endpoint, defaults: dict[str, Any]) -> Endpoint:
    """``endpoint`` given the route's ``defaults`` beside the values its path (or host)
    matched, in ``scope["path_params"]`` too (Flask's ``request.view_args``). A default
    wins over a matched value of the same name, as in Werkzeug: it is the rule's own."""

    async def with_defaults(scope: Any, receive: Any, send: Any, params: dict[str, Any]) -> None:
        values = {**params, **defaults}
        scope["path_params"] = values
        await endpoint(scope, receive, send, values)

    return with_defaults


def _request_matcher(
    matcher: Matcher[Endpoint],
    host_key: Callable[[Scope], str | None] | None,
    routes: Mapping[int, Route],
) -> Callable[[Scope], tuple[Route, dict[str, Any]] | None]:
    """Match a request scope as dispatch would, without serving it."""

    def match_request(scope: Scope) -> tuple[Route, dict[str, Any]] | None:
        path: str = scope.get("path", "/")
        root = scope.get("root_path")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        if host_key is not None:
            prefix = host_key(scope)
            if prefix is None:
                return None
            path = prefix + path
        found = matcher.match(path, scope.get("method", "GET"))
        route = None if found is None else routes.get(id(found[0]))
        if found is None or route is None:
            return None
        return route, {**found[1], **(route.options.get("defaults") or {})}

    return match_request
