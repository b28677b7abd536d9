"""Rate limiting: ``429 Too Many Requests`` past a budget of requests per client and period.

:class:`RateLimitMiddleware` takes one or more rules (``"100/minute"``, ``(100, 60)`` or a
:class:`Rule` limited to some methods or paths), a key function naming the client (its
address by default), and a store holding the counters (:class:`MemoryStore` by default,
:class:`RedisStore` to share them between workers and hosts). The algorithms are described
in :mod:`kettle.middleware.ratelimit_stores`.

Every limited response, allowed or refused, carries the IETF draft's headers
(``draft-ietf-httpapi-ratelimit-headers``) for the rule closest to running out::

    RateLimit-Limit: 100
    RateLimit-Remaining: 41
    RateLimit-Reset: 17            (seconds until the current window ends)
    RateLimit-Policy: 100;w=60, 1000;w=3600

and a refusal adds ``Retry-After`` (seconds until a request would be allowed again).

The client address is ``scope["client"]``: forwarded headers are never read here. Behind a
proxy, put :class:`~kettle.middleware.ProxyHeadersMiddleware` *outside* this middleware (add
it after), configured with the proxies you trust; it rewrites ``scope["client"]`` from
``X-Forwarded-For`` only when the peer is one of them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import NamedTuple

from kettle.exceptions import ConfigurationError
from kettle.middleware.ratelimit_stores import (
    MemoryStore,
    Rate,
    RateLimitStore,
    RedisStore,
    StoreUnavailable,
    Window,
    counters_for,
    used,
)
from kettle.requests import HTTPConnection
from kettle.responses import JSONResponse
from kettle.stores import Store
from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "MemoryStore",
    "RateLimitMiddleware",
    "RedisStore",
    "Rule",
    "client_address",
    "header_key",
    "parse_rate",
    "session_key",
]

logger = logging.getLogger("kettle.ratelimit")

KeyFunc = Callable[[HTTPConnection], str | Awaitable[str | None] | None]

_UNITS = {
    "second": 1,
    "sec": 1,
    "s": 1,
    "minute": 60,
    "min": 60,
    "m": 60,
    "hour": 3600,
    "h": 3600,
    "day": 86400,
    "d": 86400,
}
_RATE_RE = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*([a-z]+?)s?\s*", re.IGNORECASE)


def parse_rate(rate: str | tuple[int, float] | Rate) -> Rate:
    """``"100/minute"``, ``"5 per 10 seconds"``, ``"1000/hour"``, ``(100, 60)`` -> a Rate.

    Example:
        >>> parse_rate("100/minute"), parse_rate("5 per 10 seconds"), parse_rate((3, 1.5))
        (Rate(limit=100, period=60.0), Rate(limit=5, period=10.0), Rate(limit=3, period=1.5))

    Raises:
        ConfigurationError: not a rate, or a zero limit or period.
    """
    if isinstance(rate, Rate):
        limit, period = rate.limit, rate.period
    elif isinstance(rate, str):
        match = _RATE_RE.fullmatch(rate)
        unit = _UNITS.get(match.group(3).lower()) if match else None
        if match is None or unit is None:
            raise ConfigurationError(
                f"rate {rate!r}: write it like '100/minute', '5/10seconds' or '1000 per hour'"
            )
        limit, period = int(match.group(1)), int(match.group(2) or 1) * unit
    elif isinstance(rate, tuple) and len(rate) == 2:
        limit, period = rate
    else:
        raise ConfigurationError(f"rate {rate!r}: use '100/minute' or (limit, seconds)")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigurationError(f"rate {rate!r}: the limit must be a whole number >= 1")
    if not isinstance(period, int | float) or not math.isfinite(period) or period <= 0:
        raise ConfigurationError(f"rate {rate!r}: the period must be positive seconds")
    return Rate(limit, float(period))


class Rule:
    """A rate applied to some requests: all of them, or some methods and paths.

    Args:
        rate: ``"10/minute"``, ``(10, 60)``...
        methods: only these methods (``None``: all).
        paths: only these paths: exact, or prefixes ending in ``*`` (``None``: all).

    Example:
        >>> from kettle.middleware.ratelimit import Rule
        >>> login = Rule("5/minute", methods=["POST"], paths=["/login"])
        >>> login.applies("POST", "/login"), login.applies("GET", "/login")
        (True, False)
    """

    __slots__ = ("exact", "methods", "prefixes", "rate")

    def __init__(
        self,
        rate: str | tuple[int, float] | Rate,
        *,
        methods: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
    ) -> None:
        if isinstance(methods, str) or isinstance(paths, str):
            raise ConfigurationError("methods and paths take lists, not a string")
        self.rate = parse_rate(rate)
        self.methods = None if methods is None else frozenset(m.upper() for m in methods)
        exact, prefixes = set(), []
        for path in paths or ():
            if not path.startswith("/"):
                raise ConfigurationError(f"rule path {path!r} must start with '/'")
            if path.endswith("*"):
                prefixes.append(path[:-1])
            else:
                exact.add(path)
        self.exact = frozenset(exact) if paths is not None else None
        self.prefixes = tuple(prefixes)

    def applies(self, method: str, path: str) -> bool:
        """Whether a request with this method and path counts against the rule."""
        if self.methods is not None and method not in self.methods:
            return False
        return self.exact is None or path in self.exact or path.startswith(self.prefixes)

    def __repr__(self) -> str:
        return f"Rule({self.rate.limit}/{self.rate.period:g}s)"


# -- keys ----------------------------------------------------------------------------------


def client_address(connection: HTTPConnection) -> str:
    """The client's IP address; IPv6 clients are grouped by their /64 network.

    A single IPv6 host usually owns a whole /64, so counting per address would let it
    rotate through 2**64 fresh budgets. Without a client address (a Unix socket with no
    proxy middleware), every request shares the one key ``"unknown"``.
    """
    client = connection.scope.get("client")
    host = client[0] if client else None
    if not host:
        return "unknown"
    if ":" in host:
        try:
            network = ipaddress.IPv6Network(f"{host}/64", strict=False)
        except ValueError:
            return f"ip:{host}"
        return f"ip6:{network.network_address}/64"
    return f"ip:{host}"


def header_key(name: str) -> KeyFunc:
    """A key function counting per value of header ``name`` (an API key, say), else per
    address.

    Example:
        >>> from kettle.middleware.ratelimit import header_key
        >>> per_api_key = header_key("X-API-Key")
    """
    raw = name.lower().encode("latin-1")

    def key(connection: HTTPConnection) -> str:
        for header, value in connection.scope["headers"]:
            if header == raw:
                return "header:" + str(value.decode("latin-1"))
        return client_address(connection)

    return key


def session_key(field: str = "user_id") -> KeyFunc:
    """A key function counting per logged-in user (``session[field]``), else per address.

    The session is opened as the app opens it (its signed cookie); a forged or expired
    cookie has no user, so it is counted per address.
    """

    async def key(connection: HTTPConnection) -> str:
        from kettle.middleware.csrf import open_session

        app = connection.scope.get("app")
        if app is not None and hasattr(app, "session_interface"):
            value = (await open_session(app, connection.scope)).get(field)
            if value is not None:
                return f"user:{value}"
        return client_address(connection)

    return key


# -- the middleware --------------------------------------------------------------------------


class RateLimitMiddleware:
    """Answer 429 once a client has used up any of the rules that apply to a request.

    Args:
        app: the ASGI app to protect.
        rules: one rule or a list: ``"100/minute"``, ``(100, 60)`` or :class:`Rule`. A
            request must fit every rule that applies to it.
        key: names the client from an :class:`~kettle.requests.HTTPConnection` (sync or
            async); ``None`` means "not limited". Default :func:`client_address`.
        store: :class:`MemoryStore` (the default, one per middleware),
            :class:`RedisStore`, or any :class:`kettle.stores.Store` (a
            :class:`kettle.stores.RedisStore` is counted in one script on its connections).
        algorithm: ``"sliding"`` (default) or ``"fixed"`` window.
        on_store_error: ``"closed"`` (default: 503 with ``Retry-After`` while the store is
            down, so a login limit cannot be bypassed by an outage) or ``"open"``
            (requests pass, unlimited, with a logged warning).
        headers: send the ``RateLimit-*`` headers on allowed responses too.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware.ratelimit import RateLimitMiddleware, Rule
        >>> app = Kettle(__name__)
        >>> rules = ["100/minute", Rule("5/minute", methods=["POST"], paths=["/login"])]
        >>> app.add_middleware(RateLimitMiddleware, rules=rules)
        >>> @app.post("/login")
        ... async def login() -> dict[str, bool]:
        ...     return {"ok": True}
        >>> client = app.test_client()
        >>> [client.post("/login").status_code for _ in range(6)]
        [200, 200, 200, 200, 200, 429]
    """

    def __init__(
        self,
        app: ASGIApp,
        rules: str | tuple[int, float] | Rule | Sequence[str | tuple[int, float] | Rule],
        *,
        key: KeyFunc = client_address,
        store: RateLimitStore | Store | None = None,
        algorithm: str = "sliding",
        on_store_error: str = "closed",
        headers: bool = True,
    ) -> None:
        if isinstance(rules, str | Rule) or (
            isinstance(rules, tuple) and len(rules) == 2 and isinstance(rules[0], int)
        ):
            rules = [rules]
        self.rules = tuple(r if isinstance(r, Rule) else Rule(r) for r in rules)
        if not self.rules:
            raise ConfigurationError("RateLimitMiddleware needs at least one rule")
        if algorithm not in ("sliding", "fixed"):
            raise ConfigurationError(f"algorithm {algorithm!r}: use 'sliding' or 'fixed'")
        if on_store_error not in ("closed", "open"):
            raise ConfigurationError(f"on_store_error {on_store_error!r}: use 'closed' or 'open'")
        if not callable(key):
            raise ConfigurationError("key must be a function of the connection")
        self.app = app
        self.key = key
        self.store: RateLimitStore = MemoryStore() if store is None else counters_for(store)
        self.sliding = algorithm == "sliding"
        self.fail_open = on_store_error == "open"
        self.send_headers = headers
        # The rule's place and rate name its counters: changing a rule starts it afresh.
        self._ids = tuple(f"{i}:{r.rate.limit}/{r.rate.period!r}" for i, r in enumerate(self.rules))
        self._everywhere = all(r.methods is None and r.exact is None for r in self.rules)
        self._last_warning = 0.0
        # What the headers need for each set of rules that can apply, built once.
        self._plans: dict[tuple[int, ...], _Plan] = {}
        self._all = tuple(range(len(self.rules)))

    def _plan(self, applying: tuple[int, ...]) -> _Plan:
        plan = self._plans.get(applying)
        if plan is None:
            rates = tuple(self.rules[i].rate for i in applying)
            policy = ", ".join(f"{r.limit};w={r.period:g}" for r in rates).encode()
            plan = _Plan(rates, tuple(self._ids[i] for i in applying), policy)
            if len(self._plans) < 256:  # one per combination of rules: few in practice
                self._plans[applying] = plan
        return plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                receive = self._closing_store(receive)
            await self.app(scope, receive, send)
            return
        if self._everywhere:
            applying = self._all
        else:
            method, path = scope["method"], scope["path"]
            applying = tuple(i for i, r in enumerate(self.rules) if r.applies(method, path))
            if not applying:
                await self.app(scope, receive, send)
                return
        if self.key is client_address:
            client: str | None = client_address(HTTPConnection(scope))
        else:
            found = self.key(HTTPConnection(scope))
            client = await found if isinstance(found, Awaitable) else found
        if client is None:
            await self.app(scope, receive, send)
            return
        plan = self._plan(applying)
        keys = [_store_key(rule_id, client) for rule_id in plan.ids]
        try:
            allowed, windows = await self.store.hit(keys, plan.rates, self.sliding)
        except StoreUnavailable as exc:
            await self._store_down(exc, scope, receive, send)
            return
        extra = self._headers(plan, windows)
        if not allowed:
            retry = max(self._retry_after(r, w) for r, w in zip(plan.rates, windows, strict=True))
            headers = {name.decode(): value.decode() for name, value in extra}
            headers["retry-after"] = str(retry)
            response = JSONResponse(
                {"detail": f"Too many requests: retry in {retry} seconds."}, 429, headers
            )
            await response(scope, receive, send)
            return
        if not self.send_headers:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _closing_store(self, receive: Receive) -> Receive:
        """``receive`` for the lifespan: the store's connections close at shutdown."""
        close = getattr(self.store, "aclose", None)
        if close is None:
            return receive

        async def receive_then_close() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await close()
            return message

        return receive_then_close

    async def _store_down(
        self, exc: StoreUnavailable, scope: Scope, receive: Receive, send: Send
    ) -> None:
        now = time.monotonic()
        if now - self._last_warning > 10:  # one line per 10 s, not one per request
            self._last_warning = now
            logger.warning(
                "%s; requests are %s", exc, "let through" if self.fail_open else "refused (503)"
            )
        if self.fail_open:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "Rate limiting is unavailable: retry later."},
            503,
            {"retry-after": "1"},
        )
        await response(scope, receive, send)

    def _headers(self, plan: _Plan, windows: Sequence[Window]) -> list[tuple[bytes, bytes]]:
        rates = plan.rates
        tightest, remaining = 0, None
        for i, (rate, window) in enumerate(zip(rates, windows, strict=True)):
            left = max(0, math.floor(rate.limit - used(window, rate, self.sliding)))
            if remaining is None or left < remaining:
                tightest, remaining = i, left
        rate = rates[tightest]
        reset = max(1, math.ceil(rate.period - windows[tightest].elapsed))
        return [
            (b"ratelimit-limit", b"%d" % rate.limit),
            (b"ratelimit-remaining", b"%d" % (remaining or 0)),
            (b"ratelimit-reset", b"%d" % reset),
            (b"ratelimit-policy", plan.policy),
        ]

    def _retry_after(self, rate: Rate, window: Window) -> int:
        """Whole seconds until this rule would allow one more request (0 if it does now)."""
        period, limit = rate.period, rate.limit
        to_end = period - window.elapsed
        if not self.sliding:
            wait = to_end if window.current + 1 > limit else 0.0
        elif window.current + 1 <= limit:
            # The previous window's weight must fall far enough within this one.
            room = limit - 1 - window.current
            wait = 0.0
            if window.previous > room:
                wait = max(0.0, period * (1 - room / window.previous) - window.elapsed)
        else:
            # This window's count must fade, as the previous one, during the next window.
            wait = to_end + period * (1 - (limit - 1) / window.current)
        return max(1, math.ceil(wait)) if wait > 0 else 0


class _Plan(NamedTuple):
    rates: tuple[Rate, ...]
    ids: tuple[str, ...]
    policy: bytes


def _store_key(rule_id: str, client: str) -> str:
    # Hashed: a client-chosen key (a header value) never reaches the store's key space.
    digest = hashlib.blake2b(f"{rule_id}\x00{client}".encode(), digest_size=16)
    return digest.hexdigest()
