"""What every security scheme shares: its OpenAPI entry, the 401 it raises, and the
helpers for reading an ``Authorization`` header and comparing secrets.

A scheme is a callable instance used as a dependency (``Depends(scheme)`` or
``Security(scheme, scopes=[...])``). It takes the connection kettle passes to
dependencies, so the same instance guards HTTP routes and WebSocket routes alike.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from kettle.exceptions import ConfigurationError, HTTPException
from kettle.openapi.models import SecurityScheme
from kettle.requests import HTTPConnection

#: Longest ``Authorization`` value a scheme reads (431 past it). Real bearer tokens and
#: Basic credentials are far shorter; the bound keeps base64 decoding and token parsing
#: cheap whatever server sits in front.
MAX_AUTHORIZATION_LENGTH = 8192

#: RFC 6750's ``b64token``: what a bearer token may contain.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

#: RFC 9110's ``token``: what a header name or an authentication scheme may be.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Invalid authentication credentials"


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """Split an ``Authorization`` value into its scheme and its credentials.

    Whitespace around either part is dropped; a missing part is ``""``.

    Example:
        >>> get_authorization_scheme_param("Bearer  abc.def ")
        ('Bearer', 'abc.def')
        >>> get_authorization_scheme_param(None)
        ('', '')
    """
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.strip().partition(" ")
    return scheme, param.strip()


def compare_digest(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets in constant time (for passwords, API keys, tokens).

    Unlike ``secrets.compare_digest``, text with non-ASCII characters is accepted (it is
    compared as UTF-8): a client sending ``é`` gets a failed comparison, not a
    ``TypeError`` and a 500.

    Example:
        >>> compare_digest("s3cret", "s3cret"), compare_digest("s3cret", "guess")
        (True, False)
        >>> compare_digest("pässword", b"password")
        False
    """
    left = a.encode("utf-8", "surrogatepass") if isinstance(a, str) else bytes(a)
    right = b.encode("utf-8", "surrogatepass") if isinstance(b, str) else bytes(b)
    return hmac.compare_digest(left, right)


def is_b64token(value: str) -> bool:
    """Whether ``value`` is a syntactically valid bearer token (RFC 6750, section 2.1).

    Example:
        >>> is_b64token("eyJhbGciOi.eyJzdWIi.sig"), is_b64token("a b"), is_b64token("ünï")
        (True, False, False)
    """
    return _B64TOKEN.fullmatch(value) is not None


class SecurityBase:
    """Base of the security schemes: the OpenAPI entry and the name it is listed under.

    Attributes:
        scheme_name: the key in ``components.securitySchemes`` (the class name unless
            given).
        model: the Security Scheme Object written into the OpenAPI document.
        auto_error: without credentials, raise a 401 (``True``) or give the dependant
            ``None`` (``False``: the route decides, for optional authentication).
    """

    scheme_name: str
    model: Mapping[str, Any]
    auto_error: bool
    # What the 401's ``WWW-Authenticate`` names; each scheme sets its own.
    _challenge: str = "Bearer"

    def make_not_authenticated_error(self) -> HTTPException:
        """The error raised when a request brings no credentials (and ``auto_error`` is on).

        A 401 naming the scheme in ``WWW-Authenticate``, as RFC 9110 asks. Override it to
        answer otherwise, e.g. the 403 older FastAPI versions sent.

        Example:
            >>> class Bearer403(SecurityBase):
            ...     def make_not_authenticated_error(self) -> HTTPException:
            ...         return HTTPException(403, "Not authenticated")
            >>> Bearer403().make_not_authenticated_error().status_code
            403
            >>> SecurityBase().make_not_authenticated_error().headers
            {'WWW-Authenticate': 'Bearer'}
        """
        return challenge(self._challenge)

    def _describe(
        self,
        model: dict[str, Any],
        scheme_name: str | None,
        description: str | None,
        auto_error: bool,
    ) -> None:
        if scheme_name is not None and (not isinstance(scheme_name, str) or not scheme_name):
            self._refuse(f"scheme_name must be a non-empty string, not {scheme_name!r}")
        if description is not None and not isinstance(description, str):
            self._refuse(f"description must be a string, not {description!r}")
        if not isinstance(auto_error, bool):
            self._refuse(f"auto_error must be True or False, not {auto_error!r}")
        if description:
            model["description"] = description
        self.model = model
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def _refuse(self, message: str) -> NoReturn:
        raise ConfigurationError(f"{type(self).__name__}: {message}")

    def _text(self, name: str, value: object) -> str:
        """``value`` if it is a non-empty string (a URL, a key's name), else refused."""
        if not isinstance(value, str) or not value.strip():
            self._refuse(f"{name} must be a non-empty string, not {value!r}")
        return value

    def _http_token(self, name: str, value: object) -> str:
        """``value`` if it can be a header name or an auth scheme (RFC 9110), else refused."""
        if not isinstance(value, str) or _HTTP_TOKEN.fullmatch(value) is None:
            self._refuse(
                f"{name} must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~), not {value!r}"
            )
        return value

    @property
    def openapi_security(self) -> SecurityScheme:
        """What this scheme adds to the OpenAPI document (read by the document builder)."""
        return SecurityScheme(self.scheme_name, self.model, optional=not self.auto_error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"


def challenge(
    www_authenticate: str, detail: str = NOT_AUTHENTICATED, status_code: int = 401
) -> HTTPException:
    """The error a scheme raises: a 401 whose ``WWW-Authenticate`` names the scheme.

    Example:
        >>> exc = challenge("Bearer")
        >>> exc.status_code, exc.detail, exc.headers
        (401, 'Not authenticated', {'WWW-Authenticate': 'Bearer'})
    """
    return HTTPException(status_code, detail, headers={"WWW-Authenticate": www_authenticate})


def read_authorization(conn: HTTPConnection, www_authenticate: str) -> str | None:
    """The connection's one ``Authorization`` value, or ``None`` when there is none.

    Two ``Authorization`` headers (a proxy and the app could each pick another) and
    values past :data:`MAX_AUTHORIZATION_LENGTH` are refused whatever ``auto_error``
    says: they are not missing credentials but a broken request.
    """
    raw = [value for name, value in conn.scope["headers"] if name == b"authorization"]
    if not raw:
        return None
    if len(raw) > 1:
        raise challenge(www_authenticate, INVALID_CREDENTIALS)
    value = raw[0]
    if len(value) > MAX_AUTHORIZATION_LENGTH:
        raise HTTPException(431, "Authorization header too large")
    return value.decode("latin-1").strip() or None
