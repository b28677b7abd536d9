"""HTTP authentication schemes (RFC 7235): Basic, Bearer, Digest, or any other scheme.

Each reads the ``Authorization`` header and hands the dependant the parsed credentials;
checking them is the dependant's job (compare secrets with
:func:`kettle.security.compare_digest`). A request without credentials gets a 401 whose
``WWW-Authenticate`` names the scheme, so a browser or client knows how to authenticate.
"""

from __future__ import annotations

import binascii
import dataclasses
from base64 import b64decode

from kettle.requests import HTTPConnection
from kettle.security.base import (
    INVALID_CREDENTIALS,
    NOT_AUTHENTICATED,
    SecurityBase,
    challenge,
    get_authorization_scheme_param,
    is_b64token,
    read_authorization,
)

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """The user name and password of ``Authorization: Basic ...``.

    Example:
        >>> HTTPBasicCredentials(username="ada", password="s3cret")
        HTTPBasicCredentials(username='ada', password='***')
    """

    username: str
    # A repr ends up in logs and tracebacks: it never shows the password.
    password: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        return f"HTTPBasicCredentials(username={self.username!r}, password='***')"


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """The scheme and credentials of an ``Authorization`` header (``Bearer <token>``).

    Example:
        >>> HTTPAuthorizationCredentials(scheme="Bearer", credentials="abc")
        HTTPAuthorizationCredentials(scheme='Bearer', credentials='***')
    """

    scheme: str
    credentials: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:
        return f"HTTPAuthorizationCredentials(scheme={self.scheme!r}, credentials='***')"


class HTTPBase(SecurityBase):
    """Any HTTP authentication scheme: the dependant gets its
    :class:`HTTPAuthorizationCredentials` (a missing header is a 401, or ``None`` with
    ``auto_error=False``).

    Example:
        >>> scheme = HTTPBase(scheme="negotiate")
        >>> scheme.model
        {'type': 'http', 'scheme': 'negotiate'}
    """

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.scheme = self._http_token("scheme", scheme)
        self._describe({"type": "http", "scheme": scheme}, scheme_name, description, auto_error)
        self._challenge = scheme.capitalize()

    def _fail(self, detail: str) -> None:
        if self.auto_error:
            if detail == NOT_AUTHENTICATED:
                raise self.make_not_authenticated_error()
            raise challenge(self._challenge, detail)

    def _credentials(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        scheme, credentials = get_authorization_scheme_param(
            read_authorization(request, self._challenge)
        )
        if not (scheme and credentials):
            self._fail(NOT_AUTHENTICATED)
            return None
        return HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials)

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        found = self._credentials(request)
        if found is not None and found.scheme.lower() != self.scheme.lower():
            # Credentials of another scheme are none of this one's (FastAPI says the same).
            self._fail(NOT_AUTHENTICATED)
            return None
        return found


class HTTPBasic(HTTPBase):
    """HTTP Basic authentication (RFC 7617): the dependant gets
    :class:`HTTPBasicCredentials`.

    The 401 says ``WWW-Authenticate: Basic``, or ``Basic realm="<realm>",
    charset="UTF-8"`` when a realm is given (the browser shows it when it asks for a
    user name and password, and sends them as UTF-8). Credentials
    that are not base64, not UTF-8 or have no ``:`` are a 401 too, never a 500.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> basic = HTTPBasic(realm="admin")
        >>> app = Kettle(__name__)
        >>> @app.get("/who")
        ... async def who(credentials: HTTPBasicCredentials = Depends(basic)) -> str:
        ...     return credentials.username
        >>> client = TestClient(app)
        >>> client.get("/who", auth=("ada", "pw")).text
        'ada'
        >>> client.get("/who").headers["www-authenticate"]
        'Basic realm="admin", charset="UTF-8"'
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        if realm is not None and (
            not isinstance(realm, str) or not realm.isprintable() or not realm.isascii()
        ):
            # It goes into a header: a CR/LF would be header injection, non-ASCII mojibake.
            self._refuse(f"realm must be printable ASCII text, not {realm!r}")
        self.realm = realm
        if realm is None:
            # As FastAPI: no realm, no parameters (browsers ask all the same).
            self._challenge = "Basic"
        else:
            quoted = realm.replace("\\", "\\\\").replace('"', '\\"')  # escaped for the header
            self._challenge = f'Basic realm="{quoted}", charset="UTF-8"'

    async def __call__(  # type: ignore[override]
        self, request: HTTPConnection
    ) -> HTTPBasicCredentials | None:
        # Another scheme, malformed base64, no ":": no Basic credentials at all, as
        # FastAPI says ("Not authenticated"); the secret itself is never echoed.
        found = self._credentials(request)
        if found is None:
            return None
        if found.scheme.lower() != "basic":
            self._fail(NOT_AUTHENTICATED)
            return None
        try:
            decoded = b64decode(found.credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            self._fail(NOT_AUTHENTICATED)
            return None
        username, colon, password = decoded.partition(":")
        if not colon:
            self._fail(NOT_AUTHENTICATED)
            return None
        return HTTPBasicCredentials(username=username, password=password)


class HTTPBearer(HTTPBase):
    """A bearer token (RFC 6750) in the ``Authorization`` header: the dependant gets
    :class:`HTTPAuthorizationCredentials` whose ``credentials`` is the token.

    ``bearerFormat`` documents the token's format (``"JWT"``). A token that is not RFC
    6750 syntax (spaces, non-ASCII) is a 401; the query string is never read.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> bearer = HTTPBearer(bearerFormat="JWT")
        >>> app = Kettle(__name__)
        >>> @app.get("/token")
        ... async def token(auth: HTTPAuthorizationCredentials = Depends(bearer)) -> str:
        ...     return auth.credentials
        >>> TestClient(app).get("/token", headers={"Authorization": "Bearer abc"}).text
        'abc'
    """

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,  # FastAPI's camelCase name
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="bearer", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        if bearerFormat:
            self.model = {**self.model, "bearerFormat": bearerFormat}
        self._challenge = "Bearer"

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        found = self._credentials(request)
        if found is None:
            return None
        if found.scheme.lower() != "bearer":
            self._fail(NOT_AUTHENTICATED)
            return None
        if not is_b64token(found.credentials):
            self._fail(INVALID_CREDENTIALS)
            return None
        return found


class HTTPDigest(HTTPBase):
    """HTTP Digest authentication (RFC 7616): the dependant gets the raw
    :class:`HTTPAuthorizationCredentials` and verifies the digest itself.

    Example:
        >>> HTTPDigest().model
        {'type': 'http', 'scheme': 'digest'}
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
