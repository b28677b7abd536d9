"""Session login for server-rendered apps: Flask-Login's job, on kettle's sessions.

Attach a :class:`LoginManager` to the app, tell it how to load a user from the id kept in
the session (a plain or an ``async`` function), and use :func:`login_user`,
:func:`logout_user`, :data:`current_user` and :func:`login_required`.

Logging in rotates the session; logging out clears it and the remember-me cookie; pages
are redirected to the login view, JSON clients get a 401. ``docs/login.md`` says how.

Example:
    >>> from kettle import Kettle
    >>> from kettle.login import LoginManager, UserMixin, current_user, login_required
    >>> from kettle.testing import TestClient
    >>> app = Kettle(__name__)
    >>> app.config["SECRET_KEY"] = "dev only"
    >>> class User(UserMixin):
    ...     def __init__(self, id): self.id = id
    >>> login = LoginManager(app, login_view="/login")
    >>> @login.user_loader
    ... def load_user(user_id): return User(user_id)
    >>> @app.get("/me")
    ... @login_required
    ... async def me():
    ...     return {"id": current_user.id}
    >>> client = TestClient(app, follow_redirects=False)
    >>> client.get("/me", headers={"Accept": "text/html"}).headers["location"]
    '/login?next=%2Fme'
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, Final, TypeVar, cast, overload
from urllib.parse import urlencode

from itsdangerous import BadData, URLSafeTimedSerializer

from kettle.exceptions import ConfigurationError, HTTPException
from kettle.globals import LocalProxy, current_app, g, has_request_context, request, session
from kettle.helpers import url_for
from kettle.introspection import is_async_callable
from kettle.mediatypes import parse_options_header
from kettle.requests import HTTPConnection

__all__ = [
    "AnonymousUser",
    "LoginManager",
    "LoginRequired",
    "UserMixin",
    "current_user",
    "login_fresh",
    "login_required",
    "login_user",
    "logout_user",
    "safe_next_url",
    "wants_json",
]

logger = logging.getLogger("kettle.login")

F = TypeVar("F", bound=Callable[..., Any])

USER_ID_KEY: Final = "_user_id"
FRESH_KEY: Final = "_fresh"
# Where this request's user and pending remember-cookie change live (on ``g``).
_G_USER: Final = "_login_user"
_G_REMEMBER: Final = "_login_remember"
#: The itsdangerous salt of the remember-me cookie (it differs from the session's, so
#: neither cookie can stand in for the other).
REMEMBER_SALT: Final = "kettle.login.remember"
_MAX_REMEMBER_COOKIE: Final = 4096
_COOKIE: Final = "remember_token"


class UserMixin:
    """The user API for a class with an ``id`` attribute.

    ``get_id()`` is what the session and remember-me cookie store. To make logging out
    everywhere possible (after a password change), return a value that changes with the
    password, such as ``f"{self.id}:{self.password_version}"``, and look the user up by
    both in the loader.

    Example:
        >>> from kettle.login import UserMixin
        >>> class User(UserMixin):
        ...     id = 7
        >>> User().get_id(), User().is_authenticated, User().is_anonymous
        ('7', True, False)
    """

    id: Any
    is_authenticated: bool = True
    #: set it false (or make it a property) for accounts that may not log in
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str | None:
        return str(self.id)


class AnonymousUser:
    """``current_user`` when nobody is logged in: falsy ``is_authenticated``.

    Example:
        >>> from kettle.login import AnonymousUser
        >>> user = AnonymousUser()
        >>> user.is_authenticated, user.is_anonymous, user.get_id()
        (False, True, None)
    """

    is_authenticated = False
    is_active = False
    is_anonymous = True

    def get_id(self) -> str | None:
        return None

    def __repr__(self) -> str:
        return "<AnonymousUser>"


# -- redirects --------------------------------------------------------------------------------

# Browsers drop tabs and newlines from URLs and treat "\" as "/": "/\t/evil.com" and
# "/\evil.com" both reach another host. Only printable ASCII paths pass.
_SAFE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def safe_next_url(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: no open redirect.

    Only a relative path passes: it starts with a single ``/``, has no scheme or host,
    no backslash, whitespace or control character (which browsers strip or turn into
    ``/``). Use it for the ``next`` parameter after a login.

    Example:
        >>> from kettle.login import safe_next_url
        >>> safe_next_url("/posts/1?edit=1")
        '/posts/1?edit=1'
        >>> [safe_next_url(u) for u in ("//evil.com", "https://evil.com", "/\\\\evil.com")]
        ['/', '/', '/']
    """
    # A single leading "/" also rules out a scheme and a host (urlsplit finds neither).
    if not target or len(target) > 2048 or "\\" in target or not _SAFE_PATH.fullmatch(target):
        return default
    return target


def wants_json(conn: Any = None) -> bool:
    """Whether a refusal should be a 401 JSON body rather than a redirect to the login page.

    JSON when the request says ``X-Requested-With: XMLHttpRequest``, sends a JSON body
    (``application/json`` or ``+json``), or does not name HTML in ``Accept`` (APIs,
    ``fetch()`` and ``curl`` send ``*/*`` or nothing; browsers navigating to a page
    always list ``text/html``). An ``Accept`` listing HTML redirects unless it also ranks
    a JSON type higher.
    """
    headers = (conn if conn is not None else request).headers
    if headers.get("x-requested-with", "").lower() == "xmlhttprequest":
        return True
    content_type = parse_options_header(headers.get("content-type"))[0]
    if content_type == "application/json" or content_type.endswith("+json"):
        return True
    html = json = 0.0
    for item in headers.get("accept", "").split(","):
        mime, params = parse_options_header(item)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if mime in ("text/html", "application/xhtml+xml"):
            html = max(html, q)
        elif mime == "application/json" or mime.endswith("+json"):
            json = max(json, q)
    return html <= 0 or json > html


def _next_target() -> str:
    url = request.url
    # A request for "//evil.com/x" must not hand the login page a next that leaves the site.
    return safe_next_url(f"{url.path}?{url.query}" if url.query else url.path)


# -- the manager ------------------------------------------------------------------------------


class LoginManager:
    """Session login for one app: the user loader, the login view, remember-me.

    Args:
        app: the app to attach to now (else call :meth:`init_app` later).
        login_view: where :func:`login_required` sends pages: a path (``"/login"``), an
            absolute URL, or an endpoint name for ``url_for`` (``"auth.login"``). Without
            one, pages get a 401 too.
        next_param: the query parameter carrying the page to return to (``next``).
        keep_session_keys: session keys kept when the session is rotated at login
            (``_permanent`` by default; everything else is dropped).
        anonymous_user: the class whose instance ``current_user`` is when logged out.

    Config keys (``app.config``): ``REMEMBER_COOKIE_NAME`` (``remember_token``),
    ``REMEMBER_COOKIE_DURATION`` (30 days; seconds or a ``timedelta``),
    ``REMEMBER_COOKIE_SECURE`` (``None``: Secure on HTTPS), ``REMEMBER_COOKIE_SAMESITE``
    (``"lax"``), ``REMEMBER_COOKIE_PATH`` (``/``) and ``REMEMBER_COOKIE_DOMAIN``.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.login import LoginManager
        >>> login = LoginManager(login_view="auth.login")
        >>> app = Kettle(__name__)
        >>> login.init_app(app)
        >>> app.login_manager is login
        True
    """

    def __init__(
        self,
        app: Any = None,
        *,
        login_view: str | None = None,
        next_param: str = "next",
        keep_session_keys: Iterable[str] = ("_permanent",),
        anonymous_user: Callable[[], Any] = AnonymousUser,
    ) -> None:
        if login_view is not None and (not login_view or login_view.strip() != login_view):
            raise ConfigurationError(
                f"login_view must be a path or an endpoint name, not {login_view!r}"
            )
        if not next_param or not next_param.isidentifier():
            raise ConfigurationError(f"next_param must be a plain name, not {next_param!r}")
        self.login_view = login_view
        self.next_param = next_param
        self.keep_session_keys = tuple(keep_session_keys)
        self.anonymous_user = anonymous_user
        self._loader: Callable[[str], Any] | None = None
        #: the user loader is ``async def``: it is awaited before each request
        self.loader_is_async = False
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Attach to ``app``: load the user before each request, write remember-me after."""
        if getattr(app, "login_manager", None) is not None:
            raise ConfigurationError("This app already has a LoginManager")
        app.login_manager = self
        app.before_request(self._before_request)
        app.after_request(self._after_request)
        app.context_processor(_template_context)

    def user_loader(self, func: F) -> F:
        """Register the function that returns the user for an id (or ``None``).

        It may be ``def`` or ``async def``. A plain function runs when ``current_user``
        is first used in a request, in the thread that uses it (as in Flask-Login, so a
        connection kept on ``g`` works); an async one is awaited before the handler.
        Returning ``None`` (the user was deleted) logs the session out; raising is logged
        and treated as nobody logged in for this request, never as a 500.
        """
        self._loader = func
        self.loader_is_async = is_async_callable(func)
        return func

    # -- per request --------------------------------------------------------------------------

    async def _before_request(self) -> None:
        if self.loader_is_async and g.get(_G_USER) is None:
            await self.load_async()

    async def load_async(self) -> None:
        """Load this request's user with an async loader (done before each request)."""
        user_id, from_cookie = self._pending_id()
        if user_id is None:
            self._anonymous()
            return
        loader = cast("Callable[[str], Awaitable[Any]]", self._loader)
        try:
            user = await loader(user_id)
        except Exception:
            self._anonymous(failed=True)
            return
        self._settle(user, from_cookie)

    def _anonymous(self, failed: bool = False) -> Any:
        if failed:
            logger.exception("The user loader raised for a user id; treating as logged out")
        user = self.anonymous_user()
        g.setdefault(_G_USER, user)
        return user

    # async: a plain-def hook would make every request hold a worker thread.
    async def _after_request(self, response: Any) -> Any:
        action = g.get(_G_REMEMBER)
        if action is None:
            return response
        config = current_app.config
        name = str(config.get("REMEMBER_COOKIE_NAME", _COOKIE))
        options: dict[str, Any] = {
            "path": config.get("REMEMBER_COOKIE_PATH", "/"),
            "domain": config.get("REMEMBER_COOKIE_DOMAIN"),
            "secure": config.get("REMEMBER_COOKIE_SECURE"),
            "httponly": True,
            "samesite": str(config.get("REMEMBER_COOKIE_SAMESITE", "lax")).lower(),
        }
        if action == "clear":
            response.delete_cookie(name, **options)
        else:
            duration = self._duration(config)
            value = self._signer(config).dumps(action)
            response.set_cookie(name, value, max_age=int(duration.total_seconds()), **options)
        response.headers.add_vary("Cookie")
        return response

    def current(self) -> Any:
        """The user of this request (loading it now with a plain loader), else anonymous."""
        user = g.get(_G_USER)
        if user is not None:
            return user
        user_id, from_cookie = self._pending_id()
        if user_id is None or self._loader is None:
            return self._anonymous()
        if self.loader_is_async:
            # The before-request hook loads async users; reaching here means it did not
            # run (a request context made by hand).
            raise RuntimeError("An async user_loader is only available inside a request")
        try:
            loaded = self._loader(user_id)
        except Exception:
            return self._anonymous(failed=True)
        return self._settle(loaded, from_cookie)

    def _pending_id(self) -> tuple[str | None, bool]:
        """The user id to load: from the session, else from a valid remember-me cookie."""
        user_id = session.get(USER_ID_KEY)
        if isinstance(user_id, str):
            return user_id, False
        config = current_app.config
        cookie = request.cookies.get(str(config.get("REMEMBER_COOKIE_NAME", _COOKIE)))
        if not cookie:
            return None, False
        remembered = self._read_remember(cookie, config)
        if remembered is None:
            g.setdefault(_G_REMEMBER, "clear")  # tampered, expired or not ours: delete it
            return None, False
        return remembered, True

    def _settle(self, user: Any, from_cookie: bool) -> Any:
        if user is None or not getattr(user, "is_active", False):
            # A deleted or deactivated user: whatever pointed at it logs out.
            if from_cookie:
                g.setdefault(_G_REMEMBER, "clear")
            elif USER_ID_KEY in session:
                session.pop(USER_ID_KEY, None)
                session.pop(FRESH_KEY, None)
            user = self.anonymous_user()
        elif from_cookie:
            # Restored from remember-me: a new session, and not fresh.
            session.regenerate(self.keep_session_keys)
            session[USER_ID_KEY] = _user_id(user)
            session[FRESH_KEY] = False
        setattr(g, _G_USER, user)
        return user

    # -- remember-me --------------------------------------------------------------------------

    def _duration(self, config: Any) -> timedelta:
        value = config.get("REMEMBER_COOKIE_DURATION", timedelta(days=30))
        return value if isinstance(value, timedelta) else timedelta(seconds=float(value))

    def _signer(self, config: Any) -> URLSafeTimedSerializer:
        secret = config.get("SECRET_KEY")
        if not secret:
            raise RuntimeError("Remember-me needs SECRET_KEY set in the app's config")
        keys = (*reversed(list(config.get("SECRET_KEY_FALLBACKS") or ())), secret)
        cached = self._serializer
        if cached is None or cached[0] != keys:
            cached = (keys, URLSafeTimedSerializer(list(keys), salt=REMEMBER_SALT))
            self._serializer = cached
        return cached[1]

    def _read_remember(self, cookie: str, config: Any) -> str | None:
        if len(cookie) > _MAX_REMEMBER_COOKIE or not config.get("SECRET_KEY"):
            return None
        max_age = int(self._duration(config).total_seconds())
        try:
            value = self._signer(config).loads(cookie, max_age=max_age)
        except (BadData, ValueError, TypeError):
            return None
        return value if isinstance(value, str) else None

    # -- connections without a request context (WebSocket handshakes) ------------------------

    async def connection_user(self, conn: HTTPConnection) -> tuple[Any, bool]:
        """``(user, fresh)`` for a WebSocket handshake, which has no request context.

        The session (or remember-me cookie) is read from the handshake and the user
        loaded (a plain loader in a worker thread); nothing is written back.
        """
        app: Any = conn.app
        interface = app.session_interface
        if interface.is_async:
            opened = await interface.open_session_async(app, conn)
        else:
            opened = interface.open_session(app, conn)
        data = dict(opened) if opened is not None else {}
        user_id, fresh = data.get(USER_ID_KEY), bool(data.get(FRESH_KEY))
        if not isinstance(user_id, str):
            fresh = False
            cookie = conn.cookies.get(str(app.config.get("REMEMBER_COOKIE_NAME", _COOKIE)))
            user_id = self._read_remember(cookie, app.config) if cookie else None
        if user_id is None or self._loader is None:
            return self.anonymous_user(), False
        try:
            if self.loader_is_async:
                user = await self._loader(user_id)
            else:
                import anyio.to_thread

                user = await anyio.to_thread.run_sync(self._loader, user_id)
        except Exception:
            logger.exception("The user loader raised for a user id; treating as logged out")
            return self.anonymous_user(), False
        if user is None or not getattr(user, "is_active", False):
            return self.anonymous_user(), False
        return user, fresh

    # -- refusals -----------------------------------------------------------------------------

    def unauthorized(self) -> HTTPException:
        """The error :func:`login_required` raises: a redirect for pages, else a 401."""
        if self.login_view is None or wants_json():
            return HTTPException(401, "Not authenticated")
        view = self.login_view
        # A path or an absolute URL (a single sign-on page elsewhere) is used as given.
        target = view if view.startswith(("/", "https://", "http://")) else url_for(view)
        separator = "&" if "?" in target else "?"
        location = f"{target}{separator}{urlencode({self.next_param: _next_target()})}"
        # 303 turns a refused POST into a GET of the login page; 302 for reads, as browsers
        # and Flask-Login expect.
        status = 302 if request.method in ("GET", "HEAD") else 303
        return HTTPException(status, "Log in to see this page", {"Location": location})


def _user_id(user: Any) -> str:
    if (user_id := user.get_id()) is None:
        raise ValueError("login_user: the user's get_id() returned None")
    return str(user_id)


def _manager() -> LoginManager:
    manager: LoginManager | None = getattr(current_app, "login_manager", None)
    if manager is None:
        raise RuntimeError("No LoginManager: create LoginManager(app) before using login")
    return manager


#: The logged-in user of this request, or an :class:`AnonymousUser`; in templates too.
current_user: Any = LocalProxy(lambda: _manager().current(), "current_user")


def _template_context() -> dict[str, Any]:
    return {"current_user": current_user}


def login_user(
    user: Any, *, remember: bool = False, fresh: bool = True, force: bool = False
) -> bool:
    """Log ``user`` in for this session; ``False`` (and nothing done) if it is inactive.

    The session is rotated first (only the manager's ``keep_session_keys`` survive), then
    holds the user's id. ``remember=True`` sets the remember-me cookie; ``fresh=False``
    marks a login that did not check a password (see :func:`login_fresh`).
    """
    if not force and not getattr(user, "is_active", False):
        return False
    manager = _manager()
    user_id = _user_id(user)
    session.regenerate(manager.keep_session_keys)
    session[USER_ID_KEY] = user_id
    session[FRESH_KEY] = fresh
    setattr(g, _G_USER, user)
    setattr(g, _G_REMEMBER, user_id if remember else "clear")
    return True


def logout_user() -> None:
    """Log out: clear the session, delete the remember-me cookie, become anonymous."""
    manager = _manager()
    session.clear()
    setattr(g, _G_USER, manager.anonymous_user())
    setattr(g, _G_REMEMBER, "clear")


def login_fresh() -> bool:
    """True when this session's login checked credentials (not restored by remember-me)."""
    return bool(session.get(FRESH_KEY, False)) and bool(current_user.is_authenticated)


def _refusal(fresh: bool) -> HTTPException | None:
    manager = _manager()
    if not current_user.is_authenticated:
        return manager.unauthorized()
    if fresh and not login_fresh():
        return manager.unauthorized()
    return None


async def _ensure_loaded() -> None:
    # The before-request hook has normally loaded the user; a handler reached another
    # way (a test calling the endpoint directly) loads it here.
    manager = _manager()
    if manager.loader_is_async and g.get(_G_USER) is None:
        await manager.load_async()


@overload
def login_required(func: F, /) -> F: ...
@overload
def login_required(*, fresh: bool = False) -> Callable[[F], F]: ...
def login_required(func: F | None = None, /, *, fresh: bool = False) -> F | Callable[[F], F]:
    """Refuse the handler to anonymous users: a redirect to the login view, or a 401.

    Works on ``def`` and ``async def`` handlers and keeps their signature (their
    parameters are still injected). ``@login_required(fresh=True)`` also refuses a login
    restored from the remember-me cookie. Put it under the route decorator. For a
    dependency (router- or app-wide) and on WebSocket routes, use :class:`LoginRequired`.

    Example:
        >>> from kettle.login import login_required
        >>> @login_required
        ... def settings(tab: str = "profile") -> str:
        ...     return tab
        >>> import inspect; list(inspect.signature(settings).parameters)
        ['tab']
    """

    def decorate(view: F) -> F:
        if is_async_callable(view):

            @functools.wraps(view)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                await _ensure_loaded()
                refusal = _refusal(fresh)
                if refusal is not None:
                    raise refusal
                return await view(*args, **kwargs)

            return cast("F", guarded_async)

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            refusal = _refusal(fresh)
            if refusal is not None:
                raise refusal
            return view(*args, **kwargs)

        return cast("F", guarded)

    return decorate(func) if func is not None else decorate


class LoginRequired:
    """A dependency that refuses anonymous users and returns the logged-in user.

    ``Depends(LoginRequired())`` on a route, a router or the whole app;
    ``LoginRequired(fresh=True)`` also refuses logins restored by remember-me.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.login import LoginRequired
        >>> app = Kettle(__name__)
        >>> @app.get("/account")
        ... async def account(user=Depends(LoginRequired())):
        ...     return {"id": user.get_id()}
    """

    def __init__(self, *, fresh: bool = False) -> None:
        self.fresh = fresh

    async def __call__(self, conn: HTTPConnection) -> Any:
        if not has_request_context():
            # A WebSocket handshake: refused before accept when nobody is logged in.
            manager: LoginManager | None = getattr(conn.app, "login_manager", None)
            if manager is None:
                raise RuntimeError("No LoginManager: create LoginManager(app) first")
            user, fresh = await manager.connection_user(conn)
            if not user.is_authenticated or (self.fresh and not fresh):
                raise HTTPException(401, "Not authenticated")
            return user
        await _ensure_loaded()
        refusal = _refusal(self.fresh)
        if refusal is not None:
            raise refusal
        return current_user._get_current_object()
