"""API keys in a header, a cookie or (only when asked for) the query string.

The dependant gets the key as a ``str`` and checks it (with
:func:`kettle.security.compare_digest`). A missing or empty key is a 401 with
``WWW-Authenticate: APIKey``, or ``None`` with ``auto_error=False``.
"""

from __future__ import annotations

from kettle.requests import HTTPConnection
from kettle.security.base import INVALID_CREDENTIALS, SecurityBase, challenge

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase):
    """An API key read from one place (``location``: ``"query"``, ``"header"`` or
    ``"cookie"``) under one ``name``.

    Example:
        >>> APIKeyHeader(name="X-API-Key").model
        {'type': 'apiKey', 'in': 'header', 'name': 'X-API-Key'}
    """

    location = ""
    _challenge = "APIKey"

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if self.location == "query":
            self.name = self._text("name", name)
        else:
            # A header or cookie name with a space or a ":" could never be sent.
            self.name = self._http_token("name", name)
        self._describe(
            {"type": "apiKey", "in": self.location, "name": name},
            scheme_name,
            description,
            auto_error,
        )

    def _read(self, request: HTTPConnection) -> str | None:
        raise NotImplementedError

    async def __call__(self, request: HTTPConnection) -> str | None:
        key = self._read(request)
        if not key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return key


class APIKeyQuery(APIKeyBase):
    """An API key in the query string (``?api_key=...``).

    Prefer a header: URLs are kept in access logs, browser history and ``Referer``.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/feed")
        ... async def feed(key: str = Depends(APIKeyQuery(name="api_key"))) -> str:
        ...     return key
        >>> TestClient(app).get("/feed?api_key=k1").text
        'k1'
    """

    location = "query"

    def _read(self, request: HTTPConnection) -> str | None:
        return request.query_params.get(self.name)


class APIKeyHeader(APIKeyBase):
    """An API key in a request header (``X-API-Key: ...``).

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/stock")
        ... async def stock(key: str = Depends(APIKeyHeader(name="X-API-Key"))) -> str:
        ...     return key
        >>> TestClient(app).get("/stock", headers={"X-API-Key": "k1"}).text
        'k1'
    """

    location = "header"

    def _read(self, request: HTTPConnection) -> str | None:
        raw = self.name.lower().encode("latin-1")
        found = [value for name, value in request.scope["headers"] if name == raw]
        if len(found) > 1:
            # Which one would a proxy in front have checked? Refused, as for Authorization.
            raise challenge("APIKey", INVALID_CREDENTIALS)
        return found[0].decode("latin-1").strip() if found else None


class APIKeyCookie(APIKeyBase):
    """An API key in a cookie.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/cart")
        ... async def cart(key: str = Depends(APIKeyCookie(name="key"))) -> str:
        ...     return key
        >>> TestClient(app, cookies={"key": "k1"}).get("/cart").text
        'k1'
    """

    location = "cookie"

    def _read(self, request: HTTPConnection) -> str | None:
        return request.cookies.get(self.name)
