"""Server-side sessions: the data in a :mod:`store <kettle.stores>`, only an id in the cookie.

:class:`ServerSideSessionInterface` plugs into the app's ``session_interface``. The cookie
holds a random session id (32 bytes from :mod:`secrets`) signed with ``SECRET_KEY``
through itsdangerous, so a forged or guessed id is refused before the store is asked; the
session's data lives in the store under ``key_prefix`` + the id, as tagged JSON (the
same types the cookie sessions keep), expiring after ``PERMANENT_SESSION_LIFETIME``.

What it adds over the cookie sessions:

* **size**: the data is not bounded by the browser's 4 KiB cookie;
* **rotation**: ``session.regenerate()`` (``login_user`` calls it) gives the session a
  new id and deletes the old record, so an id planted before login (session fixation) is
  worth nothing afterwards;
* **revocation**: :meth:`ServerSideSessionInterface.revoke` deletes a session by its id
  (``session.sid``), and logging out deletes its record, so a copied cookie stops working
  at once instead of when it expires.

While the store is down a request that has a session cookie is answered ``503`` with
``Retry-After`` (the session could be neither read nor trusted to be absent); one without
a cookie never asks the store.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from itsdangerous import BadSignature, Signer

from kettle.exceptions import HTTPException
from kettle.sessions import (
    SecureCookieSession,
    SessionApp,
    SessionInterface,
    SessionMixin,
    TaggedJSONSerializer,
    lifetime,
)
from kettle.stores import MemoryStore, Store, StoreUnavailable

if TYPE_CHECKING:
    from kettle.requests import HTTPConnection
    from kettle.responses import Response

__all__ = ["ServerSideSession", "ServerSideSessionInterface"]

logger = logging.getLogger("kettle.sessions")

# A signed id is ~87 characters: anything much longer did not come from us.
_MAX_COOKIE_VALUE = 256


class ServerSideSession(SecureCookieSession):
    """A session whose data lives in a store; ``sid`` is its id (``None`` until saved).

    Example:
        >>> from kettle.serversessions import ServerSideSession
        >>> s = ServerSideSession({"user": "ada"}, sid="abc")  # as opened from the store
        >>> s.sid, s["user"]
        ('abc', 'ada')
    """

    def __init__(self, data: Any = (), sid: str | None = None) -> None:
        super().__init__(data)
        self.stored_sid = sid  # the id the store knows it by, if any
        self._sid = sid
        #: Ids this session has left (by :meth:`regenerate`): deleted when it is saved.
        self.replaced: list[str] = []

    @property
    def sid(self) -> str:
        """The session's id: the one its cookie named, or a new random one (chosen on
        first use, stored when the session is saved)."""
        if self._sid is None:
            self._sid = secrets.token_urlsafe(32)
        return self._sid

    def regenerate(self, keep: Iterable[str] = ("_permanent",)) -> None:
        """Start a new session under a new id at once (the old one is deleted on save),
        so the handler can record ``session.sid`` right after ``login_user``."""
        super().regenerate(keep)
        if self.stored_sid is not None:
            self.replaced.append(self.stored_sid)
        self.stored_sid = None
        self._sid = secrets.token_urlsafe(32)


class ServerSideSessionInterface(SessionInterface):
    """Sessions kept in a :class:`~kettle.stores.Store`, an id in a signed cookie.

    Args:
        store: where the data lives; :class:`~kettle.stores.RedisStore` to share
            sessions between workers and hosts (default: a
            :class:`~kettle.stores.MemoryStore` of this process).
        key_prefix: put before each session id in the store.
        app: the app to serve (see :meth:`init_app`); or set ``app.session_interface``
            yourself and close the store at shutdown.

    Example:
        >>> from kettle import Kettle, session
        >>> from kettle.serversessions import ServerSideSessionInterface
        >>> app = Kettle(__name__)
        >>> app.config["SECRET_KEY"] = "dev only"
        >>> interface = ServerSideSessionInterface(app=app)  # in memory: one process
        >>> @app.post("/visit")
        ... async def visit() -> dict[str, int]:
        ...     session["visits"] = session.get("visits", 0) + 1
        ...     return {"visits": session["visits"]}
        >>> client = app.test_client()
        >>> [client.post("/visit").json()["visits"] for _ in range(3)]
        [1, 2, 3]
        >>> len(client.cookies["session"]) < 100  # an id, not the data
        True
    """

    is_async: ClassVar[bool] = True
    salt: ClassVar[str] = "kettle-server-session"
    serializer: ClassVar[TaggedJSONSerializer] = TaggedJSONSerializer()
    session_class: ClassVar[type[ServerSideSession]] = ServerSideSession

    def __init__(
        self, store: Store | None = None, *, key_prefix: str = "session:", app: Any = None
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.key_prefix = key_prefix
        self._signer: tuple[tuple[Any, ...], Signer] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Become ``app``'s session interface, and close the store's connections when the
        app shuts down (Redis connections belong to the serving event loop)."""
        app.session_interface = self
        app.on_shutdown(self.store.aclose)

    # -- signing the id ---------------------------------------------------------------------

    def _get_signer(self, app: SessionApp) -> Signer | None:
        config = app.config
        secret = config.get("SECRET_KEY")
        if not secret:
            return None
        fallbacks: Iterable[str | bytes] = config.get("SECRET_KEY_FALLBACKS") or ()
        # Signs with the last key, verifies with every one (newest first).
        keys = (*reversed(list(fallbacks)), secret)
        cached = self._signer
        if cached is None or cached[0] != keys:
            cached = self._signer = (keys, Signer(list(keys), salt=self.salt))
        return cached[1]

    def is_configured(self, app: SessionApp) -> bool:
        """True once a ``SECRET_KEY`` is set (the id is signed with it)."""
        return bool(app.config.get("SECRET_KEY"))

    def _sid_from(self, app: SessionApp, request: HTTPConnection, signer: Signer) -> str | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or len(value) > _MAX_COOKIE_VALUE:
            return None
        try:
            return signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    # -- opening and saving -------------------------------------------------------------------

    def open_session(self, app: SessionApp, request: HTTPConnection) -> SessionMixin | None:
        raise RuntimeError(
            "ServerSideSessionInterface is asynchronous: it is opened through "
            "open_session_async (kettle's dispatch does this)"
        )

    def save_session(self, app: SessionApp, session: SessionMixin, response: Response) -> None:
        raise RuntimeError("ServerSideSessionInterface is saved through save_session_async")

    async def open_session_async(
        self, app: SessionApp, request: HTTPConnection
    ) -> ServerSideSession | None:
        """The session the cookie names, or a new one (no cookie, a bad signature, or a
        session the store no longer has: expired or revoked)."""
        signer = self._get_signer(app)
        if signer is None:
            return None
        sid = self._sid_from(app, request, signer)
        if sid is None:
            return self._new()
        try:
            raw = await self.store.get(self.key_prefix + sid)
        except StoreUnavailable as exc:
            raise _unavailable(exc) from exc
        if raw is None:
            return self._new()
        try:
            data = self.serializer.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._new()
        return self.session_class(data, sid=sid)

    def _new(self) -> ServerSideSession:
        session = self.session_class()
        session.new = True
        return session

    async def save_session_async(
        self, app: SessionApp, session: SessionMixin, response: Response
    ) -> None:
        """Write the data to the store (under a new id after ``regenerate()``), then set,
        refresh or delete the cookie; ``Vary: Cookie`` whenever the session was read."""
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        secure, httponly = self.get_cookie_secure(app), self.get_cookie_httponly(app)
        samesite = self.get_cookie_samesite(app)
        if session.accessed:
            response.headers.add_vary("Cookie")
        stored_sid: str | None = getattr(session, "stored_sid", None)
        try:
            for old in getattr(session, "replaced", ()):
                # Rotation: the id the client came with stops naming anything.
                await self.store.delete(self.key_prefix + old)
            if not session:
                if session.modified:
                    if stored_sid is not None:  # logout: the record goes with the cookie
                        await self.store.delete(self.key_prefix + stored_sid)
                    response.delete_cookie(
                        name,
                        path=path,
                        domain=domain,
                        secure=secure,
                        httponly=httponly,
                        samesite=samesite,
                    )
                    response.headers.add_vary("Cookie")
                return
            if not self.should_set_cookie(app, session):
                return
            sid = session.sid if isinstance(session, ServerSideSession) else stored_sid
            if sid is None:
                sid = secrets.token_urlsafe(32)
            ttl = lifetime(app).total_seconds()
            await self.store.set(self.key_prefix + sid, self.serializer.dumps(dict(session)), ttl)
        except StoreUnavailable as exc:
            # The handler's response is replaced: answering it without its session (a
            # login that did not stick) would be worse than asking to retry.
            raise _unavailable(exc) from exc
        if isinstance(session, ServerSideSession):
            session.stored_sid = sid
            session.replaced.clear()
        signer = self._get_signer(app)
        assert signer is not None  # a null session is never saved
        expires = self.get_expiration_time(app, session)
        response.set_cookie(
            name,
            signer.sign(sid).decode("ascii"),
            max_age=None if expires is None else int(ttl),
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=self.get_cookie_partitioned(app),
        )
        response.headers.add_vary("Cookie")

    # -- revocation -----------------------------------------------------------------------------

    async def revoke(self, sid: str) -> bool:
        """Delete the session with id ``sid`` (its ``session.sid``): the cookie naming it
        opens as a new, empty session from then on. Whether it existed.

        Keep the ids of a user's sessions (``session.sid`` after login) to log them out
        everywhere, e.g. when their password changes.
        """
        return await self.store.delete(self.key_prefix + sid)


def _unavailable(exc: StoreUnavailable) -> HTTPException:
    logger.warning("Session store unavailable (%s): answering 503", exc)
    return HTTPException(503, "Sessions are unavailable: retry later.", {"Retry-After": "1"})
