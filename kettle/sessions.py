"""Sessions: signed cookies by default, any store through :class:`SessionInterface`.

The default :class:`SecureCookieSessionInterface` keeps the session in a cookie signed with
``SECRET_KEY`` (HMAC-SHA256 through itsdangerous). The client can read it but not change
it; keep secrets out of it. What it guarantees:

* no ``SECRET_KEY``: the session is a :class:`NullSession` that reads as empty and refuses
  writes with an error that says what to set;
* a tampered, expired, malformed or oversized cookie opens as a new empty session (never
  an error), and so does one older than ``PERMANENT_SESSION_LIFETIME``;
* key rotation: put the old key in ``SECRET_KEY_FALLBACKS``; cookies signed with it still
  open, and are re-signed with the new key when next saved;
* the cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` on HTTPS (all configurable);
* a response that read the session carries ``Vary: Cookie``, so no cache serves one
  user's page to another;
* an unchanged session is not sent back (unless it is permanent and
  ``SESSION_REFRESH_EACH_REQUEST`` renews its expiry); a session emptied by the handler
  deletes the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from uuid import UUID

from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup

from kettle.config import DEFAULT_CONFIG, as_timedelta

if TYPE_CHECKING:
    from kettle.cookies import SameSite
    from kettle.requests import HTTPConnection
    from kettle.responses import Response

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "TaggedJSONSerializer",
]

logger = logging.getLogger("kettle.sessions")

# A cookie longer than this did not come from us (browsers cap one cookie at ~4 KiB);
# refusing it first bounds the work an attacker can ask of the verifier.
_MAX_COOKIE_VALUE = 8192
_SAMESITE = {"lax": "lax", "strict": "strict", "none": "none"}


class SessionApp(Protocol):
    """What a session interface needs from the app: its settings."""

    @property
    def config(self) -> Mapping[str, Any]: ...


class SessionMixin(dict[str, Any]):
    """The session API every session object offers: a dict plus state flags.

    ``modified``: changed in this request (it must be saved). ``accessed``: read or
    written (the response depends on the cookie). ``new``: there was no valid session.
    ``permanent``: expire after ``PERMANENT_SESSION_LIFETIME`` instead of when the
    browser closes.

    Mutating a value in place (``session["cart"].append(x)``) cannot be noticed: set
    ``session.modified = True`` afterwards.
    """

    new: bool = False
    # A session class that does not track changes is assumed changed and read.
    modified: bool = True
    accessed: bool = True

    #: :meth:`regenerate` was called: a store keyed by a session id must give this session
    #: a new id when saving it (and drop the old one), so an id planted before login
    #: (session fixation) never becomes a logged-in session.
    regenerated: bool = False

    def regenerate(self, keep: Iterable[str] = ("_permanent",)) -> None:
        """Start a new session: drop every key but ``keep``, and take a new identity.

        Call it when the user's privilege changes (``login_user`` does). With the default
        signed-cookie sessions the whole session is the cookie, so clearing it leaves a
        cookie planted by an attacker worth nothing; server-side stores read
        :attr:`regenerated` and save under a new session id.

        Example:
            >>> from kettle.sessions import SecureCookieSession
            >>> s = SecureCookieSession({"cart": [1], "_permanent": True, "theme": "dark"})
            >>> s.regenerate(keep=("_permanent", "theme"))
            >>> dict(s), s.regenerated, s.modified
            ({'_permanent': True, 'theme': 'dark'}, True, True)
        """
        kept = {key: dict.__getitem__(self, key) for key in keep if dict.__contains__(self, key)}
        self.clear()
        self.update(kept)
        self.regenerated = True
        self.new = True
        self.modified = True

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (stored as ``_permanent``)."""
        # dict.get: checking the flag (as save_session does) is not a read by the handler.
        return bool(dict.get(self, "_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)


class SecureCookieSession(SessionMixin):
    """A dict that records whether it was read (``accessed``) or changed (``modified``).

    Example:
        >>> from kettle.sessions import SecureCookieSession
        >>> s = SecureCookieSession({"user": "ada"})
        >>> s.modified, s.accessed
        (False, False)
        >>> s["user"]
        'ada'
        >>> s.accessed, s.modified
        (True, False)
        >>> s["theme"] = "dark"
        >>> s.modified
        True
    """

    modified = False
    accessed = False

    def _changed(self) -> None:
        self.modified = True
        self.accessed = True

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._changed()
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._changed()
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._changed()
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        self._changed()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._changed()
        super().update(*args, **kwargs)

    def __ior__(self, other: Any) -> SecureCookieSession:  # type: ignore[override,misc]
        self._changed()
        super().update(other)
        return self


_NO_SECRET = (
    "The session is unavailable because no secret key was set. Set SECRET_KEY in the "
    "app's config to a long random value (for example secrets.token_hex(32)), and keep "
    "it out of version control."
)


class NullSession(SecureCookieSession):
    """The session when none can be used (no ``SECRET_KEY``): empty, and read-only.

    Example:
        >>> from kettle.sessions import NullSession
        >>> s = NullSession()
        >>> s.get("user") is None
        True
        >>> s["user"] = "ada"
        Traceback (most recent call last):
        ...
        RuntimeError: The session is unavailable because no secret key was set...
    """

    def _changed(self) -> None:
        raise RuntimeError(_NO_SECRET)


class TaggedJSONSerializer:
    """JSON that round-trips what sessions commonly hold beyond JSON's own types.

    ``tuple``, ``bytes``, ``datetime``, ``date``, ``UUID`` and ``Markup`` come back as
    themselves. A tagged value is a one-key object whose key is a tag (``" t"``,
    ``" b"``...); a real one-key dict whose key looks like a tag is wrapped in ``" di"``
    so it cannot be mistaken for one.

    Example:
        >>> from datetime import datetime, UTC
        >>> from kettle.sessions import TaggedJSONSerializer
        >>> s = TaggedJSONSerializer()
        >>> value = {"pair": (1, b"\\x00"), "at": datetime(2024, 5, 1, tzinfo=UTC)}
        >>> s.loads(s.dumps(value)) == value
        True
        >>> s.dumps({" t": [1]})
        '{" di":{" t":[1]}}'
    """

    _TAGS: ClassVar[frozenset[str]] = frozenset({" t", " b", " d", " D", " u", " m", " di"})

    def dumps(self, value: Any) -> str:
        """Serialize ``value`` to compact JSON text."""
        return json.dumps(self.tag(value), separators=(",", ":"))

    def loads(self, data: str | bytes) -> Any:
        """Parse text made by :meth:`dumps` back into Python values."""
        return self.untag(json.loads(data))

    def tag(self, value: Any) -> Any:
        """``value`` as plain JSON data (tags added where needed)."""
        if value is None or isinstance(value, str | int | float):
            if isinstance(value, str) and hasattr(value, "__html__"):
                return {" m": str(value.__html__())}
            return value
        if isinstance(value, dict):
            tagged = {key: self.tag(item) for key, item in value.items()}
            if len(tagged) == 1 and next(iter(tagged)) in self._TAGS:
                return {" di": tagged}
            return tagged
        if isinstance(value, list):
            return [self.tag(item) for item in value]
        if isinstance(value, tuple):
            return {" t": [self.tag(item) for item in value]}
        if isinstance(value, bytes):
            return {" b": base64.b64encode(value).decode("ascii")}
        if isinstance(value, datetime):
            return {" d": value.isoformat()}
        if isinstance(value, date):
            return {" D": value.isoformat()}
        if isinstance(value, UUID):
            return {" u": value.hex}
        if hasattr(value, "__html__"):
            return {" m": str(value.__html__())}
        raise TypeError(f"Object of type {type(value).__name__} cannot be stored in a session")

    def untag(self, value: Any) -> Any:
        """Reverse :meth:`tag`."""
        if isinstance(value, list):
            return [self.untag(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, inner = next(iter(value.items()))
            if key in self._TAGS:
                return self._untag_one(key, inner)
        return {key: self.untag(item) for key, item in value.items()}

    def _untag_one(self, tag: str, inner: Any) -> Any:
        if tag == " di":
            if not isinstance(inner, dict):
                raise ValueError("malformed tagged dict")
            return {key: self.untag(item) for key, item in inner.items()}
        if tag == " t":
            if not isinstance(inner, list):
                raise ValueError("malformed tagged tuple")
            return tuple(self.untag(item) for item in inner)
        if not isinstance(inner, str):
            raise ValueError(f"malformed tagged value {tag!r}")
        if tag == " b":
            return base64.b64decode(inner, validate=True)
        if tag == " d":
            return datetime.fromisoformat(inner)
        if tag == " D":
            return date.fromisoformat(inner)
        if tag == " u":
            return UUID(hex=inner)
        return Markup(inner)


class SessionInterface:
    """How sessions are opened from a request and saved into a response.

    Subclass it for a server-side store: :meth:`open_session` returns a session object
    (a :class:`SessionMixin`, usually keyed by an id kept in the cookie) and
    :meth:`save_session` writes it back and sets the cookie. A store that does network
    I/O sets ``is_async = True`` and implements :meth:`open_session_async` and
    :meth:`save_session_async`; dispatch then loads the session before the handler
    instead of lazily on first use. The cookie settings come from the ``SESSION_COOKIE_*``
    config keys through the ``get_cookie_*`` methods.
    """

    #: The class :meth:`make_null_session` returns.
    null_session_class: ClassVar[type[SessionMixin]] = NullSession
    #: True: dispatch awaits the ``*_async`` methods (eager load) instead of lazy loading.
    is_async: ClassVar[bool] = False

    def make_null_session(self, app: SessionApp) -> SessionMixin:
        """The session used when :meth:`open_session` returns ``None``."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """True for the null session (it is never saved)."""
        return isinstance(obj, self.null_session_class)

    def is_configured(self, app: SessionApp) -> bool:
        """Whether sessions can hold anything for ``app`` (so a page may depend on one)."""
        return True

    def get_cookie_name(self, app: SessionApp) -> str:
        """``SESSION_COOKIE_NAME``."""
        return str(_setting(app, "SESSION_COOKIE_NAME"))

    def get_cookie_domain(self, app: SessionApp) -> str | None:
        """``SESSION_COOKIE_DOMAIN`` (``None``: host-only cookie, the safest)."""
        value = _setting(app, "SESSION_COOKIE_DOMAIN")
        return str(value) if value else None

    def get_cookie_path(self, app: SessionApp) -> str:
        """``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``, else ``/``."""
        return str(_setting(app, "SESSION_COOKIE_PATH") or _setting(app, "APPLICATION_ROOT") or "/")

    def get_cookie_httponly(self, app: SessionApp) -> bool:
        """``SESSION_COOKIE_HTTPONLY``."""
        return bool(_setting(app, "SESSION_COOKIE_HTTPONLY"))

    def get_cookie_secure(self, app: SessionApp) -> bool | None:
        """``SESSION_COOKIE_SECURE``; ``None`` means Secure exactly when served over HTTPS."""
        value = _setting(app, "SESSION_COOKIE_SECURE")
        return None if value is None else bool(value)

    def get_cookie_samesite(self, app: SessionApp) -> SameSite | None:
        """``SESSION_COOKIE_SAMESITE``: ``"Lax"``, ``"Strict"``, ``"None"`` or ``None``."""
        value = _setting(app, "SESSION_COOKIE_SAMESITE")
        if value is None:
            return None
        samesite = _SAMESITE.get(str(value).lower())
        if samesite is None:
            raise ValueError(
                f"SESSION_COOKIE_SAMESITE must be 'Lax', 'Strict', 'None' or None, not {value!r}"
            )
        return samesite  # type: ignore[return-value]

    def get_cookie_partitioned(self, app: SessionApp) -> bool:
        """``SESSION_COOKIE_PARTITIONED`` (CHIPS)."""
        return bool(_setting(app, "SESSION_COOKIE_PARTITIONED"))

    def get_expiration_time(self, app: SessionApp, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now + lifetime for permanent sessions, else ``None``."""
        if session.permanent:
            return datetime.now(UTC) + lifetime(app)
        return None

    def refreshes_each_request(self, app: SessionApp) -> bool:
        """Whether a permanent session's cookie is renewed on every request that carries
        it, touched or not (``SESSION_REFRESH_EACH_REQUEST`` and sessions configured).

        Decided when the app compiles: dispatch then opens the session of requests that
        carry cookies even when the handler does not read it.
        """
        return bool(_setting(app, "SESSION_REFRESH_EACH_REQUEST")) and self.is_configured(app)

    def should_set_cookie(self, app: SessionApp, session: SessionMixin) -> bool:
        """Send the cookie if the session changed, or to renew a permanent one's expiry."""
        return session.modified or (
            session.permanent and bool(_setting(app, "SESSION_REFRESH_EACH_REQUEST"))
        )

    def open_session(self, app: SessionApp, request: HTTPConnection) -> SessionMixin | None:
        """Load the session for ``request``; ``None`` makes it a null session."""
        raise NotImplementedError

    def save_session(self, app: SessionApp, session: SessionMixin, response: Response) -> None:
        """Write ``session`` and set (or delete) its cookie on ``response``."""
        raise NotImplementedError

    async def open_session_async(
        self, app: SessionApp, request: HTTPConnection
    ) -> SessionMixin | None:
        """:meth:`open_session` for stores that await I/O (used when ``is_async``)."""
        return self.open_session(app, request)

    async def save_session_async(
        self, app: SessionApp, session: SessionMixin, response: Response
    ) -> None:
        """:meth:`save_session` for stores that await I/O."""
        self.save_session(app, session, response)


class SecureCookieSessionInterface(SessionInterface):
    """The default: the whole session in a signed cookie.

    Example:
        >>> from kettle.config import Config, DEFAULT_CONFIG
        >>> from kettle.requests import Request
        >>> from kettle.responses import Response
        >>> from kettle.sessions import SecureCookieSessionInterface
        >>> class App:
        ...     config = Config(".", DEFAULT_CONFIG)
        >>> app = App()
        >>> app.config["SECRET_KEY"] = "dev only"
        >>> interface = SecureCookieSessionInterface()
        >>> session = interface.open_session(app, Request({"type": "http", "headers": []}))
        >>> session["user"] = "ada"
        >>> response = Response("ok")
        >>> interface.save_session(app, session, response)
        >>> cookie = response.headers["set-cookie"]
        >>> cookie.startswith("session="), "HttpOnly" in cookie, "SameSite=Lax" in cookie
        (True, True, True)
        >>> response.headers["vary"]
        'Cookie'
    """

    salt: ClassVar[str] = "cookie-session"
    #: The HMAC digest (Flask uses SHA-1; SHA-256 costs the same here and ages better).
    digest_method: ClassVar[Any] = staticmethod(hashlib.sha256)
    key_derivation: ClassVar[str] = "hmac"
    serializer: ClassVar[TaggedJSONSerializer] = TaggedJSONSerializer()
    session_class: ClassVar[type[SecureCookieSession]] = SecureCookieSession

    def __init__(self) -> None:
        # (keys, serializer): rebuilt only when SECRET_KEY or the fallbacks change.
        self._signer: tuple[tuple[str | bytes, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: SessionApp) -> URLSafeTimedSerializer | None:
        """The serializer signing with ``SECRET_KEY`` and verifying with the fallbacks too.

        ``None`` when no ``SECRET_KEY`` is set.
        """
        secret = _setting(app, "SECRET_KEY")
        if not secret:
            return None
        fallbacks: Iterable[str | bytes] = _setting(app, "SECRET_KEY_FALLBACKS") or ()
        # itsdangerous signs with the last key and tries them newest first: the current
        # key goes last, the fallbacks (listed newest first) before it, reversed.
        keys = (*reversed(list(fallbacks)), secret)
        cached = self._signer
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._signer = (keys, serializer)
        return serializer

    def is_configured(self, app: SessionApp) -> bool:
        """True once a ``SECRET_KEY`` is set: without one every session is empty."""
        return bool(_setting(app, "SECRET_KEY"))

    def _new_session(self) -> SecureCookieSession:
        session = self.session_class()
        session.new = True
        return session

    def open_session(self, app: SessionApp, request: HTTPConnection) -> SecureCookieSession | None:
        """The session in the request's cookie, or a new one if it is absent or invalid."""
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or len(value) > _MAX_COOKIE_VALUE:
            return self._new_session()
        # Every cookie expires after the lifetime, permanent or not: a stolen browser-
        # session cookie must not stay valid forever.
        max_age = int(lifetime(app).total_seconds())
        try:
            data = signer.loads(value, max_age=max_age)
        except (BadData, ValueError):
            # Tampered, expired, signed with an unknown key, or not ours at all.
            return self._new_session()
        if not isinstance(data, dict):
            return self._new_session()
        return self.session_class(data)

    def save_session(self, app: SessionApp, session: SessionMixin, response: Response) -> None:
        """Set, refresh or delete the cookie, and add ``Vary: Cookie`` when it was read."""
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        partitioned = self.get_cookie_partitioned(app)
        headers = response.headers
        if session.accessed:
            headers.add_vary("Cookie")
        if not session:
            if session.modified:
                # Emptied in this request (logout): remove the cookie from the browser, with
                # the attributes it was set with (a partitioned cookie is only replaced by a
                # partitioned one).
                response.set_cookie(
                    name,
                    "",
                    max_age=0,
                    expires=0,
                    path=path,
                    domain=domain,
                    secure=secure,
                    httponly=httponly,
                    samesite=samesite,
                    partitioned=partitioned,
                )
                response.headers.add_vary("Cookie")
            return
        if not self.should_set_cookie(app, session):
            return
        signer = self.get_signing_serializer(app)
        if signer is None:  # pragma: no cover - open_session gave a null session instead
            return
        value = signer.dumps(dict(session))
        limit = _setting(app, "MAX_COOKIE_SIZE")
        if limit and len(name) + len(value) + 1 > limit:
            logger.warning(
                "The session cookie is %d bytes, over MAX_COOKIE_SIZE (%d): browsers may "
                "drop it. Store less in the session, or use a server-side session store.",
                len(name) + len(value) + 1,
                limit,
            )
        expires = self.get_expiration_time(app, session)
        response.set_cookie(
            name,
            value,
            max_age=None if expires is None else int(lifetime(app).total_seconds()),
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        response.headers.add_vary("Cookie")


def _setting(app: SessionApp, key: str) -> Any:
    config = app.config
    return config[key] if key in config else DEFAULT_CONFIG.get(key)


def lifetime(app: SessionApp) -> timedelta:
    """``PERMANENT_SESSION_LIFETIME`` as a ``timedelta`` (seconds are accepted too)."""
    return as_timedelta(_setting(app, "PERMANENT_SESSION_LIFETIME"))
