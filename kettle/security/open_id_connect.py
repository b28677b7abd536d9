"""OpenID Connect discovery: the document names the provider, the dependant gets the
``Authorization`` value and verifies the token with that provider's keys."""

from __future__ import annotations

from kettle.requests import HTTPConnection
from kettle.security.base import SecurityBase, read_authorization

__all__ = ["OpenIdConnect"]


class OpenIdConnect(SecurityBase):
    """OpenID Connect (``openIdConnectUrl``: the provider's discovery document).

    The dependant gets the whole ``Authorization`` value (``"Bearer <token>"``); without
    one the answer is a 401 with ``WWW-Authenticate: Bearer``.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> oidc = OpenIdConnect(
        ...     openIdConnectUrl="https://id.example.com/.well-known/openid-configuration"
        ... )
        >>> app = Kettle(__name__)
        >>> @app.get("/me")
        ... async def me(authorization: str = Depends(oidc)) -> str:
        ...     return authorization
        >>> TestClient(app).get("/me", headers={"Authorization": "Bearer t"}).text
        'Bearer t'
    """

    def __init__(
        self,
        *,
        openIdConnectUrl: str,  # FastAPI's camelCase name
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        url = self._text("openIdConnectUrl", openIdConnectUrl)
        self._describe(
            {"type": "openIdConnect", "openIdConnectUrl": url}, scheme_name, description, auto_error
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = read_authorization(request, "Bearer")
        if authorization is None:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization
