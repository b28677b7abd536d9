"""The application: settings, registration, lifespan and the compile step."""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kettle.aborting import Aborter
from kettle.applogging import create_logger
from kettle.aswsgi import StartResponse, WSGIBridge
from kettle.compiler import Build, CompiledApp
from kettle.concurrency import ThreadPool
from kettle.config import FlaskAppSettings
from kettle.datastructures import State
from kettle.di import AppScope, DependencyOverrides
from kettle.errorhandlers import ExceptionHandler
from kettle.flaskrequest import FlaskRequest
from kettle.introspection import mark_coroutine_function
from kettle.lifespan import Hook, Lifespan, as_lifespan, run_lifespan, serve_lifespan
from kettle.limits import Limits
from kettle.middleware import Middleware
from kettle.middleware.configured import configured_layers
from kettle.openapi.document import OpenAPIDocument
from kettle.openapi.models import JSONDict, OpenAPIConfig
from kettle.params import Depends
from kettle.parts import Attribute, Method
from kettle.requests import Request
from kettle.routing.converters import DEFAULT_CONVERTERS, Converter
from kettle.routing.hosts import check_options as check_host_options
from kettle.routing.routes import Route
from kettle.routing.urls import NoMatchFound as NoMatchFound  # re-exported
from kettle.scaffold import Scaffold
from kettle.types import ASGIApp, Receive, Scope, Send
from kettle.webapp import WebApp

if TYPE_CHECKING:
    import click

    from kettle.commands import AppCliRunner
    from kettle.jsonprovider import JSONProvider
    from kettle.rules import URLMap
    from kettle.sessions import SessionInterface
    from kettle.templating import Templating
    from kettle.testing import TestClient

F = TypeVar("F", bound=Callable[..., Any])


class Kettle(FlaskAppSettings):
    """A kettle application: declare routes, then serve it with any ASGI server.

    Args:
        import_name: the module defining the app (pass ``__name__``); templates and static
            files are looked up beside it (or under ``root_path``).
        debug: show tracebacks in error pages (never enable in production); ``None``
            reads the ``KETTLE_DEBUG`` environment variable.
        static_folder, static_url_path, template_folder: where static files (served at
            ``/static``) and templates live, relative to ``root_path``.
        lifespan: an async context manager factory ``lifespan(app)`` (or an async generator
            function) wrapping the app's life; a dict it yields becomes ``request.state``.
        on_startup, on_shutdown: plain or async callables run at startup and shutdown.
        limits: input limits for every route (see :class:`~kettle.Limits`).
        thread_pool_size: threads available to plain ``def`` handlers.
        redirect_slashes: answer ``/items`` with a 308 to ``/items/`` (or the reverse) when
            only the other form is routed.
        default_response_class: the response class of every route that names none
            (FastAPI's setting): return values are handed to it.
        strict_content_type: a JSON body must say so in its ``Content-Type`` (else 415);
            ``False`` reads a body with no ``Content-Type`` at all as JSON too (FastAPI's
            setting; it lets a page elsewhere post JSON without a CORS preflight).
        middleware: ``Middleware(cls, **options)`` entries, outermost first.
        exception_handlers: ``{status or exception class: handler}``.
        dependencies: ``Depends(...)`` run before every route's handler (auth, say).
        title, version, description: the app's name, version and description in its
            OpenAPI document (served at ``/openapi.json``, with Swagger UI at ``/docs`` and
            ReDoc at ``/redoc``).
        openapi_url, docs_url, redoc_url, swagger_ui_oauth2_redirect_url, summary,
        terms_of_service, contact, license_info, openapi_tags, servers,
        generate_unique_id_function, swagger_ui_parameters, swagger_ui_init_oauth: the
            fields of the same names of :class:`~kettle.openapi.OpenAPIConfig` (a URL set
            to ``None`` turns that page off).
        openapi: an :class:`~kettle.openapi.OpenAPIConfig` for the other settings; the
            keyword arguments above override its fields.
        instance_path: the folder for files the app writes (``instance/`` beside the
            package by default); ``instance_relative_config``: config files load from it.

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> @app.get("/items/{item_id:int}")
        ... async def item(item_id: int) -> dict[str, int]:
        ...     return {"item_id": item_id}
    """

    # -- routing and registration: the root router's, under the app's name ------------------
    add_route = Method("router", Scaffold.add_route)
    route = Method("router", Scaffold.route)
    api_route = Method("router", Scaffold.route)
    get = Method("router", Scaffold.get)
    post = Method("router", Scaffold.post)
    put = Method("router", Scaffold.put)
    patch = Method("router", Scaffold.patch)
    delete = Method("router", Scaffold.delete)
    options = Method("router", Scaffold.options)
    head = Method("router", Scaffold.head)
    trace = Method("router", Scaffold.trace)
    add_websocket_route = Method("router", Scaffold.add_websocket_route)
    websocket = Method("router", Scaffold.websocket)
    mount = Method("router", Scaffold.mount)
    include_router = Method("router", Scaffold.include_router)
    iter_routes = Method("router", Scaffold.iter_routes)
    iter_mounts = Method("router", Scaffold.iter_mounts)
    before_request = Method("router", Scaffold.before_request)
    after_request = Method("router", Scaffold.after_request)
    teardown_request = Method("router", Scaffold.teardown_request)
    url_value_preprocessor = Method("router", Scaffold.url_value_preprocessor)
    url_defaults = Method("router", Scaffold.url_defaults)
    errorhandler = Method("router", Scaffold.errorhandler)
    register_error_handler = Method("router", Scaffold.register_error_handler)
    add_url_rule = Method("router", Scaffold.add_url_rule)
    endpoint = Method("router", Scaffold.endpoint)
    view_functions: Attribute[dict[str, Callable[..., Any]]] = Attribute("router")
    routes: Attribute[list[Route]] = Attribute("router")
    mounts: Attribute[list[tuple[str, Any, str | None]]] = Attribute("router")
    error_handlers: Attribute[dict[int | type[BaseException], Any]] = Attribute("router")
    before_request_funcs: Attribute[list[Callable[..., Any]]] = Attribute("router")
    after_request_funcs: Attribute[list[Callable[..., Any]]] = Attribute("router")
    teardown_request_funcs: Attribute[list[Callable[..., Any]]] = Attribute("router")
    dependencies: Attribute[tuple[Any, ...]] = Attribute("router")
    import_name: Attribute[str] = Attribute("router")
    root_path: Attribute[str] = Attribute("router")
    static_folder: Attribute[str | os.PathLike[str] | None] = Attribute("router")
    static_url_path: Attribute[str | None] = Attribute("router")
    template_folder: Attribute[str | os.PathLike[str] | None] = Attribute("router")
    static_path: Attribute[str | None] = Attribute("router")
    template_path: Attribute[str | None] = Attribute("router")
    #: app-wide input limits: always a full Limits (a Router's may be partial)
    limits: Attribute[Limits] = Attribute("router")
    #: the app-level error handlers, under FastAPI's name for Flask's ``error_handlers``
    exception_handlers: Attribute[dict[int | type[BaseException], Any]] = Attribute(
        "router", "error_handlers"
    )
    #: ``add_exception_handler(key, handler)``: FastAPI's ``register_error_handler``
    add_exception_handler = Method("router", Scaffold.register_error_handler)

    # -- Flask's application features: the web part's, under Flask's names ----------------
    #: how sessions are loaded and saved: signed cookies unless you plug in a store
    session_interface: Attribute[SessionInterface] = Attribute("web")
    #: the app's templates (created on first use: Jinja2 is imported only then)
    templating: Attribute[Templating] = Attribute("web")
    #: a click group for the app's own commands (``@app.cli.command()``), run inside an
    #: app context as ``kettle --app module:app NAME``
    cli: Attribute[click.Group] = Attribute("web")
    test_request_context = Method("web", WebApp.test_request_context)

    #: the class of the request objects handlers and ``kettle.request`` get: the core
    #: ``Request`` with Flask's synchronous API on top (Flask's ``Flask.request_class``)
    request_class: type[Request] = FlaskRequest
    #: the class of ``app.jinja_env``: ``None`` for kettle's ``templating.Environment``,
    #: or a subclass of it (Flask's ``Flask.jinja_environment``)
    jinja_environment: type[Any] | None = None
    #: the class of :attr:`aborter`, what ``abort()`` raises through in this app's contexts
    aborter_class: type[Aborter] = Aborter
    #: a returned ``str``/``bytes`` is an HTML page and a tuple is ``(body, status,
    #: headers)``, as in Flask; ``False`` (``kettle.fastapi.FastAPI``): everything a
    #: handler returns is JSON, as in FastAPI
    returns_pages: bool = True
    #: ``False``: a second handler for a method and path already routed is a
    #: ``ConfigurationError`` (it could never run); ``True`` (``kettle.fastapi.FastAPI``):
    #: it is ignored, the first one answers, as in FastAPI
    allow_shadowed_routes: bool = False
    #: the status of the trailing-slash redirect: 308, permanent (``kettle.fastapi.FastAPI``:
    #: 307, as in FastAPI); both keep the method and body
    slash_redirect_status: int = 308
    #: how requests are read and their errors reported: kettle's (``"kettle"``) or
    #: FastAPI's (``"fastapi"``, ``kettle.fastapi.FastAPI``); applied to each plan as the
    #: app compiles
    conventions: str = "kettle"

    def __init__(
        self,
        import_name: str = "__main__",
        *,
        debug: bool | None = None,
        static_folder: str | None = "static",
        static_url_path: str | None = None,
        template_folder: str | None = "templates",
        lifespan: Lifespan | Callable[..., Any] | None = None,
        on_startup: Sequence[Hook] | None = None,
        on_shutdown: Sequence[Hook] | None = None,
        limits: Limits | None = None,
        thread_pool_size: int = 40,
        redirect_slashes: bool = True,
        strict_content_type: bool = True,
        default_response_class: type | None = None,
        root_path: str | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[int | type[BaseException], ExceptionHandler] | None = None,
        title: str = "kettle",
        version: str = "0.1.0",
        description: str = "",
        dependencies: Sequence[Depends] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        summary: str | None = None,
        terms_of_service: str | None = None,
        contact: Mapping[str, Any] | None = None,
        license_info: Mapping[str, Any] | None = None,
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        servers: Sequence[Mapping[str, Any]] | None = None,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        swagger_ui_init_oauth: Mapping[str, Any] | None = None,
        openapi: OpenAPIConfig | None = None,
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        subdomain_matching: bool = False,
        host_matching: bool = False,
        static_host: str | None = None,
    ) -> None:
        check_host_options(host_matching, static_host, static_folder)
        #: Flask's host routing, read at compile (:mod:`kettle.routing.hosts`)
        self.subdomain_matching, self.host_matching = subdomain_matching, host_matching
        self.static_host = static_host
        #: the root router: routes, mounts, included routers and blueprints, request
        #: hooks, error handlers and folders (FastAPI's and Starlette's ``app.router``)
        self.router = Scaffold(
            import_name=import_name,
            root_path=root_path,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            dependencies=dependencies,
            limits=limits or Limits(),
        )
        if debug is None:
            debug = os.environ.get("KETTLE_DEBUG", "").lower() in ("1", "true", "yes") and (
                # An environment that says production never turns the debug page on.
                os.environ.get("KETTLE_ENV", "").lower() != "production"
            )
        #: Flask's application features (config, sessions, templates, blueprints' template
        #: functions, url_for, the CLI group); the app offers them under Flask's names
        self.web = WebApp(
            self,
            debug,
            self._invalidate,
            instance_path=instance_path,
            instance_relative_config=instance_relative_config,
        )
        self.config = self.web.config
        #: ``abort(code)`` in this app's requests raises ``aborter.mapping[code]``: add
        #: classes for codes of the app's own there
        self.aborter = self.aborter_class()
        self.blueprints = self.web.blueprints
        self.thread_pool = ThreadPool(thread_pool_size)
        self.redirect_slashes = redirect_slashes
        self.strict_content_type = strict_content_type
        self.default_response_class = default_response_class
        self.title = title
        self.version = version
        self.description = description
        #: the app's OpenAPI document and the routes serving it (``app.openapi()``)
        self.openapi_document = OpenAPIDocument(
            self,
            OpenAPIConfig.from_options(
                openapi,
                openapi_url=openapi_url,
                docs_url=docs_url,
                redoc_url=redoc_url,
                swagger_ui_oauth2_redirect_url=swagger_ui_oauth2_redirect_url,
                summary=summary,
                terms_of_service=terms_of_service,
                contact=contact,
                license_info=license_info,
                openapi_tags=openapi_tags,
                servers=servers,
                generate_unique_id_function=generate_unique_id_function,
                swagger_ui_parameters=swagger_ui_parameters,
                swagger_ui_init_oauth=swagger_ui_init_oauth,
            ),
        )
        self.state = State()
        self.user_middleware: list[Middleware] = list(middleware or ())
        self.error_handlers.update(exception_handlers or {})
        self.converters: dict[str, type[Converter]] = dict(DEFAULT_CONVERTERS)
        self.on_startup_hooks: list[Hook] = list(on_startup or ())
        self.on_shutdown_hooks: list[Hook] = list(on_shutdown or ())
        self._lifespan = as_lifespan(lifespan) if lifespan is not None else None
        self._compiled: CompiledApp | None = None
        self._wsgi: WSGIBridge | None = None
        # Read as an attribute, ``app.__call__`` is the async ``asgi`` (servers inspect it to
        # choose ASGI over WSGI); calling ``app(...)`` still runs the class's ``__call__``.
        self.__dict__["__call__"] = self.asgi
        self.app_scope = AppScope(self.thread_pool)
        self._overrides = DependencyOverrides(self._invalidate)
        self.router._listeners.append(self._invalidate)

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """``{dependency: replacement}`` applied when the app compiles (tests use it).

        Changing it, or assigning a new dict (``None`` clears it), recompiles the app before
        its next request.
        """
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(
        self, value: Mapping[Callable[..., Any], Callable[..., Any]] | None
    ) -> None:
        # None clears them, as FastAPI's tests do with `app.dependency_overrides = None`.
        self._overrides = DependencyOverrides(self._invalidate)
        dict.update(self._overrides, value or {})
        self._invalidate()

    # -- ASGI entry point ------------------------------------------------------------------

    @overload
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]: ...

    @overload
    def __call__(self, scope: dict[str, Any], receive: StartResponse) -> Iterable[bytes]: ...

    def __call__(self, scope: Any, receive: Any, send: Send | None = None) -> Any:
        """Serve one ASGI connection, or, called with two arguments, one WSGI request.

        An ASGI server calls ``app(scope, receive, send)``; a WSGI server (gunicorn's sync
        workers, mod_wsgi, ``wsgiref``) calls ``app(environ, start_response)``, which goes
        to :meth:`wsgi_app`.
        """
        if send is None:
            return self.wsgi_app(scope, receive)
        scope["app"] = self
        compiled = self._compiled
        if compiled is None:
            compiled = self.compile()
        # PERF: returning the stack's coroutine instead of awaiting it saves a frame per
        # connection. ASGI servers that sniff the interface still see ASGI 3: the method
        # is marked a coroutine function (uvicorn, Python 3.12+'s inspect), and
        # ``app.__call__`` read on the instance is :meth:`asgi` (hypercorn on 3.11, whose
        # inspect has no marker).
        return compiled.stack(scope, receive, send)

    mark_coroutine_function(__call__)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app as a plain ASGI 3 coroutine function (what ``app.__call__`` reads as).

        Example:
            >>> import inspect
            >>> inspect.iscoroutinefunction(Kettle(__name__).__call__)
            True
        """
        await self(scope, receive, send)

    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The app as a WSGI application, as Flask's ``app.wsgi_app`` is.

        The first call starts the app's lifespan on a background event loop
        (:class:`kettle.aswsgi.WSGIBridge`); WSGI middleware wraps it the Flask way.

        Example:
            app.wsgi_app = ProxyFix(app.wsgi_app)   # any WSGI middleware
            # gunicorn 'myapp:app' now serves kettle through the middleware
        """
        bridge = self._wsgi
        if bridge is None:
            bridge = self._wsgi = WSGIBridge(self)
        return bridge(environ, start_response)

    # -- declaring ---------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._compiled = None

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **options: Any) -> None:
        """Wrap the app in ASGI middleware ``cls(app, *args, **options)``.

        The middleware added last runs first (it is the outermost layer).
        """
        self.user_middleware.insert(0, Middleware(cls, *args, **options))
        self._invalidate()

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Register the decorated function to answer an exception class or status code.

        The handler takes ``(request, exc)`` or just ``(exc)`` and returns a response or
        anything a route handler may return.

        Example:
            >>> from kettle import Kettle, JSONResponse
            >>> app = Kettle(__name__)
            >>> @app.exception_handler(KeyError)
            ... async def missing(request, exc):
            ...     return JSONResponse({"detail": f"missing {exc}"}, status_code=404)
        """

        def decorator(func: F) -> F:
            self.add_exception_handler(key, func)
            return func

        return decorator

    def on_startup(self, func: F) -> F:
        """Run the decorated (async) function when the app starts."""
        self.on_startup_hooks.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Run the decorated (async) function when the app shuts down."""
        self.on_shutdown_hooks.append(func)
        return func

    def on_event(self, event: str) -> Callable[[F], F]:
        """``@app.on_event("startup")`` / ``("shutdown")``, as in FastAPI and Starlette,
        deprecated there and here (a ``DeprecationWarning``): use ``lifespan=``, or
        ``@app.on_startup`` / ``@app.on_shutdown``."""
        if event not in ("startup", "shutdown"):
            raise ValueError(f"unknown event {event!r}: use 'startup' or 'shutdown'")
        warnings.warn(
            "on_event is deprecated: use lifespan=, or @app.on_startup / @app.on_shutdown",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.on_startup if event == "startup" else self.on_shutdown

    def middleware(self, kind: str) -> Callable[[F], F]:
        """``@app.middleware("http")``: the decorated ``async def (request, call_next)``
        wraps every HTTP request, as in FastAPI (``BaseHTTPMiddleware`` underneath; a
        pure-ASGI class through :meth:`add_middleware` costs less).

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__)
            >>> @app.middleware("http")
            ... async def add_header(request, call_next):
            ...     response = await call_next(request)
            ...     response.headers["x-served-by"] = "kettle"
            ...     return response
        """
        if kind != "http":
            raise ValueError(f"unknown middleware kind {kind!r}: only 'http' is supported")

        def decorator(func: F) -> F:
            from kettle.middleware.http import BaseHTTPMiddleware

            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def register_converter(self, name: str, converter: type[Converter]) -> None:
        """Make ``{param:name}`` / ``<name:param>`` available in route paths."""
        self.converters[name] = converter
        self._invalidate()

    def lifespan_context(self) -> contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None]:
        """The app's whole life: startup hooks, app-scoped dependencies, the lifespan
        context; then the same in reverse."""
        return run_lifespan(
            self,
            self._lifespan,
            [*self.on_startup_hooks, self._start_app_scope],
            [self.app_scope.close, *self.on_shutdown_hooks],
            self.router,
        )

    async def _start_app_scope(self) -> None:
        await self.app_scope.start(self.ensure_compiled().app_scoped)

    # -- compiling ----------------------------------------------------------------------------

    def ensure_compiled(self) -> CompiledApp:
        """The compiled app, compiling first if nothing is compiled or a declaration changed."""
        compiled = self._compiled
        if compiled is None:
            compiled = self.compile()
        return compiled

    def compile(self) -> CompiledApp:
        """Build the matcher, one plan per handler and the middleware stack.

        Runs at startup (or on the first request) and again if routes change afterwards.

        Raises:
            ConfigurationError: a route or handler is declared in a way that cannot be served.
        """
        bases: dict[int, str] = {}
        routes = list(self.iter_routes(bases=bases))
        routes.extend(self.web.prepare(bases))
        build = Build(self)
        views: dict[str, Callable[..., Any]] = {}
        for bp in self.blueprints.values():
            views.update(bp.app_view_functions)
        routes = build.with_views(routes, {**views, **self.view_functions})
        # The document and docs pages are served like any route but are not the app's own:
        # they stay out of compiled_routes (and `kettle routes`), and leave the app's own
        # GET routes alone.
        for route in [*routes, *self.openapi_document.routes(routes)]:
            build.add(route)
        for path, mounted, name in self.iter_mounts():
            build.mount(path, mounted, name)
        middleware = [*configured_layers(self), *self.user_middleware]  # ProxyFix, TRUSTED_HOSTS
        compiled = build.finish(routes, functools.partial(serve_lifespan, self), middleware)
        self._compiled = compiled
        return compiled

    @property
    def openapi_config(self) -> OpenAPIConfig:
        """The OpenAPI settings (``Kettle(openapi=...)`` and the keyword arguments)."""
        return self.openapi_document.config

    def openapi(self) -> JSONDict:
        """The app's OpenAPI 3.1 document (:meth:`OpenAPIDocument.build`: built on first use,
        cached until the app recompiles). Replace it on the app (``app.openapi = my_function``)
        to serve another document.

        Raises:
            ConfigurationError: the app does not compile, or two routes share an
                ``operation_id``.
        """
        return self.openapi_document.build()

    @property
    def compiled_routes(self) -> list[Route]:
        """The flattened route table (prefixes joined, names qualified), compiling if needed."""
        return list(self.ensure_compiled().routes)

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of route ``name`` with ``path_params`` filled in.

        Raises:
            NoMatchFound: no route has that name, or none takes exactly these parameters.

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__)
            >>> @app.get("/users/{user_id:int}", name="user")
            ... async def user(user_id: int) -> dict[str, int]:
            ...     return {"id": user_id}
            >>> app.url_path_for("user", user_id=3)
            '/users/3'
        """
        return self.ensure_compiled().urls.path_for(name, path_params)

    # -- Flask's application API (the app.web part under Flask's names) ----------------------
    debug: Attribute[bool] = Attribute("web")
    testing: Attribute[bool] = Attribute("web")
    secret_key: Attribute[Any] = Attribute("web")
    jinja_env: Attribute[Any] = Attribute("web")
    instance_path: Attribute[str] = Attribute("web")
    url_map: Attribute[URLMap] = Attribute("web")
    json: Attribute[JSONProvider] = Attribute("web")
    send_static_file = Method("router", Scaffold.send_static_file)
    get_send_file_max_age = Method("router", Scaffold.get_send_file_max_age)
    #: ``logging.getLogger(app.name)``, set up on first use (:mod:`kettle.applogging`)
    logger = functools.cached_property(create_logger)
    context_processor = Method("web", WebApp.context_processor)
    template_filter = Method("web", WebApp.template_filter)
    template_global = Method("web", WebApp.template_global)
    template_test = Method("web", WebApp.template_test)
    add_template_filter = Method("web", WebApp.add_template_filter)
    add_template_global = Method("web", WebApp.add_template_global)
    add_template_test = Method("web", WebApp.add_template_test)
    register_blueprint = Method("web", WebApp.register_blueprint)
    url_for = Method("web", WebApp.url_for)
    inject_url_defaults = Method("web", WebApp.inject_url_defaults)
    handle_url_build_error = Method("web", WebApp.handle_url_build_error)
    redirect = Method("web", WebApp.redirect)
    url_build_error_handlers: Attribute[list[Callable[..., Any]]] = Attribute("web")
    app_context = Method("web", WebApp.app_context)
    teardown_appcontext = Method("web", WebApp.teardown_appcontext)
    shell_context_processor = Method("web", WebApp.shell_context_processor)
    make_default_options_response = Method("web", WebApp.make_default_options_response)
    make_response = Method("web", WebApp.make_response)
    make_shell_context = Method("web", WebApp.make_shell_context)
    shell_context_processors: Attribute[list[Callable[[], Any]]] = Attribute("web")
    test_client = Method("web", WebApp.test_client)
    test_cli_runner = Method("web", WebApp.test_cli_runner)
    test_client_class: Attribute[type[TestClient] | None] = Attribute("web")
    test_cli_runner_class: Attribute[type[AppCliRunner] | None] = Attribute("web")
    open_resource = Method("web", WebApp.open_resource)
    open_instance_resource = Method("web", WebApp.open_instance_resource)
    #: serve the app for development (``kettle run`` otherwise), on ``kettle.serving``
    run = Method("web", WebApp.run)
