"""Context locals: ``request``, ``session``, ``g`` and ``current_app``, as in Flask.

Each proxy looks up the current :class:`~kettle.context.RequestContext` (or
:class:`~kettle.context.AppContext`) on every use; dispatch sets one per request (see
:mod:`kettle.context`, which also says what is built lazily and when).

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
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kettle.config import DEFAULT_CONFIG
from kettle.context import AppContext, AppGlobals, RequestContext
from kettle.context import current as _current
from kettle.context import pushed as _pushed
from kettle.context import pushed_app_context as pushed_app_context
from kettle.signals import appcontext_popped, appcontext_pushed, request_tearing_down

if TYPE_CHECKING:
    from kettle.flaskrequest import FlaskRequest
    from kettle.requests import Request
    from kettle.sessions import SessionMixin
    from kettle.types import AppLike

__all__ = [
    "AppContext",
    "LocalProxy",
    "PushedAppContext",
    "PushedRequestContext",
    "RequestContext",
    "after_this_request",
    "app_ctx",
    "copy_current_request_context",
    "current_app",
    "current_context",
    "g",
    "has_app_context",
    "has_request_context",
    "max_cookie_size",
    "pop_context",
    "pop_request_context",
    "push_request_context",
    "request",
    "request_ctx",
    "session",
    "warn_if_cookie_too_large",
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


def _resolve() -> AppContext | None:
    return _current.get()  # type: ignore[no-any-return]


def _get_session() -> SessionMixin:
    session = _request_context().session
    session.accessed = True
    return session  # type: ignore[no-any-return]


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


def after_this_request(func: F) -> F:
    """Run ``func(response)`` on this request's response, before the ``after_request``
    hooks; it returns the response (or a replacement), as they do.

    For a change only one branch of a view needs (a cookie, a header). A plain ``def``
    runs in the thread pool, as hooks do.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.globals import after_this_request
        >>> app = Kettle(__name__)
        >>> @app.route("/")
        ... def index():
        ...     @after_this_request
        ...     def tag(response):
        ...         response.headers["X-Tag"] = "seen"
        ...         return response
        ...     return "hi"
        >>> app.test_client().get("/").headers["x-tag"]
        'seen'
    """
    ctx = _resolve()
    if not isinstance(ctx, RequestContext):
        raise RuntimeError(
            "after_this_request() can only be used while handling a request: " + _NO_REQUEST
        )
    from kettle.hooks import as_async

    pool = getattr(ctx.app, "thread_pool", None)
    if pool is None:
        from kettle.concurrency import ThreadPool

        pool = ThreadPool()
    hook = as_async(func, pool)
    if ctx.after_this is None:
        ctx.after_this = [hook]
    else:
        ctx.after_this.append(hook)
    return func


def max_cookie_size() -> int:
    """The current app's ``MAX_COOKIE_SIZE`` (outside any app context, the default 4093:
    the size browsers keep); ``0`` turns the check of :func:`warn_if_cookie_too_large` off.

    Example:
        >>> max_cookie_size()
        4093
    """
    ctx = _resolve()
    config = getattr(ctx.app, "config", None) if ctx is not None else None
    if config is not None and "MAX_COOKIE_SIZE" in config:
        return int(config["MAX_COOKIE_SIZE"] or 0)
    return int(DEFAULT_CONFIG["MAX_COOKIE_SIZE"])


def warn_if_cookie_too_large(key: str, header: bytes) -> None:
    """Warn when the ``Set-Cookie`` value ``header`` of cookie ``key`` is over
    :func:`max_cookie_size`: browsers drop such a cookie without a word.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_if_cookie_too_large("big", b"big=" + b"x" * 5000)
        >>> "cookie is too large" in str(caught[0].message)
        True
    """
    limit = max_cookie_size()
    if limit and len(header) > limit:
        warnings.warn(
            f"The {key!r} cookie is too large: its Set-Cookie value is {len(header)} bytes, "
            f"over MAX_COOKIE_SIZE ({limit}). Browsers may silently ignore it.",
            stacklevel=3,
        )


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


def _get_g() -> AppGlobals:
    return _app_context().g


def _get_request() -> Request:
    return _request_context().request


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

    # ``with app_ctx:`` / ``with request_ctx:`` enter the current context again.
    def __enter__(self) -> Any:
        return self.__get().__enter__()  # type: ignore[attr-defined]

    def __exit__(self, *exc_info: Any) -> Any:
        return self.__get().__exit__(*exc_info)  # type: ignore[attr-defined]

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
            return "<LocalProxy unbound>"
        return repr(target)

    def __dir__(self) -> list[str]:
        try:
            return dir(self.__get())
        except RuntimeError:
            return []


# Typed as what they stand for, so editors and mypy check their use (as Flask does): the
# app as the layers below it see it, and the request with Flask's API, which apps serve.
current_app: AppLike = LocalProxy(_get_app, "current_app")
g: AppGlobals = LocalProxy(_get_g, "g")  # type: ignore[assignment]

#: Flask's name for the class of ``g`` (``flask.ctx._AppCtxGlobals``), for code naming it.
_AppCtxGlobals = AppGlobals
request: FlaskRequest = LocalProxy(_get_request, "request")  # type: ignore[assignment]
session: SessionMixin = LocalProxy(_get_session, "session")  # type: ignore[assignment]

#: The current request context and app context themselves (Flask's ``request_ctx`` and
#: ``app_ctx``): for code that keeps or inspects the context, not just its request.
request_ctx: RequestContext = LocalProxy(_request_context, "request_ctx")  # type: ignore[assignment]
app_ctx: AppContext = LocalProxy(_app_context, "app_ctx")  # type: ignore[assignment]


# -- contexts pushed by hand (``app.app_context()``, ``app.test_request_context()``) ---------


def _run_sync_or_async(func: Callable[..., Any], *args: Any) -> None:
    result = func(*args)
    if inspect.isawaitable(result):  # an async teardown, outside any event loop
        import asyncio

        async def wait() -> None:
            await result

        asyncio.run(wait())


class _Pushed:
    """What a context pushed by hand adds: ``push()``/``pop()`` in pairs, as in Flask,
    with the ``appcontext_*`` signals and the app's ``teardown_appcontext`` functions.

    Dispatch's own contexts never need these: it sets and resets the context variable
    itself, and runs teardown as part of the request.
    """

    __slots__ = ()
    app: Any
    _token_stack: list[contextvars.Token[AppContext | None]]

    @property
    def _pushed_tokens(self) -> list[contextvars.Token[AppContext | None]]:
        # The slot is declared by the concrete classes (an unset slot reads as None).
        tokens: list[contextvars.Token[AppContext | None]] | None = getattr(
            self, "_pushed_stack", None
        )
        if tokens is None:
            tokens = []
            object.__setattr__(self, "_pushed_stack", tokens)
        return tokens

    def push(self) -> contextvars.Token[AppContext | None]:
        token = _current.set(self)
        self._token_stack.append(token)
        self._pushed_tokens.append(_pushed.set(self))  # type: ignore[arg-type]
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app)
        return token

    def pop(self, exc: BaseException | None = None) -> None:
        """Leave the context: restore the previous one; leaving it for the last time (it
        may be pushed again while pushed) runs its teardown functions first."""
        if _current.get() is not self:
            raise RuntimeError(f"popped a context that is not the current one: {self!r}")
        try:
            if len(self._token_stack) == 1:
                self._teardown(exc)
        finally:
            _current.reset(self._token_stack.pop())
            _pushed.reset(self._pushed_tokens.pop())
            if appcontext_popped.receivers:
                appcontext_popped.send(self.app)

    def _teardown(self, exc: BaseException | None) -> None:
        web = getattr(self.app, "web", None)
        if web is not None:
            web.do_teardown_appcontext(exc)

    def __enter__(self) -> Any:
        self.push()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.pop(exc)


class PushedAppContext(_Pushed, AppContext):
    """``app.app_context()``: ``current_app`` and ``g`` outside a request.

    Example:
        >>> from kettle import Kettle, current_app
        >>> app = Kettle(__name__)
        >>> ctx = app.app_context()
        >>> _ = ctx.push()
        >>> current_app.import_name == __name__
        True
        >>> ctx.pop()
    """

    __slots__ = ("_pushed_stack",)


class PushedRequestContext(_Pushed, RequestContext):
    """``app.test_request_context()``: a made-up request's context; popping it runs the
    ``teardown_request`` functions of the app, then its ``teardown_appcontext`` ones."""

    __slots__ = ("_pushed_stack",)

    def _teardown(self, exc: BaseException | None) -> None:
        for func in reversed(getattr(self.app, "teardown_request_funcs", ())):
            _run_sync_or_async(func, exc)
        if request_tearing_down.receivers:
            request_tearing_down.send(self.app, exc=exc)
        super()._teardown(exc)
