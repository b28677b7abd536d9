"""What applications and blueprints share: request hooks, error handlers, folders.

A ``Blueprint`` is a named ``Router`` with Flask's extras; registering it on an app is
including it. Hooks and error handlers declared on a blueprint apply to its own routes
(and those of blueprints registered inside it); the ``app_*`` variants apply app-wide.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kettle.errorhandlers import check_error_key
from kettle.limits import Limits
from kettle.routing.routes import Route, Router

F = TypeVar("F", bound=Callable[..., Any])
ErrorKey = int | type[BaseException]


def find_root_path(import_name: str) -> str:
    """The folder of the module ``import_name`` (where its templates/ and static/ live)."""
    module = sys.modules.get(import_name)
    file = getattr(module, "__file__", None)
    if file:
        return str(Path(file).resolve().parent)
    return os.getcwd()


class Scaffold(Router):
    """A router with request hooks, error handlers and template/static folders."""

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str | None = None,
        import_name: str | None = None,
        root_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        include_in_schema: bool = True,
        limits: Limits | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            prefix,
            name=name,
            tags=tags,
            dependencies=dependencies,
            include_in_schema=include_in_schema,
            limits=limits,
        )
        self.import_name = import_name or "__main__"
        self.root_path = root_path or find_root_path(self.import_name)
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        self.before_request_funcs: list[Callable[..., Any]] = []
        self.after_request_funcs: list[Callable[..., Any]] = []
        self.teardown_request_funcs: list[Callable[..., Any]] = []
        self.error_handlers: dict[ErrorKey, Callable[..., Any]] = {}
        #: views given by endpoint name (``@app.endpoint(name)``), for the rules declared
        #: without one (``add_url_rule(rule, endpoint=name)``, ``url_map.add(Rule(...))``)
        self.view_functions: dict[str, Callable[..., Any]] = ViewFunctions(self._changed)
        #: ``url_value_preprocessor`` and ``url_defaults`` functions (kettle.urlprocessing)
        self.url_value_preprocessors: list[Callable[..., Any]] = []
        self.url_default_functions: list[Callable[..., Any]] = []

    # -- folders -----------------------------------------------------------------------------

    def _folder(self, folder: str | os.PathLike[str] | None) -> str | None:
        if folder is None:
            return None
        return os.path.join(self.root_path, os.fspath(folder))

    @property
    def static_path(self) -> str | None:
        """Absolute path of the static folder, or None when there is none."""
        return self._folder(self.static_folder)

    @property
    def template_path(self) -> str | None:
        """Absolute path of the template folder, or None when there is none."""
        return self._folder(self.template_folder)

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Seconds browsers may cache ``filename`` (``SEND_FILE_MAX_AGE_DEFAULT``).

        Override it in a subclass to decide per file; ``None`` means ``no-cache``.
        """
        from kettle.staticfiles import default_max_age

        return default_max_age()

    def max_age_override(self, target: Any) -> Callable[[str], int | None] | None:
        """``target.get_send_file_max_age`` when its class overrides it, else ``None``.

        The static route asks it per file only then; otherwise the config value is read.
        """
        found = inspect.getattr_static(type(target), "get_send_file_max_age", None)
        if not inspect.isfunction(found) or found is Scaffold.get_send_file_max_age:
            return None  # the stock method (or the app's delegation to its router)
        decide: Callable[[str], int | None] = target.get_send_file_max_age
        return decide

    def send_static_file(self, filename: str | os.PathLike[str]) -> Any:
        """A response with ``filename`` from this router's static folder (or a 404).

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__, static_folder=None)
            >>> app.send_static_file("x.css")
            Traceback (most recent call last):
            RuntimeError: 'static_folder' must be set to serve static files
        """
        from kettle.staticfiles import send_static_file

        return send_static_file(self, filename)

    # -- hooks -------------------------------------------------------------------------------

    def before_request(self, func: F) -> F:
        """Run ``func()`` before each request's handler; a returned value becomes the response.

        Example:
            >>> from kettle import Kettle, g
            >>> app = Kettle(__name__)
            >>> @app.before_request
            ... def load_user() -> None:
            ...     g.user = "ada"
        """
        self.before_request_funcs.append(func)
        self._changed()
        return func

    def after_request(self, func: F) -> F:
        """Run ``func(response)`` after the handler; it must return the response to send."""
        self.after_request_funcs.append(func)
        self._changed()
        return func

    def teardown_request(self, func: F) -> F:
        """Run ``func(error)`` after the response was sent, whatever happened."""
        self.teardown_request_funcs.append(func)
        self._changed()
        return func

    def url_value_preprocessor(self, func: F) -> F:
        """Run ``func(endpoint, values)`` on the path values of this scaffold's requests,
        before ``before_request``; what it pops from ``values`` is not passed to the view
        (see kettle.urlprocessing)."""
        self.url_value_preprocessors.append(func)
        self._changed()
        return func

    def url_defaults(self, func: F) -> F:
        """Run ``func(endpoint, values)`` in ``url_for`` for this scaffold's endpoints, to
        fill in values the caller left out (see kettle.urlprocessing)."""
        self.url_default_functions.append(func)
        self._changed()  # url_for keeps each name's functions in the compiled app
        return func

    def errorhandler(self, key: ErrorKey) -> Callable[[F], F]:
        """Handle an exception class or status code raised by this scaffold's routes."""

        def decorator(func: F) -> F:
            self.register_error_handler(key, func)
            return func

        return decorator

    def register_error_handler(self, key: ErrorKey, func: Callable[..., Any]) -> None:
        """The non-decorator form of :meth:`errorhandler`."""
        check_error_key(key)  # a wrong key fails here, not silently at request time
        self.error_handlers[key] = func
        self._changed()

    # -- Flask's add_url_rule ------------------------------------------------------------------

    def add_url_rule(
        self,
        /,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        """Register ``view_func`` for ``rule`` under the name ``endpoint`` (Flask's spelling).

        Class-based views made with ``as_view`` bring their own ``methods``. A rule given an
        ``endpoint`` and no ``view_func`` is served by the view registered under that name
        with :meth:`endpoint` (or ``view_functions[name] = view``); until one is, it only
        builds URLs.

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__)
            >>> app.add_url_rule("/", endpoint="index")
            >>> @app.endpoint("index")
            ... def index() -> str:
            ...     return "home"
            >>> from kettle.testing import TestClient
            >>> TestClient(app).get("/").text
            'home'
        """
        if view_func is None:
            if endpoint is None:
                raise TypeError("add_url_rule needs a view_func or an endpoint")
            view_func = url_only
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        self.add_route(rule, view_func, methods, endpoint, **options)

    def endpoint(self, name: str) -> Callable[[F], F]:
        """Make the decorated function the view of the rules named ``name`` that were
        declared without one (see :meth:`add_url_rule`)."""

        def decorator(func: F) -> F:
            self.view_functions[name] = func
            return func

        return decorator


def _prefix(url_prefix: str | None) -> str | None:
    """A registration's ``url_prefix`` as a router prefix (Flask accepts a trailing slash)."""
    return None if url_prefix is None else url_prefix.rstrip("/")


def _blueprint_name(name: str | None) -> str | None:
    if name is not None and ("." in name or not name):
        raise ValueError(f"a blueprint name must be non-empty and contain no dot: {name!r}")
    return name


def url_only() -> None:
    """The view of a rule declared without one: the rule builds URLs and serves nothing
    until a view is registered under its name (never called)."""
    raise RuntimeError("a rule without a view is never served")


class ViewFunctions(dict[str, Callable[..., Any]]):
    """Views by endpoint name; setting one recompiles the app before its next request."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, name: str, view: Callable[..., Any]) -> None:
        super().__setitem__(name, view)
        self._changed()


class Blueprint(Scaffold):
    """A named group of routes, hooks, error handlers, templates and static files.

    Example:
        >>> from kettle import Blueprint, Kettle
        >>> auth = Blueprint("auth", __name__, url_prefix="/auth")
        >>> @auth.route("/login", methods=["GET", "POST"])
        ... def login() -> str:
        ...     return "login page"
        >>> app = Kettle(__name__)
        >>> app.register_blueprint(auth)
        >>> app.url_path_for("auth.login")
        '/auth/login'
    """

    def __init__(
        self,
        /,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: Mapping[str, Any] | None = None,
        root_path: str | None = None,
        **router_options: Any,
    ) -> None:
        if "." in name or not name:
            raise ValueError(f"a blueprint name must be non-empty and contain no dot: {name!r}")
        # Flask joins the prefix and a rule with exactly one slash ("/foo/" + "bar" is
        # "/foo/bar"); a prefix ending in "/" keeps it for the rule "" ("/foo/").
        self._slash_root = bool(url_prefix) and str(url_prefix).endswith("/")
        super().__init__(
            (url_prefix or "").rstrip("/"),
            name=name,
            import_name=import_name,
            root_path=root_path,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            **router_options,
        )
        #: the subdomain of its routes (``kettle.routing.hosts``), left of its parents'
        self.subdomain = subdomain
        #: hooks and handlers this blueprint adds to the app it is registered on
        self.app_before_request_funcs: list[Callable[..., Any]] = []
        self.app_after_request_funcs: list[Callable[..., Any]] = []
        self.app_teardown_request_funcs: list[Callable[..., Any]] = []
        self.app_error_handlers: dict[ErrorKey, Callable[..., Any]] = {}
        self.app_template_functions: list[tuple[str, Callable[..., Any], str | None]] = []
        self.app_view_functions: dict[str, Callable[..., Any]] = {}
        #: template context processors for this blueprint's requests only
        self.context_processors: list[Callable[[], Mapping[str, Any]]] = []
        #: values its views get as if they were in the path (kettle.urlprocessing)
        self.url_values_defaults: dict[str, Any] = dict(url_defaults or {})
        #: URL processors this blueprint adds to the whole app
        self.app_url_value_preprocessors: list[Callable[..., Any]] = []
        self.app_url_default_functions: list[Callable[..., Any]] = []

    def app_url_value_preprocessor(self, func: F) -> F:
        """:meth:`url_value_preprocessor` for every request of the app."""
        self.app_url_value_preprocessors.append(func)
        self._changed()
        return func

    def app_url_defaults(self, func: F) -> F:
        """:meth:`url_defaults` for every endpoint of the app."""
        self.app_url_default_functions.append(func)
        self._changed()
        return func

    @property
    def url_prefix(self) -> str:
        return self.prefix

    def add_route(
        self,
        /,
        path: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Route:
        """Register ``endpoint`` for ``path`` under this blueprint's prefix.

        Raises:
            ValueError: the endpoint name has a dot (dots separate blueprint names).
        """
        if "." in str(name or getattr(endpoint, "__name__", "")):
            raise ValueError(f"a blueprint endpoint name cannot contain a dot: {name!r}")
        if path:
            path = "/" + path.lstrip("/")
        elif self._slash_root:
            path = "/"
        return super().add_route(path, endpoint, methods, name, **options)

    def endpoint(self, name: str) -> Callable[[F], F]:
        """Make the decorated function the app's view for the rules named ``name`` (the
        app-wide name, as in Flask: not prefixed with the blueprint's)."""

        def decorator(func: F) -> F:
            self.app_view_functions[name] = func
            self._changed()
            return func

        return decorator

    def register_blueprint(
        self,
        blueprint: Blueprint,
        url_prefix: str | None = None,
        name: str | None = None,
        subdomain: str | None = None,
    ) -> None:
        """Nest ``blueprint`` inside this one (names become ``"outer.inner.view"``);
        ``name`` replaces its name (to register one blueprint twice); ``subdomain``
        replaces its subdomain (for this registration)."""
        if blueprint is self:
            raise ValueError("a blueprint cannot be registered on itself")
        self.include_router(
            blueprint,
            own_prefix=_prefix(url_prefix),
            own_name=_blueprint_name(name),
            own_subdomain=subdomain,
        )

    def before_app_request(self, func: F) -> F:
        """Like ``before_request``, but for every request of the app."""
        self.app_before_request_funcs.append(func)
        self._changed()
        return func

    def after_app_request(self, func: F) -> F:
        """Like ``after_request``, but for every request of the app."""
        self.app_after_request_funcs.append(func)
        self._changed()
        return func

    def teardown_app_request(self, func: F) -> F:
        """Like ``teardown_request``, but for every request of the app."""
        self.app_teardown_request_funcs.append(func)
        self._changed()
        return func

    def app_errorhandler(self, key: ErrorKey) -> Callable[[F], F]:
        """Like ``errorhandler``, but for errors anywhere in the app."""

        def decorator(func: F) -> F:
            self.app_error_handlers[key] = func
            self._changed()
            return func

        return decorator

    def app_context_processor(self, func: F) -> F:
        """Add a template context processor to the app."""
        self.app_template_functions.append(("context_processor", func, None))
        return func

    def context_processor(self, func: F) -> F:
        """Add a template context processor for the requests of this blueprint's routes
        (and those of the blueprints inside it)."""
        self.context_processors.append(func)
        return func

    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Add a template filter to the app.

        Example:
            >>> from kettle import Blueprint
            >>> bp = Blueprint("text", __name__)
            >>> @bp.app_template_filter("shout")
            ... def shout(s: str) -> str:
            ...     return s.upper()
        """
        return self._template_function("filter", name)

    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Add a template global to the app."""
        return self._template_function("global", name)

    def app_template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Add a template test to the app."""
        return self._template_function("test", name)

    def add_app_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_filter`."""
        self.app_template_functions.append(("filter", func, name))

    def add_app_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_global`."""
        self.app_template_functions.append(("global", func, name))

    def add_app_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_test`."""
        self.app_template_functions.append(("test", func, name))

    def _template_function(self, kind: str, name: str | None) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.app_template_functions.append((kind, func, name))
            return func

        return decorator

    def iter_blueprints(self) -> Iterable[Blueprint]:
        """This blueprint and every blueprint registered inside it."""
        yield self
        for inc in self._includes:
            if isinstance(inc.router, Blueprint):
                yield from inc.router.iter_blueprints()
