"""Authentication and authorization: FastAPI's security schemes, tokens, passwords.

Each scheme is a dependency that reads credentials from the request (or WebSocket
handshake), raises a 401 with the right ``WWW-Authenticate`` when they are missing, and
adds itself to the OpenAPI document so Swagger UI's "Authorize" button works.

Example:
    >>> from kettle import Kettle
    >>> from kettle.security import OAuth2PasswordBearer, Security, SecurityScopes
    >>> oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "Read items"})
    >>> def current_user(scopes: SecurityScopes, token: str = Security(oauth2)) -> str:
    ...     return token
    >>> app = Kettle(__name__)
    >>> @app.get("/items")
    ... async def items(user: str = Security(current_user, scopes=["items"])) -> str:
    ...     return user
"""

from kettle.params import Security, SecurityScopes
from kettle.security.api_key import APIKeyBase, APIKeyCookie, APIKeyHeader, APIKeyQuery
from kettle.security.base import (
    SecurityBase,
    compare_digest,
    get_authorization_scheme_param,
)
from kettle.security.http import (
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
)
from kettle.security.oauth2 import (
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
)
from kettle.security.open_id_connect import OpenIdConnect

__all__ = [
    "APIKeyBase",
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "OpenIdConnect",
    "Security",
    "SecurityBase",
    "SecurityScopes",
    "compare_digest",
    "get_authorization_scheme_param",
]
