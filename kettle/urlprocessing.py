"""Flask's URL processors and URL build errors: ``url_defaults``, ``url_value_preprocessor``
and ``url_build_error_handlers``.

A URL value preprocessor sees a request's path values before its ``before_request`` hooks
and may change them (pop a language code into ``g``); it is compiled into the hooks of
the routes under the app or blueprint that registered it, so other routes pay nothing.
URL default functions run only in ``url_for``: they fill values the caller left out.

Example:
    >>> from kettle import Kettle, g
    >>> app = Kettle(__name__)
    >>> @app.url_value_preprocessor
    ... def pull_lang(endpoint: str | None, values: dict[str, object] | None) -> None:
    ...     g.lang = (values or {}).pop("lang", None)
    >>> @app.url_defaults
    ... def add_lang(endpoint: str, values: dict[str, object]) -> None:
    ...     values.setdefault("lang", g.get("lang", "en"))
    >>> @app.get("/{lang}/about", name="about")
    ... def about() -> str:
    ...     return f"about in {g.lang}"
    >>> with app.test_request_context():
    ...     app.url_for("about")
    '/en/about'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from kettle.globals import RequestContext, current_context
from kettle.routing.hosts import external_netloc, names_host, request_host
from kettle.routing.routes import Route
from kettle.routing.urls import NoMatchFound

__all__ = [
    "UrlDefaultFunc",
    "build_url",
    "build_url_for",
    "handle_url_build_error",
    "inject_url_defaults",
    "preprocessor_hook",
    "route_preprocessors",
    "with_blueprint_url_defaults",
]

UrlDefaultFunc = Callable[[str, dict[str, Any]], None]
UrlPreprocessorFunc = Callable[[str | None, dict[str, Any] | None], None]


def route_preprocessors(
    app_router: Any, blueprints: Iterable[Any], owners: Sequence[Any]
) -> list[UrlPreprocessorFunc]:
    """The URL value preprocessors for a route under ``owners`` (app first): the app's
    (with those blueprints registered app-wide), then each blueprint's, outer to inner."""
    funcs: list[UrlPreprocessorFunc] = list(getattr(app_router, "url_value_preprocessors", ()))
    for bp in blueprints:
        funcs.extend(getattr(bp, "app_url_value_preprocessors", ()))
    for owner in owners[1:]:
        funcs.extend(getattr(owner, "url_value_preprocessors", ()))
    return funcs


def with_blueprint_url_defaults(app: Any, route: Route) -> Route:
    """``route`` with the ``url_defaults`` of the blueprints around it (``Blueprint(...)``
    and ``register_blueprint(...)``, outer to inner) under its own ``defaults``."""
    web = getattr(app, "web", None)
    if web is None or not route.blueprint:
        return route
    merged: dict[str, Any] = {}
    for name in route.blueprint.split("."):
        bp = web.blueprints.get(name)
        merged.update(getattr(bp, "url_values_defaults", None) or {})
        merged.update(web.blueprint_url_defaults.get(name, {}))
    if not merged:
        return route
    options = {**route.options, "defaults": {**merged, **(route.options.get("defaults") or {})}}
    return dataclasses.replace(route, options=options)


def preprocessor_hook(
    funcs: Sequence[UrlPreprocessorFunc], endpoint: str | None
) -> Callable[[], None]:
    """A ``before_request``-style hook running ``funcs(endpoint, path_values)``, first.

    The values are the request's own path values (``request.view_args``): what a
    preprocessor pops is not passed to the view. It is a plain ``def``, run like other
    sync hooks (preprocessors are plain functions in Flask)."""
    from kettle.globals import current_context

    def preprocess_url_values() -> None:
        ctx: Any = current_context()
        values = ctx.request.scope.get("path_params") if ctx is not None else None
        for func in funcs:
            func(endpoint, values)

    return preprocess_url_values


def inject_url_defaults(web: Any, endpoint: str, values: dict[str, Any]) -> None:
    """Run the URL default functions for ``endpoint`` on ``values``, in place: the app's
    (and those blueprints registered app-wide), then those of each blueprint the
    endpoint's dotted name goes through, outer to inner."""
    compiled = web.owner.ensure_compiled()
    funcs = compiled.url_defaults.get(endpoint)
    if funcs is None:
        funcs = url_default_functions(web, endpoint)
        # PERF: kept per route name (a compile replaces them, as registering a function
        # does); a name no route has is not kept, so no caller can grow the cache.
        if endpoint in compiled.urls:
            compiled.url_defaults[endpoint] = funcs
    for func in funcs:
        func(endpoint, values)


def url_default_functions(web: Any, endpoint: str) -> tuple[UrlDefaultFunc, ...]:
    """The URL default functions ``url_for(endpoint)`` runs, in order (see
    :func:`inject_url_defaults`)."""
    router = web.owner.router
    funcs: list[UrlDefaultFunc] = list(getattr(router, "url_default_functions", ()))
    for bp in web.blueprints.values():
        funcs.extend(getattr(bp, "app_url_default_functions", ()))
    names = endpoint.split(".")[:-1]
    for i in range(len(names)):
        bp = web.blueprints.get(".".join(names[: i + 1])) or web.blueprints.get(names[i])
        if bp is not None:
            funcs.extend(getattr(bp, "url_default_functions", ()))
    return tuple(funcs)


def handle_url_build_error(
    handlers: Sequence[Callable[..., Any]], error: Exception, endpoint: str, values: dict[str, Any]
) -> str:
    """The URL the first of ``handlers`` returning one gives for a failed build.

    A handler returning ``None`` passes; a handler raising a build error replaces
    ``error``. With no URL, ``error`` is raised again.
    """
    for handler in handlers:
        try:
            url = handler(error, endpoint, values)
        except NoMatchFound as exc:
            error = exc
            continue
        if url is not None:
            return str(url)
    raise error


def build_url_for(
    web: Any,
    endpoint: str,
    values: dict[str, Any],
    *,
    external: bool | None,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
) -> str:
    """``app.url_for``: the URL of ``endpoint`` with ``values`` (see ``WebApp.url_for``).

    Inside a request the URL is relative unless ``external`` (or a scheme) is given;
    outside one it is absolute unless ``external=False``, and needs ``SERVER_NAME``.

    Raises:
        ValueError: a scheme with ``external=False``.
        RuntimeError: an absolute URL outside a request without ``SERVER_NAME``.
        NoMatchFound: the URL cannot be built and no build error handler gave one.
    """
    urls = web.owner.ensure_compiled().urls
    ctx = current_context()
    request = ctx.request if isinstance(ctx, RequestContext) else None
    if request is not None:
        if endpoint.startswith("."):
            route = request.scope.get("route")
            blueprint = route.blueprint if route is not None else ""
            endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
        if _scheme is not None and external is False:
            raise ValueError("url_for: a scheme (_scheme) needs an absolute URL (_external)")
        absolute = bool(external) or _scheme is not None
        root = request.root_path
        scheme = _scheme or request.scope.get("scheme") or "http"
        # PERF: the request's host only for an absolute URL (~1 us of every url_for)
        base = f"{scheme}://{request.host}{root}" if absolute else root
    else:
        absolute = True if external is None else external
        root = (web.config.get("APPLICATION_ROOT") or "/").rstrip("/")
        server = web.config.get("SERVER_NAME")
        if absolute and not server:
            raise RuntimeError(
                "url_for outside a request needs SERVER_NAME for an absolute URL "
                "(or pass _external=False)"
            )
        scheme = _scheme or web.config.get("PREFERRED_URL_SCHEME") or "http"
        base = f"{scheme}://{server}{root}" if absolute else root
    inject_url_defaults(web, endpoint, values)
    try:
        path, query = urls.build(endpoint, values, method=_method)
    except NoMatchFound as error:
        # Flask's contract: the handlers see the special values as url_for resolved them.
        options = {"_anchor": _anchor, "_method": _method, "_scheme": _scheme}
        values.update(options, _external=absolute)
        return handle_url_build_error(web.url_build_error_handlers, error, endpoint, values)
    # SERVER_NAME and the route's subdomain or host (kettle.routing.hosts) name the host.
    if names_host(web.owner, path):
        current = None if request is None else request_host(request.scope)
        hosted = external_netloc(web.owner, path, current, scheme)
        if hosted is not None and (absolute or hosted[1]):
            base = f"{scheme}://{hosted[0]}{root}"
    return build_url(path, query, anchor=_anchor, base_url=base)


def build_url(
    path: str,
    query: Mapping[str, Any] | None = None,
    *,
    anchor: str | None = None,
    base_url: str = "",
) -> str:
    """Join a base URL, an already-quoted path, query values and an anchor.

    Query values that are ``None`` are left out; lists and tuples repeat the key.

    Example:
        >>> from kettle.urlprocessing import build_url
        >>> build_url("/items/3", {"q": "a b", "tag": ["x", "y"], "skip": None}, anchor="top")
        '/items/3?q=a+b&tag=x&tag=y#top'
        >>> build_url("/", base_url="https://example.com/app/")
        'https://example.com/app/'
    """
    url = base_url.rstrip("/") + path
    if query:
        pairs: list[tuple[str, str]] = []
        for key, value in query.items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                pairs.extend((key, str(item)) for item in value if item is not None)
            else:
                pairs.append((key, str(value)))
        if pairs:
            url += "?" + urlencode(pairs)
    if anchor is not None:
        url += "#" + quote(anchor, safe="!$&'()*+,/:;=?@-._~")
    return url
