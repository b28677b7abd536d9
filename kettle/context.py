"""The per-request context: what dispatch keeps for one request, and what the context
locals (``request``, ``session``, ``g``, ``current_app`` in :mod:`kettle.globals`) resolve to.

Dispatch makes one :class:`RequestContext` per request and sets it with a single
``ContextVar.set``. Nothing is done up front: the request, of the class the app asks for
(:func:`request_class`), is built on first use, the session is opened from its cookie only
when ``session`` is first touched (so requests that never use it cost nothing and get no
``Vary: Cookie``), and ``g`` is created on first use. Once the response has started, the
session is *sealed*: it can still be read (a streamed body may render it) but a change
raises, because its cookie has already been sent.

Plain ``def`` handlers run in worker threads with a *copy* of the context variables. The
copy holds the same context object, and every change (``g.user = ...``, loading or writing
the session, consuming flashes) is made on that object, never by setting a context
variable, so it is still there when the handler returns.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from kettle.requests import Request

if TYPE_CHECKING:
    from types import TracebackType

    from kettle.di import CallState
    from kettle.forms import FormData
    from kettle.limits import Limits
    from kettle.responses import Response
    from kettle.types import Receive, Scope

__all__ = [
    "AppContext",
    "RequestContext",
    "SealedSession",
    "current",
    "pushed",
    "pushed_app_context",
    "request_class",
]


class SessionStore(Protocol):
    """What the context needs of the app's session interface (``kettle.sessions``)."""

    is_async: bool

    def open_session(self, app: Any, request: Any) -> Any: ...
    def make_null_session(self, app: Any) -> Any: ...
    def is_null_session(self, obj: object) -> bool: ...
    def is_configured(self, app: Any) -> bool: ...
    def get_cookie_name(self, app: Any) -> str: ...
    def save_session(self, app: Any, session: Any, response: Any) -> None: ...
    async def open_session_async(self, app: Any, request: Any) -> Any: ...
    async def save_session_async(self, app: Any, session: Any, response: Any) -> None: ...


def request_class(app: Any) -> type[Request]:
    """The class of the request objects ``app`` serves: its ``request_class`` attribute, as
    in Flask (``Kettle`` sets it to the core request with Flask's API on top), else the
    core :class:`~kettle.requests.Request`."""
    cls: type[Request] | None = getattr(app, "request_class", None)
    return cls if cls is not None else Request


# The one context variable: None, an AppContext or a RequestContext.
current: contextvars.ContextVar[Any] = contextvars.ContextVar("kettle.context", default=None)

# The innermost context pushed by hand (``with app.app_context():``). Dispatch replaces
# ``current`` for a request but leaves this one alone, so a request served inside a pushed
# app context knows that the app context outlives it: the pushed one runs the
# teardown_appcontext functions and sends the appcontext signals, once.
pushed: contextvars.ContextVar[AppContext | None] = contextvars.ContextVar(
    "kettle.pushed", default=None
)


def pushed_app_context(app: Any) -> bool:
    """True when a context pushed by hand for ``app`` is active (a request served inside
    ``with app.app_context():`` leaves the app context's teardown to it)."""
    outer = pushed.get()
    return outer is not None and outer.app is app


class AppGlobals:
    """``g``: a namespace for data that lives as long as the current context.

    Example:
        >>> from kettle.globals import AppGlobals
        >>> g = AppGlobals()
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
        """Remove and return attribute ``name`` (``default`` if given and it is not set).

        Like ``dict.pop``, a missing name without a default raises ``KeyError``.
        """
        if default:
            return self.__dict__.pop(name, default[0])
        return self.__dict__.pop(name)

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
        self._g: AppGlobals | None = None
        self._tokens: list[contextvars.Token[AppContext | None]] = []

    @property
    def g(self) -> AppGlobals:
        """This context's ``g`` (created on first use)."""
        try:
            found = self._g
        except AttributeError:  # made by for_dispatch, which leaves it unset
            found = None
        if found is None:
            # Flask's ``app_ctx_globals_class`` replaces the class of ``g`` when set.
            make = getattr(self.app, "app_ctx_globals_class", None) or AppGlobals
            found = self._g = make()
        return found

    @property
    def _token_stack(self) -> list[contextvars.Token[AppContext | None]]:
        try:
            return self._tokens
        except AttributeError:  # made by for_dispatch, which skips the list
            self._tokens = []
            return self._tokens

    def push(self) -> contextvars.Token[AppContext | None]:
        """Make this the current context; pass the token to :func:`pop_context`."""
        return current.set(self)

    def __enter__(self) -> Self:
        self._token_stack.append(current.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        current.reset(self._token_stack.pop())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app!r}>"


class RequestContext(AppContext):
    """Everything one request's handling keeps, and what the context locals resolve to.

    Args:
        app: the application.
        request: the request, if one exists already.
        make_request: builds the request on first use of ``request`` otherwise (so a
            handler that never looks at it costs no ``Request`` object).

    What dispatch does with it, per request (see ``kettle/dispatch.py``)::

        new_context = RequestContext.for_dispatch(app, limits, request_class, False)  # startup
        ctx = new_context(scope, receive)          # per request
        token = current.set(ctx)                  # the one ContextVar.set
        try:
            response = ...                        # hooks, arguments, the handler
            await ctx.before_send(response)       # session saved, then sealed (*)
            await response(scope, receive, send)
        finally:
            ...                                   # teardown hooks, ``ctx.uploads`` closed
            current.reset(token)

    (*) only when a session was opened or is to be renewed, or the body streams; else
    dispatch just sets ``ctx.sealed``.
    """

    __slots__ = (
        "_flashes",
        "_make_request",
        "_sealed_view",
        "after_this",
        "call",
        "created_request",
        "limits",
        "loaded_session",
        "receive",
        "request_class",
        "scope",
        "sealed",
    )

    #: ``for_dispatch(app, limits, request_class, with_request)``: the constructor
    #: dispatch calls for every request of ``app``, ``new_context(scope, receive)`` (no
    #: checks, nothing built but the request when asked); :func:`_dispatched_by`, below.
    for_dispatch: ClassVar[
        Callable[[Any, Limits, type[Request], bool], Callable[[Scope, Receive], RequestContext]]
    ]

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
        #: the class ``request`` is built with when it does not exist yet
        self.request_class = request_class(app)
        #: the request if it exists yet
        self.created_request = request
        self._make_request = make_request
        self.scope: Any = request.scope if request is not None else None
        self.receive: Any = None
        self.limits: Any = None
        #: the session once opened (only then can it need saving), else ``None``
        self.loaded_session: Any = None
        #: the dependency-injection state of this request, when its plan needed one
        self.call: CallState | None = None
        #: the response has started: the session can be read, not changed
        self.sealed = False
        #: ``after_this_request`` functions (async callables, run before the
        #: ``after_request`` hooks), ``None`` until one is registered
        self.after_this: list[Callable[[Any], Awaitable[Any]]] | None = None
        #: flashed messages taken from the session by ``get_flashed_messages`` (once per
        #: request, so several calls in one request all see them)
        self._flashes: list[tuple[str, Any]] | None = None

    # -- the request ----------------------------------------------------------------------

    @property
    def request(self) -> Request:
        """The current request (built on first use when dispatch did not need one)."""
        request = self.created_request
        if request is None:
            make = getattr(self, "_make_request", None)  # unset when made by for_dispatch
            if make is not None:
                request = make()
            else:
                request = self.request_class(self.scope, self.receive, self.limits)
            self.created_request = request
        return request

    @property
    def flashes(self) -> list[tuple[str, Any]] | None:
        """Flashed messages taken from the session by ``get_flashed_messages`` (once per
        request, so several calls in one request all see them)."""
        try:
            return self._flashes
        except AttributeError:  # made by for_dispatch, which leaves it unset
            return None

    @flashes.setter
    def flashes(self, value: list[tuple[str, Any]] | None) -> None:
        self._flashes = value

    @property
    def uploads(self) -> FormData | None:
        """The request's parsed form, if one was parsed (its files need closing)."""
        request = self.created_request
        return request.parsed_form if request is not None else None

    async def close_uploads(self) -> None:
        """Close uploaded files, once the response has been sent however it was produced."""
        uploads = self.uploads
        if uploads is not None:
            await uploads.close()

    # -- the session ----------------------------------------------------------------------

    @property
    def session_opened(self) -> bool:
        """True once the session was loaded: only then can it need saving."""
        return self.loaded_session is not None

    @property
    def _session(self) -> Any:
        """The session object itself, opened if it was not (Flask's ``ctx._session``):
        for code inspecting its ``accessed``/``modified`` flags, which it leaves alone."""
        if self.loaded_session is None:
            interface = _interface(self.app)
            opened = interface.open_session(self.app, self.request)
            self.loaded_session = (
                opened if opened is not None else interface.make_null_session(self.app)
            )
        return self.loaded_session

    def copy(self) -> RequestContext:
        """A context for the same request and session, to push later elsewhere (a greenlet,
        a thread): ``with ctx.copy():``. Its request is built now, while it can be.

        Example:
            >>> from kettle import Kettle, request
            >>> app = Kettle(__name__)
            >>> with app.test_request_context("/?q=tea") as ctx:
            ...     later = ctx.copy()
            >>> with later:
            ...     request.args["q"]
            'tea'
        """
        ctx = RequestContext(self.app, self.request)
        ctx.loaded_session = self.loaded_session
        return ctx

    @property
    def session(self) -> Any:
        """The session, opened from the request (its cookie) on first use.

        After the response has started it is a read-only :class:`SealedSession`: its
        cookie has been sent, so a change could only be lost.
        """
        session = self.loaded_session
        if session is None:
            interface = _interface(self.app)
            opened = interface.open_session(self.app, self.request)
            session = opened if opened is not None else interface.make_null_session(self.app)
            self.loaded_session = session
        if self.sealed:
            view: SealedSession | None = getattr(self, "_sealed_view", None)
            if view is None:
                view = self._sealed_view = SealedSession(session)
            return view
        return session

    async def open_session_async(self) -> None:
        """Load the session now, for interfaces that do I/O (``is_async = True``).

        Dispatch awaits this before the handler when the app's interface is async, since
        the lazy path cannot await. It does not mark the session accessed.
        """
        if self.loaded_session is None:
            interface = _interface(self.app)
            opened = await interface.open_session_async(self.app, self.request)
            self.loaded_session = (
                opened if opened is not None else interface.make_null_session(self.app)
            )

    def save_session(self, response: Response) -> None:
        """Write the session into ``response`` (cookie, ``Vary``) if it was opened."""
        session = self.loaded_session
        if session is None:
            return
        interface = _interface(self.app)
        if not interface.is_null_session(session):
            interface.save_session(self.app, session, response)

    async def save_session_async(self, response: Response) -> None:
        """:meth:`save_session` through the interface's async hook (for stores doing I/O)."""
        session = self.loaded_session
        if session is None:
            return
        interface = _interface(self.app)
        if not interface.is_null_session(session):
            await interface.save_session_async(self.app, session, response)

    async def before_send(self, response: Response, refresh: bool = False) -> None:
        """Save the session into ``response``, then seal it.

        A streamed body runs the app's code after the headers are gone, so a response that
        streams carries ``Vary: Cookie`` whenever the app has sessions: what it renders may
        depend on the cookie. Writes made while streaming raise instead of being lost.

        ``refresh``: the app renews sessions on every request (``SESSION_REFRESH_EACH_
        REQUEST``) and the request carries cookies; a session cookie among them is opened
        even though the handler did not touch it, so a permanent one's expiry is renewed.
        """
        if refresh and self.loaded_session is None:
            interface = _interface(self.app)
            if interface.get_cookie_name(self.app) in self.request.cookies:
                await self.open_session_async()
        if self.loaded_session is not None:
            await self.save_session_async(response)
        if response.streams and _interface(self.app).is_configured(self.app):
            response.headers.add_vary("Cookie")
        self.sealed = True


class _DispatchedContext(RequestContext):
    """A :class:`RequestContext` as dispatch makes one per request: the base of the class
    :func:`_dispatched_by` makes for one app, whose ``new_context`` sets only what
    dispatch reads on every request. ``g``, the flashes and the request factory are left
    unset (their accessors read an unset slot as ``None``): 473 -> 254-288 ns when that
    was measured, and no ``__init__`` runs at all (0.44 -> 0.28 us before that).
    """

    __slots__ = ()

    @property
    def request(self) -> Request:
        # PERF: no request factory to look for (reading the unset slot raises inside
        # getattr): ~0.2 us less for every route that reads its request.
        request = self.created_request
        if request is None:
            request = self.created_request = self.request_class(
                self.scope, self.receive, self.limits
            )
        return request


def _dispatched_by(
    app: Any, limits: Limits, request_class: type[Request], with_request: bool = False
) -> Callable[[Scope, Receive], RequestContext]:
    """``new_context(scope, receive)``: a context for one of ``app``'s requests, made with
    its request (``with_request``: the route's binder reads it) or without (built on first
    use, if any).

    PERF: what is the same for every request of one app (the app, its limits, its request
    class) is a class attribute of a class made here, read through the slots' names,
    instead of three arguments and three attribute writes per request; and a context is
    made by a plain function that sets the slots, not by ``RequestContext.__init__`` (a
    second call): 147 -> 86 ns to make a context, then ~70 ns with the class's own
    ``__init__`` being ``object.__init__``, so that calling the class runs no Python code
    (``object.__new__(cls)``, the other way to skip it, checks the class's bases on every
    call). Nothing writes these three on a dispatched context.
    """
    namespace = {
        "__slots__": (),
        "__init__": object.__init__,
        "app": app,
        "limits": limits,
        "request_class": request_class,
    }
    cls: Callable[[], RequestContext] = type("RequestContext", (_DispatchedContext,), namespace)

    def new_context(scope: Scope, receive: Receive) -> RequestContext:
        # What RequestContext.__init__ would set, without the call of it.
        ctx = cls()
        ctx.scope = scope
        ctx.receive = receive
        ctx.created_request = request_class(scope, receive, limits) if with_request else None
        ctx.loaded_session = None
        ctx.call = None
        ctx.sealed = False
        ctx.after_this = None
        return ctx

    return new_context


RequestContext.for_dispatch = _dispatched_by


class SealedSession(dict[str, Any]):
    """The session after its cookie was sent: readable, and loud about changes.

    Example:
        >>> s = SealedSession({"user": "ada"})
        >>> s["user"]
        'ada'
        >>> s["user"] = "eve"
        Traceback (most recent call last):
        ...
        RuntimeError: The session cannot change once the response has started...
    """

    accessed = True
    modified = False
    permanent = False

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session cannot change once the response has started: its cookie was "
            "already sent. Change the session before returning the (streaming) response."
        )

    __setitem__ = __delitem__ = setdefault = pop = popitem = clear = update = _refuse
    __ior__ = _refuse


def _interface(app: Any) -> SessionStore:
    # Read from the app (``Kettle`` makes the signed-cookie one on first use): this module
    # sits below the sessions module and does not import it.
    interface: SessionStore | None = getattr(app, "session_interface", None)
    if interface is None:
        raise RuntimeError(
            f"{type(app).__name__} has no session_interface: sessions need one "
            "(a Kettle app has the signed-cookie one)"
        )
    return interface
