"""``ProxyFix``: Werkzeug's way to trust a known number of proxies, for Flask code.

Flask apps behind a reverse proxy write ``app.wsgi_app = ProxyFix(app.wsgi_app,
x_for=1, x_proto=1)``: trust the last ``x_for`` entries of ``X-Forwarded-For``, the last
``x_proto`` of ``X-Forwarded-Proto`` and so on, counting proxies rather than naming them.
kettle serves that line under both kinds of server: on a WSGI server the object is the
WSGI middleware it looks like, and on an ASGI server (``kettle run``, uvicorn) the app
finds it at compile and applies the same rules to the ASGI scope, outermost.

Counting hops is only right when every request passes through exactly that many
proxies; kettle's own :class:`~kettle.middleware.proxy.ProxyHeadersMiddleware`, which
names the proxies' addresses, is the safer choice for new code.

Example:
    >>> from kettle import Kettle, request
    >>> from kettle.testing import TestClient
    >>> app = Kettle(__name__)
    >>> app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    >>> @app.route("/")
    ... def where():
    ...     return f"{request.remote_addr} {request.url}"
    >>> headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https",
    ...            "X-Forwarded-Host": "shop.example.com"}
    >>> TestClient(app).get("/", headers=headers).text
    '198.51.100.7 https://shop.example.com/'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from kettle.middleware.base import Middleware
from kettle.types import Receive, Scope, Send

__all__ = ["ProxyFix", "ProxyFixMiddleware", "wsgi_app_layers"]

_HEADERS = {
    "for": b"x-forwarded-for",
    "proto": b"x-forwarded-proto",
    "host": b"x-forwarded-host",
    "port": b"x-forwarded-port",
    "prefix": b"x-forwarded-prefix",
}


def _trusted_value(trusted: int, value: str | None) -> str | None:
    """The entry ``trusted`` hops from the right of a comma-separated header, if there
    are that many (fewer: a client sent the header itself, or a proxy is missing)."""
    if not (trusted and value):
        return None
    entries = [entry.strip() for entry in value.split(",")]
    if len(entries) < trusted:
        return None
    return entries[-trusted] or None


class _HopCounts:
    """How many proxies are trusted for each header, and the app this wraps (the WSGI app
    for :class:`ProxyFix`, the ASGI one for :class:`ProxyFixMiddleware`)."""

    def __init__(
        self,
        app: Any,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        #: the counts by keyword, as given (the ASGI layer is built from them)
        self.options = {
            "x_for": x_for,
            "x_proto": x_proto,
            "x_host": x_host,
            "x_port": x_port,
            "x_prefix": x_prefix,
        }
        for name, count in self.options.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"{name} must be a number of proxies (0 or more), not {count!r}")
        self.app = app
        self.x_for, self.x_proto, self.x_host = x_for, x_proto, x_host
        self.x_port, self.x_prefix = x_port, x_prefix


class ProxyFix(_HopCounts):
    """Trust ``x_for``, ``x_proto``, ``x_host``, ``x_port`` and ``x_prefix`` proxies'
    ``X-Forwarded-*`` headers (Werkzeug's ``ProxyFix``; see the module's docstring).

    Args:
        app: the WSGI app to wrap (``app.wsgi_app``).
        x_for: entries of ``X-Forwarded-For`` to trust (the client's address).
        x_proto: of ``X-Forwarded-Proto`` (the scheme).
        x_host: of ``X-Forwarded-Host`` (the host).
        x_port: of ``X-Forwarded-Port`` (the port).
        x_prefix: of ``X-Forwarded-Prefix`` (the path the proxy mounts the app at).
    """

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Around a kettle app's own wsgi_app, the app applies these rules to its ASGI scope
        # (wsgi_app_layers): doing it here as well would count the hops twice.
        if not _is_a_kettle_wsgi_app(self.app):
            environ = self.fix_environ(environ)
        return self.app(environ, start_response)

    def fix_environ(self, environ: dict[str, Any]) -> dict[str, Any]:
        """A copy of a WSGI environ with the trusted values applied (sans-I/O)."""
        environ = dict(environ)
        environ["werkzeug.proxy_fix.orig"] = {
            key: environ.get(key)
            for key in (
                "REMOTE_ADDR",
                "wsgi.url_scheme",
                "HTTP_HOST",
                "SERVER_NAME",
                "SERVER_PORT",
                "SCRIPT_NAME",
            )
        }
        if (client := _trusted_value(self.x_for, environ.get("HTTP_X_FORWARDED_FOR"))) is not None:
            environ["REMOTE_ADDR"] = client
        proto = _trusted_value(self.x_proto, environ.get("HTTP_X_FORWARDED_PROTO"))
        if proto is not None:
            environ["wsgi.url_scheme"] = proto
        if (host := _trusted_value(self.x_host, environ.get("HTTP_X_FORWARDED_HOST"))) is not None:
            environ["HTTP_HOST"] = host
            environ["SERVER_NAME"] = name = _without_port(host)
            if host[len(name) :].startswith(":") and host[len(name) + 1 :].isdigit():
                environ["SERVER_PORT"] = host[len(name) + 1 :]
        if (port := _trusted_value(self.x_port, environ.get("HTTP_X_FORWARDED_PORT"))) is not None:
            host_only = _without_port(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
            environ["HTTP_HOST"] = f"{host_only}:{port}"
            environ["SERVER_PORT"] = port
        prefix = _trusted_value(self.x_prefix, environ.get("HTTP_X_FORWARDED_PREFIX"))
        if prefix is not None and prefix.startswith("/"):  # a path, or nothing
            environ["SCRIPT_NAME"] = prefix.rstrip("/")
        return environ


def _without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:8000
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


class ProxyFixMiddleware(_HopCounts):
    """:class:`ProxyFix`'s rules on an ASGI scope: what the app adds for an
    ``app.wsgi_app = ProxyFix(...)`` when an ASGI server serves it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self.fix_scope(scope)
        await self.app(scope, receive, send)

    def fix_scope(self, scope: Scope) -> Scope:
        """A copy of an ASGI scope with the trusted values applied (sans-I/O)."""
        found: dict[bytes, str] = {}
        wanted = set(_HEADERS.values())
        for name, value in scope["headers"]:
            if name in wanted:
                text = value.decode("latin-1")
                found[name] = f"{found[name]},{text}" if name in found else text
        if not found:
            return scope
        scope = dict(scope)
        client = _trusted_value(self.x_for, found.get(_HEADERS["for"]))
        if client is not None:
            scope["client"] = (client, 0)
        proto = _trusted_value(self.x_proto, found.get(_HEADERS["proto"]))
        if proto is not None:
            secure = proto.lower() in ("https", "wss")
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto.lower()
        host = _trusted_value(self.x_host, found.get(_HEADERS["host"]))
        port = _trusted_value(self.x_port, found.get(_HEADERS["port"]))
        if port is not None and not port.isdigit():
            port = None
        if host is not None or port is not None:
            current = host if host is not None else _header(scope, b"host") or ""
            if port is not None:
                current = f"{_without_port(current)}:{port}"
            headers = [(n, v) for n, v in scope["headers"] if n != b"host"]
            headers.append((b"host", current.encode("latin-1")))
            scope["headers"] = headers
            name = _without_port(current)
            server_port = current[len(name) + 1 :] if current[len(name) :].startswith(":") else ""
            default = 443 if scope.get("scheme") in ("https", "wss") else 80
            scope["server"] = (name, int(server_port) if server_port.isdigit() else default)
        prefix = _trusted_value(self.x_prefix, found.get(_HEADERS["prefix"]))
        if prefix is not None and prefix.startswith("/"):
            # ASGI's path holds the root path (the proxy stripped it: put it back in front)
            root = prefix.rstrip("/")
            scope["root_path"] = root + scope.get("root_path", "")
            scope["path"] = root + scope["path"]
            if "raw_path" in scope and scope["raw_path"] is not None:
                scope["raw_path"] = root.encode("latin-1") + scope["raw_path"]
        return scope


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _is_a_kettle_wsgi_app(wrapped: Any) -> bool:
    owner = getattr(wrapped, "__self__", None)
    return (
        owner is not None
        and getattr(wrapped, "__func__", None) is getattr(type(owner), "wsgi_app", None)
        and hasattr(owner, "ensure_compiled")
    )


def wsgi_app_layers(app: Any) -> list[Middleware]:
    """The ASGI layers standing for an ``app.wsgi_app`` replaced with :class:`ProxyFix`
    (outermost first), so ``kettle run`` serves the app as a WSGI server would.

    Any other WSGI middleware put there runs only under a WSGI server: a warning says so
    (under an ASGI server, add ASGI middleware with ``app.add_middleware``).
    """
    replaced = vars(app).get("wsgi_app")
    if replaced is None:
        return []
    layers: list[Middleware] = []
    current: Any = replaced
    while isinstance(current, ProxyFix):
        layers.append(Middleware(ProxyFixMiddleware, **current.options))
        current = current.app
    if not _is_a_kettle_wsgi_app(current) or getattr(current, "__self__", None) is not app:
        if getattr(app, "_wsgi", None) is not None:
            return []  # compiled under a WSGI server: the middleware runs, as it should
        warnings.warn(
            f"app.wsgi_app was replaced with {replaced!r}: WSGI middleware runs only when a "
            "WSGI server serves the app; under an ASGI server use app.add_middleware()",
            RuntimeWarning,
            stacklevel=2,
        )
        return []
    return layers
