"""Routing on the request's host: Flask's ``subdomain_matching`` and ``host_matching``.

An app that turns either on routes on one extra leading segment, ``/<host part>/path``:
the subdomain left of ``SERVER_NAME`` (``subdomain_matching=True``), or the whole host
(``host_matching=True``). The host part of a route is a template like a path segment, so
``subdomain="<user>"`` passes ``user`` to the view as a path value would be. Apps that
turn neither on route on the path alone and pay nothing per request.

The ``Host`` header is the client's to choose: a host with characters no host name has
is a 400 here, before any route sees it.

Example:
    >>> from kettle import Kettle
    >>> from kettle.testing import TestClient
    >>> app = Kettle(__name__, subdomain_matching=True)
    >>> app.config["SERVER_NAME"] = "example.test"
    >>> @app.route("/", subdomain="<user>")
    ... def home(user: str) -> str:
    ...     return f"home of {user}"
    >>> TestClient(app, base_url="http://ada.example.test").get("/").text
    'home of ada'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kettle.exceptions import ConfigurationError
from kettle.routing.converters import Converter
from kettle.routing.patterns import PathPattern, PatternError, parse_pattern
from kettle.types import Scope

if TYPE_CHECKING:
    from kettle.routing.routes import Route

__all__ = [
    "HostOptionsError",
    "HostPath",
    "HostRouting",
    "HostedPattern",
    "check_options",
    "external_netloc",
    "route_host_part",
]

#: letters, digits, ``-._``, ``:`` before a port and ``[]`` around an IPv6 address
_HOST_RE = re.compile(r"[a-z0-9\-._:\[\]]{0,300}")
_DEFAULT_PORTS = {"http": ":80", "ws": ":80", "https": ":443", "wss": ":443"}
#: the subdomain of a request whose host is not under ``SERVER_NAME`` (Flask's value):
#: no route with a literal subdomain matches it, and it is never the client's text
INVALID = "<invalid>"


class HostOptionsError(ConfigurationError, AssertionError):
    """``static_host`` and ``host_matching`` given in a way that cannot serve static files
    (an ``AssertionError`` too, as Flask raises)."""


def check_options(host_matching: bool, static_host: str | None, static_folder: Any) -> None:
    """Refuse ``static_host`` without ``host_matching``, and ``host_matching`` with a
    static folder but no ``static_host`` (the static route would match no host)."""
    if static_host is not None and not host_matching:
        raise HostOptionsError("static_host needs host_matching=True")
    if host_matching and static_host is None and static_folder is not None:
        raise HostOptionsError("host_matching=True with a static folder needs static_host")


def route_subdomain(route: Route) -> str | None:
    """The route's subdomain: its own ``subdomain=``, else its blueprints' joined, the
    innermost leftmost (``api`` under ``parent`` is ``api.parent``)."""
    own = route.options.get("subdomain")
    if own is not None:
        return str(own)
    found: str | None = None
    # what each blueprint was registered with (the app's own entry, first, has none)
    for part in route.subdomains[1:]:
        if part:
            found = f"{part}.{found}" if found else str(part)
    return found


def route_host_part(route: Route, mode: str | None, static_host: str | None) -> str | None:
    """The leading segment template of ``route`` in ``mode`` (``"subdomain"``, ``"host"``
    or None), ``""`` when it has none; None when the route can never match a request
    (a subdomain route in an app without subdomain matching only builds URLs)."""
    if mode == "host":
        host = route.options.get("host")
        if host is None and route.name == "static":
            host = static_host
        part = "" if host is None else str(host)
    elif mode == "subdomain":
        part = route_subdomain(route) or ""
    else:
        # Flask's rule: without subdomain matching every request is on the default
        # subdomain, so a route declaring another one is for url_for only.
        return None if route_subdomain(route) else ""
    if "/" in part:
        raise ConfigurationError(f"a host or subdomain cannot contain '/': {part!r}")
    return part


def _without_default_port(host: str, scheme: str) -> str:
    port = _DEFAULT_PORTS.get(scheme)
    if port is not None and host.endswith(port):
        return host[: -len(port)]
    return host


def request_host(scope: Scope) -> str | None:
    """The request's host, lower-cased and without its scheme's default port; None
    when it is not a host name (the client chose it: never trusted to be one)."""
    host: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else ""
    host = host.lower()
    if not _HOST_RE.fullmatch(host):
        return None
    return _without_default_port(host, scope.get("scheme", "http"))


class HostRouting:
    """How one compiled app routes on hosts: the mode and the per-request key prefix."""

    __slots__ = ("config", "mode", "static_host")

    def __init__(self, mode: str | None, config: Mapping[str, Any], static_host: str | None):
        self.mode = mode
        self.config = config
        self.static_host = static_host

    @classmethod
    def for_app(cls, app: Any) -> HostRouting:
        """The app's host routing, read when it compiles."""
        if getattr(app, "host_matching", False):
            mode: str | None = "host"
        elif getattr(app, "subdomain_matching", False):
            mode = "subdomain"
        else:
            mode = None
        return cls(mode, app.config, getattr(app, "static_host", None))

    def template(self, route: Route) -> str | None:
        """The template the matcher routes ``route`` on (None: it is not routed)."""
        part = route_host_part(route, self.mode, self.static_host)
        if part is None or self.mode is None:
            return None if part is None else route.path
        return "/" + part + route.path

    def url_part(self, route: Route) -> str:
        """The host part ``url_for`` builds for ``route`` (``""``: none of its own)."""
        if self.mode == "host":
            host = route.options.get("host")
            if host is None and route.name == "static":
                host = self.static_host
            return "" if host is None else str(host)
        return route_subdomain(route) or ""

    def url_pattern(
        self, route: Route, pattern: PathPattern, converters: Mapping[str, type[Converter]]
    ) -> PathPattern:
        """``pattern`` as the URL map keeps it: with the route's host part, if it has one."""
        part = self.url_part(route)
        if not part:
            return pattern
        try:
            host = parse_pattern("/" + part, converters)
        except PatternError as exc:
            raise ConfigurationError(f"{route.name}: {exc}") from None
        return HostedPattern(pattern.template, pattern.segments, host, self.mode == "host")

    def key_function(self) -> Callable[[Scope], str | None] | None:
        """The request's key prefix (``"/abc"``), None for a host that is not one; no
        function at all for an app that routes on the path alone."""
        if self.mode == "host":
            return _host_key
        if self.mode == "subdomain":
            return self._subdomain_key
        return None

    def _subdomain_key(self, scope: Scope) -> str | None:
        host = request_host(scope)
        if host is None:
            return None
        # Read per request: Flask apps (and their tests) change SERVER_NAME at any time.
        server = str(self.config.get("SERVER_NAME") or "").lower()
        if not server:
            return "/"
        server = _without_default_port(server, scope.get("scheme", "http"))
        if host == server:
            return "/"
        if host.endswith("." + server):
            return "/" + host[: -len(server) - 1]
        warnings.warn(
            f"the request's host {host!r} is not SERVER_NAME {server!r} or under it: "
            "only routes taking any subdomain can match",
            UserWarning,
            stacklevel=2,
        )
        return "/" + INVALID


def _host_key(scope: Scope) -> str | None:
    host = request_host(scope)
    return None if host is None else "/" + host


class HostPath(str):
    """A built path that knows the host part of its route (``url_for`` reads it)."""

    __slots__ = ("host_part", "whole_host")
    host_part: str
    whole_host: bool

    def __new__(cls, path: str, host_part: str, whole_host: bool) -> HostPath:
        built = super().__new__(cls, path)
        built.host_part = host_part
        built.whole_host = whole_host
        return built


@dataclass(frozen=True, slots=True)
class HostedPattern(PathPattern):
    """A route's path pattern and its host part: building it takes the values of both."""

    host: PathPattern
    #: the host part is the whole host (``host_matching``), not a subdomain
    whole_host: bool

    @property
    def params(self) -> dict[str, Any]:
        return {**self.host.params, **PathPattern.params.fget(self)}  # type: ignore[attr-defined]

    def format(self, values: Mapping[str, Any]) -> str:
        path = PathPattern.format(self, values)
        return HostPath(path, self.host.format(values)[1:], self.whole_host)


def names_host(app: Any, path: str) -> bool:
    """Whether a URL built for ``path`` may name a host (:func:`external_netloc` has
    one): the route has a host part, or ``SERVER_NAME`` is set."""
    return bool(getattr(path, "host_part", "") or app.config.get("SERVER_NAME"))


def external_netloc(
    app: Any, path: str, request_host: str | None, scheme: str
) -> tuple[str, bool] | None:
    """The host a built URL names, and whether it differs from the request's (so the
    URL must be absolute); None when the app's settings name no host.

    With ``SERVER_NAME`` (and no host matching) URLs name it rather than the ``Host``
    the client sent, with the route's subdomain in front, as in Flask.
    """
    host_part = getattr(path, "host_part", "")
    if getattr(path, "whole_host", False):
        return host_part, request_host != host_part
    server = app.config.get("SERVER_NAME")
    if not server or getattr(app, "host_matching", False):
        return None
    server = str(server).lower()
    netloc = f"{host_part}.{server}" if host_part else server
    current = ""  # outside a request: the default subdomain, as in Flask
    if request_host is not None and getattr(app, "subdomain_matching", False):
        bare = _without_default_port(server, scheme)
        if request_host.endswith("." + bare):
            current = request_host[: -len(bare) - 1]
    return netloc, host_part != current
