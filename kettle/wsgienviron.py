"""The WSGI environ (PEP 3333) of an ASGI HTTP scope: for WSGI apps kettle mounts and for
Flask code reading ``request.environ``.

Example:
    >>> scope = {"type": "http", "method": "GET", "path": "/shop/items", "root_path": "/shop",
    ...          "query_string": b"q=1", "headers": [(b"host", b"example.com")]}
    >>> environ = build_environ(scope, b"")
    >>> environ["SCRIPT_NAME"], environ["PATH_INFO"], environ["HTTP_HOST"]
    ('/shop', '/items', 'example.com')
"""

from __future__ import annotations

import io
import sys
from typing import Any

from kettle.types import Scope

__all__ = ["build_environ"]

_UNPREFIXED = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP request: ``SCRIPT_NAME`` is where the
    app is mounted (the scope's ``root_path``), ``PATH_INFO`` the rest of the path, both
    as WSGI's latin-1 strings of the URL's bytes."""
    root = scope.get("root_path", "") or ""
    path = scope["path"]
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _latin1(root),
        "PATH_INFO": _latin1(path),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
        environ["REMOTE_PORT"] = str(client[1])
    for name, value in scope["headers"]:
        if b"_" in name:
            continue  # X_User would pass for X-User once dashes become underscores
        key = _UNPREFIXED.get(name) or "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if key in environ:
            text = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + text
        environ[key] = text
    return environ


def _latin1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")
