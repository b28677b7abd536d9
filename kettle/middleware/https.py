"""Send plain-HTTP requests to the same URL over HTTPS."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from kettle.exceptions import ConfigurationError
from kettle.types import ASGIApp, Receive, Scope, Send

# The Host header's only acceptable shapes: a name or IP literal, an optional port. A
# value with "@", "/", "\", spaces or CR/LF never reaches the Location header.
_HOST_RE = re.compile(r"([A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?")
# Bytes kept as they are in the path and query of the target; the rest is percent-encoded.
_PATH_SAFE: Final = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?"


class HTTPSRedirectMiddleware:
    """Redirect ``http://`` requests to ``https://`` (and ``ws://`` to ``wss://``).

    The target keeps the path and query and is built from the request's ``Host``, which
    must be a plain host name or IP with an optional port (400 otherwise: no redirect to
    a host smuggled in with ``@``, ``//`` or a line break). Ports 80 and 443 are dropped,
    others kept unless ``https_port`` says where HTTPS listens. The status is 307
    (method and body kept, not cached for ever), or 308 with ``permanent=True``. Behind a
    proxy that ends TLS, add :class:`~kettle.middleware.ProxyHeadersMiddleware` outside
    this one, so that ``X-Forwarded-Proto: https`` counts as HTTPS.

    A WebSocket handshake over ``ws://`` is refused with an HTTP redirect where the server
    supports the ``websocket.http.response`` extension, and closed (1008) otherwise.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import HTTPSRedirectMiddleware
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> app.add_middleware(HTTPSRedirectMiddleware)
        >>> response = TestClient(app, base_url="http://example.com").get(
        ...     "/a?b=1", follow_redirects=False
        ... )
        >>> response.status_code, response.headers["location"]
        (307, 'https://example.com/a?b=1')
    """

    def __init__(
        self, app: ASGIApp, *, permanent: bool = False, https_port: int | None = None
    ) -> None:
        if https_port is not None and not 0 < https_port < 65536:
            raise ConfigurationError(f"https_port {https_port} is not a TCP port")
        self.app = app
        self.status = 308 if permanent else 307
        self.https_port = https_port

    def location(self, scope: Scope) -> str | None:
        """The HTTPS URL for ``scope``, or ``None`` when its ``Host`` is not usable."""
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        if len(hosts) != 1:
            return None
        match = _HOST_RE.fullmatch(hosts[0].decode("latin-1"))
        if match is None:
            return None
        host = match.group(1).lower()
        port = self.https_port
        if port is None and match.group(2) is not None:
            given = int(match.group(2))
            port = None if given in (80, 443) else given
        netloc = host if port in (None, 443) else f"{host}:{port}"
        scheme = "wss" if scope["type"] == "websocket" else "https"
        raw_path = scope.get("raw_path")
        if raw_path:
            path = raw_path.decode("latin-1")
        else:
            path = scope.get("root_path", "") + scope.get("path", "/")
        path = quote(path, safe=_PATH_SAFE, encoding="latin-1") or "/"
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{netloc}{path}"
        query = scope.get("query_string", b"")
        if query:
            url += "?" + quote(query.decode("latin-1"), safe=_QUERY_SAFE, encoding="latin-1")
        return url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or scope.get("scheme") in ("https", "wss"):
            await self.app(scope, receive, send)
            return
        target = self.location(scope)
        status = self.status if target is not None else 400
        body = b"" if target is not None else b"Invalid host header"
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        if target is not None:
            headers.append((b"location", target.encode("latin-1")))
        if kind == "websocket":
            await receive()  # the handshake's websocket.connect, answered below
            if "websocket.http.response" not in scope.get("extensions", {}):
                await send({"type": "websocket.close", "code": 1008, "reason": "Use wss://"})
                return
            start = "websocket.http.response.start"
            body_type = "websocket.http.response.body"
        else:
            start, body_type = "http.response.start", "http.response.body"
        await send({"type": start, "status": status, "headers": headers})
        await send({"type": body_type, "body": body})
