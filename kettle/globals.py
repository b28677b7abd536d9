"""Context locals: ``request``, ``session``, ``g`` and ``current_app``, as in Flask.

Dispatch makes one :class:`RequestContext` per request and sets it with a single
``ContextVar.set``; the proxies below look it up on every use. Nothing else is done up
front: the :class:`~kettle.requests.Request` can be built on first use, the session is
opened from its cookie only when ``session`` is first touched (so requests that never use
it cost nothing and get no ``Vary: Cookie``), and ``g`` is created on first use.

Plain ``def`` handlers run in worker threads with a *copy* of the context variables. The
copy holds the same context object, and every change (``g.user = ...``, loading or
writing the session, consuming flashes) is made on that object, never by setting a
context variable, so it is still there when the handler returns.

Example:
    >>> from kettle.globals import AppContext, current_app, g
    >>> class App:
    ...     config = {"DEBUG": True}
    >>> with AppContext(App()):
    ...     g.user = "ada"
    ...     current_app.config["DEBUG"], g.user
    (True, 'ada')
    >>> bool(g)  # unbound proxies are falsy, as in Flask
    False
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from types import TracebackType

    from kettle.app import Kettle
    from kettle.requests import Request
    from kettle.responses import Response
    from kettle.sessions import SessionInterface, SessionMixin

__all__ = [
    "AppContext",
    "LocalProxy",
    "RequestContext",
    "copy_current_request_context",
    "current_app",
    "current_context",
    "g",
    "has_app_context",
    "has_request_context",
    "pop_context",
    "pop_request_context",
    "push_request_context",
    "request",
    "session",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_NO_APP = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed the current
application (current_app, g, url_for, render_template...). Use 'with app.app_context():'
outside a request, for example in a script or a test."""

_NO_REQUEST = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed an active HTTP
request (request, session, flash...). In tests, send a request with the test client, or
use 'with app.test_request_context():'."""


class _AppCtxGlobals:
    """``g``: a namespace for data that lives as long as the current context.

    Example:
        >>> from kettle.globals import _AppCtxGlobals
        >>> g = _AppCtxGlobals()
        >>> g.db = "connection"
        >>> "db" in g, g.get("missing", 0), g.pop("db"), list(g)
        (True, 0, 'connection', [])
    """

    def __getattr__(self, name: str) -> Any:
        # Only reached when the attribute is missing: say which, as a normal object would.
        raise AttributeError(f"'g' has no attribute {name!r}")

    # Declared so type checkers accept any attribute on g (g.user = ..., del g.user).
    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self.__dict__[name]
        except KeyError:
            raise AttributeError(f"'g' has no attribute {name!r}") from None

    def get(self, name: str, default: Any = None) -> Any:
        """The attribute ``name``, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, *default: Any) -> Any:
        """Remove and return attribute ``name`` (``default`` if given and it is not set)."""
        if default:
            return self.__dict__.pop(name, default[0])
        try:
            return self.__dict__.pop(name)
        except KeyError:
            raise AttributeError(f"'g' has no attribute {name!r}") from None

    def setdefault(self, name: str, default: Any = None) -> Any:
        """The attribute ``name``, set to ``default`` first if it is missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        return f"<kettle.g {self.__dict__!r}>"


class AppContext:
    """The current application and ``g``, without a request (scripts, CLI, tests).

    ``with AppContext(app):`` (or ``with app.app_context():``) makes ``current_app`` and
    ``g`` available; contexts nest, and leaving one restores the previous.
    """

    __slots__ = ("_g", "_tokens", "app")

    def __init__(self, app: Any) -> None:
        self.app = app
        self._g: _AppCtxGlobals | None = None
        self._tokens: list[contextvars.Token[AppContext | None]] = []

    @property
    def g(self) -> _AppCtxGlobals:
        """This context's ``g`` (created on first use)."""
        if self._g is None:
            self._g = _AppCtxGlobals()
        return self._g

    @property
    def _token_stack(self) -> list[contextvars.Token[AppContext | None]]:
        try:
            return self._tokens
        except AttributeError:  # made by for_dispatch, which skips the list
            self._tokens = []
            return self._tokens

    def push(self) -> contextvars.Token[AppContext | None]:
        """Make this the current context; pass the token to :func:`pop_context`."""
        return _current.set(self)

    def __enter__(self) -> Self:
        self._token_stack.append(_current.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _current.reset(self._token_stack.pop())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app!r}>"


class RequestContext(AppContext):
    """Everything the context locals resolve to while one request is handled.

    Args:
        app: the application.
        request: the request, if dispatch already built one.
        make_request: builds the request on first use of ``request`` otherwise (so a
            handler that never looks at it costs no ``Request`` object).

    What dispatch does with it, per request::

        ctx = RequestContext(app, request)        # cheap: nothing is parsed or opened
        token = ctx.push()                        # the one ContextVar.set
        try:
            response = ...                        # run the handler
            if ctx.session_opened:                # only if the handler touched it
                await ctx.save_session_async(response)
            await response(scope, receive, send)
        finally:
            pop_context(token)
    """

    __slots__ = ("_make_request", "_request", "_session", "flashes", "scope_args")

    @classmethod
    def for_dispatch(cls, app: Any, request: Request | None, scope_args: Any) -> RequestContext:
        """The per-request constructor dispatch uses: no checks, no lists.

        ``scope_args`` is ``(scope, receive, limits)``, to build the request on first use.
        PERF: dispatch makes one of these for every request, so it skips ``__init__`` and
        sets only what a request that never looks at its context needs (0.35 -> 0.15 us).
        """
        ctx = cls.__new__(cls)
        ctx.app = app
        ctx._request = request
        ctx._make_request = None
        ctx.scope_args = scope_args
        ctx._g = None
        ctx._session = None
        ctx.flashes = None
        return ctx

    def __init__(
        self,
        app: Any,
        request: Request | None = None,
        *,
        make_request: Callable[[], Request] | None = None,
    ) -> None:
        super().__init__(app)
        if request is None and make_request is None:
            raise TypeError("RequestContext needs a request or a make_request factory")
        self._request = request
        self._make_request = make_request
        self.scope_args: Any = None
        self._session: SessionMixin | None = None
        #: flashed messages taken from the session by ``get_flashed_messages`` (once per
        #: request, so several calls in one request all see them).
        self.flashes: list[tuple[str, Any]] | None = None

    @property
    def request(self) -> Request:
        """The current request (built on first use when dispatch did not need one)."""
        request = self._request
        if request is None:
            if self._make_request is not None:
                request = self._make_request()
            else:
                from kettle.requests import Request

                request = Request(*self.scope_args)
            self._request = request
        return request

    @property
    def created_request(self) -> Request | None:
        """The request if it exists yet (dispatch closes its uploads after the response)."""
        return self._request

    @property
    def session_opened(self) -> bool:
        """True once the session was loaded: only then can it need saving."""
        return self._session is not None

    @property
    def session(self) -> SessionMixin:
        """The session, opened from the request (its cookie) on first use.

        Any use through the ``session`` proxy marks it *accessed*, so the response gets
        ``Vary: Cookie``: whatever the handler did with it, its answer may depend on it.
        """
        session = self._session
        if session is None:
            interface = _interface(self.app)
            opened = interface.open_session(self.app, self.request)
            session = opened if opened is not None else interface.make_null_session(self.app)
            self._session = session
        return session

    async def open_session_async(self) -> None:
        """Load the session now, for interfaces that do I/O (``is_async = True``).

        Dispatch awaits this before the handler when the app's interface is async, since
        the lazy path cannot await. It does not mark the session accessed.
        """
        if self._session is None:
            interface = _interface(self.app)
            opened = await interface.open_session_async(self.app, self.request)
            self._session = opened if opened is not None else interface.make_null_session(self.app)

    def save_session(self, response: Response) -> None:
        """Write the session into ``response`` (cookie, ``Vary``) if it was opened."""
        session = self._session
        if session is None:
            return
        interface = _interface(self.app)
        if not interface.is_null_session(session):
            interface.save_session(self.app, session, response)

    async def save_session_async(self, response: Response) -> None:
        """:meth:`save_session` through the interface's async hook (for stores doing I/O)."""
        session = self._session
        if session is None:
            return
        interface = _interface(self.app)
        if not interface.is_null_session(session):
            await interface.save_session_async(self.app, session, response)


def _interface(app: Any) -> SessionInterface:
    interface: SessionInterface | None = getattr(app, "session_interface", None)
    if interface is None:
        from kettle.sessions import SecureCookieSessionInterface

        interface = SecureCookieSessionInterface()
    return interface


# The one context variable: None, an AppContext or a RequestContext, or -- set by
# dispatch for each request -- a list ``[context or None, app, request or None, scope,
# receive, limits]`` from which the RequestContext is built on first use.
# PERF: a list costs a fraction of a context object, and most handlers never look.
_current: contextvars.ContextVar[Any] = contextvars.ContextVar("kettle.context", default=None)


def _resolve() -> AppContext | None:
    value = _current.get()
    if value.__class__ is list:
        ctx = value[0]
        if ctx is None:
            ctx = value[0] = RequestContext.for_dispatch(
                value[1], value[2], (value[3], value[4], value[5])
            )
        return ctx  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


def current_context() -> AppContext | None:
    """The active context, or ``None`` outside any (for code that adapts to both)."""
    return _resolve()


def push_request_context(
    app: Any,
    request: Request | None = None,
    *,
    make_request: Callable[[], Request] | None = None,
) -> tuple[RequestContext, contextvars.Token[AppContext | None]]:
    """Create and push a :class:`RequestContext`; returns it and the token to pop it."""
    ctx = RequestContext(app, request, make_request=make_request)
    return ctx, _current.set(ctx)


def pop_context(token: contextvars.Token[AppContext | None]) -> None:
    """Restore the context that was active before the push that returned ``token``."""
    _current.reset(token)


#: The name dispatch code may prefer next to :func:`push_request_context`.
pop_request_context = pop_context


def has_app_context() -> bool:
    """True inside an application or request context."""
    return _resolve() is not None


def has_request_context() -> bool:
    """True while a request is being handled (or in a test request context)."""
    return isinstance(_resolve(), RequestContext)


def copy_current_request_context(func: F) -> F:
    """Let ``func`` see the current request context when it runs later, elsewhere.

    For work handed to another thread or task that does not inherit the context.

    Example:
        >>> from kettle.globals import copy_current_request_context
        >>> copy_current_request_context(print)
        Traceback (most recent call last):
        ...
        RuntimeError: Working outside of request context...
    """
    ctx = _resolve()
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(_NO_REQUEST)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _current.set(ctx)
        try:
            return func(*args, **kwargs)
        finally:
            _current.reset(token)

    return wrapper  # type: ignore[return-value]


def _app_context() -> AppContext:
    ctx = _resolve()
    if ctx is None:
        raise RuntimeError(_NO_APP)
    return ctx


def _request_context() -> RequestContext:
    ctx = _resolve()
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(_NO_REQUEST)
    return ctx


def _get_app() -> Any:
    return _app_context().app


def _get_g() -> _AppCtxGlobals:
    return _app_context().g


def _get_request() -> Request:
    return _request_context().request


def _get_session() -> SessionMixin:
    session = _request_context().session
    session.accessed = True
    return session


class LocalProxy(Generic[T]):
    """Stands for whatever ``get()`` returns *now*, forwarding every use to it.

    An unbound proxy (``get`` raises ``RuntimeError``) is falsy and says so in its repr;
    any other use raises the error, which explains what context is missing.

    Example:
        >>> from kettle.globals import LocalProxy
        >>> box = {"value": [1, 2]}
        >>> p = LocalProxy(lambda: box["value"], "value")
        >>> len(p), p[0], 2 in p, p == [1, 2]
        (2, 1, True, True)
        >>> box["value"] = "now a string"
        >>> p.upper()
        'NOW A STRING'
    """

    __slots__ = ("__get", "__name")
    __get: Callable[[], T]
    __name: str

    def __init__(self, get: Callable[[], T], name: str = "proxy") -> None:
        object.__setattr__(self, "_LocalProxy__get", get)
        object.__setattr__(self, "_LocalProxy__name", name)

    def _get_current_object(self) -> T:
        """The real object behind the proxy (to pass to code that must not see a proxy)."""
        return self.__get()

    # isinstance(request, Request) works, as with Werkzeug's proxies.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        try:
            return type(self.__get())
        except RuntimeError:
            return LocalProxy

    def __getattr__(self, name: str) -> Any:
        try:
            target = self.__get()
        except RuntimeError:
            # Introspection (doctest, inspect.unwrap, pydoc) probes dunders on module
            # globals with hasattr(); unbound, they simply do not exist.
            if name[:2] == "__" == name[-2:]:
                raise AttributeError(name) from None
            raise
        return getattr(target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__get(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.__get(), name)

    def __getitem__(self, key: Any) -> Any:
        return self.__get()[key]  # type: ignore[index]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__get()[key] = value  # type: ignore[index]

    def __delitem__(self, key: Any) -> None:
        del self.__get()[key]  # type: ignore[attr-defined]

    def __contains__(self, item: object) -> bool:
        return item in self.__get()  # type: ignore[operator]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.__get())  # type: ignore[call-overload,no-any-return]

    def __len__(self) -> int:
        return len(self.__get())  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        try:
            target = self.__get()
        except RuntimeError:
            return False
        return bool(target)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__get()(*args, **kwargs)  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return bool(self.__get() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self.__get() != other)

    def __hash__(self) -> int:
        return hash(self.__get())

    def __str__(self) -> str:
        return str(self.__get())

    def __repr__(self) -> str:
        try:
            target = self.__get()
        except RuntimeError:
            return f"<LocalProxy unbound {self.__name}>"
        return repr(target)

    def __dir__(self) -> list[str]:
        try:
            return dir(self.__get())
        except RuntimeError:
            return []


# Typed as what they stand for, so editors and mypy check their use (as Flask does).
current_app: Kettle = LocalProxy(_get_app, "current_app")  # type: ignore[assignment]
g: _AppCtxGlobals = LocalProxy(_get_g, "g")  # type: ignore[assignment]
request: Request = LocalProxy(_get_request, "request")  # type: ignore[assignment]
session: SessionMixin = LocalProxy(_get_session, "session")  # type: ignore[assignment]
