"""Refuse requests whose ``Host`` is missing, repeated, malformed or not ours."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kettle.responses import PlainTextResponse
from kettle.types import ASGIApp, Receive, Scope, Send

_HOST_RE = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class TrustedHostMiddleware:
    """Answer 400 unless the request has exactly one well-formed, allowed ``Host``.

    ``allowed_hosts`` entries are exact names or ``*.example.com`` wildcards (which match
    subdomains, not ``example.com`` itself); ``"*"`` allows any well-formed host but still
    refuses missing and duplicate ones. Ports are ignored when matching.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import TrustedHostMiddleware
        >>> app = Kettle(__name__)
        >>> hosts = ["example.com", "*.example.com"]
        >>> app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] = ("*",)) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError("allowed_hosts must be a list of host names, not a string")
        for pattern in allowed_hosts:
            if "*" in pattern[1:] or (
                pattern.startswith("*") and pattern not in ("*",) and not pattern.startswith("*.")
            ):
                raise ValueError(f"invalid host pattern {pattern!r}: use '*.example.com'")
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*")}
        self.suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))

    def _allowed(self, host: str) -> bool:
        if not _HOST_RE.fullmatch(host):
            return False
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.lower().rstrip(".")
        return self.any_host or name in self.exact or name.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = [v for k, v in scope["headers"] if k == b"host"]
        if len(hosts) == 1 and self._allowed(hosts[0].decode("latin-1")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
            return
        await PlainTextResponse("Invalid host header", 400)(scope, receive, send)
