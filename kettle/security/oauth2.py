"""OAuth2: the bearer-token schemes, the password-flow login form, and scopes.

``OAuth2PasswordBearer`` reads ``Authorization: Bearer <token>`` and hands the token to
the dependant, which decodes it and checks ``SecurityScopes``; the OpenAPI document gets
the flow, so Swagger UI's "Authorize" button logs in against ``tokenUrl``. A token is
read from the header only, never from the query string (``?access_token=`` would end up
in access logs, browser history and ``Referer`` headers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from kettle.params import Form, Security, SecurityScopes
from kettle.requests import HTTPConnection
from kettle.security.base import (
    INVALID_CREDENTIALS,
    SecurityBase,
    challenge,
    get_authorization_scheme_param,
    is_b64token,
    read_authorization,
)

__all__ = [
    "OAuth2",
    "OAuth2AuthorizationCodeBearer",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "Security",
    "SecurityScopes",
]

_SECRET = {"format": "password"}


class OAuth2PasswordRequestForm:
    """The form of OAuth2's password flow (RFC 6749, section 4.3), as a dependency.

    ``username`` and ``password`` are required; ``scope`` is a space-separated string,
    also available split as ``scopes``. ``grant_type`` may be left out (Swagger UI and
    most clients send ``password``); use :class:`OAuth2PasswordRequestFormStrict` to
    require it.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.post("/token")
        ... async def token(form: OAuth2PasswordRequestForm = Depends()) -> dict[str, object]:
        ...     return {"user": form.username, "scopes": form.scopes}
        >>> TestClient(app).post(
        ...     "/token", data={"username": "ada", "password": "pw", "scope": "me items"}
        ... ).json()
        {'user': 'ada', 'scopes': ['me', 'items']}
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra=_SECRET)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra=_SECRET)] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret

    def __repr__(self) -> str:
        # Never the password or the client secret: a repr ends up in logs.
        return f"{type(self).__name__}(username={self.username!r}, scopes={self.scopes!r})"


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """:class:`OAuth2PasswordRequestForm` with ``grant_type=password`` required, as the
    RFC says (a form without it is a 422).

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.post("/token")
        ... async def token(form: OAuth2PasswordRequestFormStrict = Depends()) -> str:
        ...     return form.username
        >>> client = TestClient(app)
        >>> client.post("/token", data={"username": "ada", "password": "pw"}).status_code
        422
        >>> client.post(
        ...     "/token", data={"grant_type": "password", "username": "ada", "password": "pw"}
        ... ).status_code
        200
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra=_SECRET)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra=_SECRET)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class OAuth2(SecurityBase):
    """OAuth2 with any set of flows: gives the dependant the whole ``Authorization`` value.

    ``flows`` is the OpenAPI OAuth Flows Object (``{"password": {"tokenUrl": ...,
    "scopes": {...}}}``). Without an ``Authorization`` header the answer is a 401 with
    ``WWW-Authenticate: Bearer`` (``auto_error=False``: the dependant gets ``None``).

    Example:
        >>> scheme = OAuth2(flows={"clientCredentials": {"tokenUrl": "/token", "scopes": {}}})
        >>> scheme.model["type"], scheme.scheme_name
        ('oauth2', 'OAuth2')
    """

    def __init__(
        self,
        *,
        flows: Mapping[str, Mapping[str, Any]] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self._describe(
            {"type": "oauth2", "flows": self._flows(flows or {})},
            scheme_name,
            description,
            auto_error,
        )

    def _flows(self, flows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The OAuth Flows Object, checked now rather than found broken in Swagger UI."""
        if not isinstance(flows, Mapping):
            self._refuse(f"flows must map flow names to flow objects, not {flows!r}")
        checked = {}
        for name, flow in flows.items():
            urls = _FLOW_URLS.get(name)
            if urls is None:
                self._refuse(f"unknown OAuth2 flow {name!r} (one of {', '.join(_FLOW_URLS)})")
            if not isinstance(flow, Mapping):
                self._refuse(f"the {name!r} flow must be a mapping, not {flow!r}")
            for url in urls:
                self._text(f"the {name!r} flow's {url}", flow.get(url))
            scopes = flow.get("scopes", {})
            if not isinstance(scopes, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in scopes.items()
            ):
                self._refuse(
                    "scopes must map each scope to its description "
                    f'({{"items:read": "Read items"}}), not {scopes!r}'
                )
            checked[name] = {**flow, "scopes": dict(scopes)}
        return checked

    async def __call__(self, request: HTTPConnection) -> str | None:
        authorization = read_authorization(request, "Bearer")
        if authorization is None:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization

    def _token(self, request: HTTPConnection) -> str | None:
        """The bearer token of ``Authorization: Bearer <token>`` (401 for anything else)."""
        scheme, token = get_authorization_scheme_param(read_authorization(request, "Bearer"))
        if not scheme:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        if scheme.lower() != "bearer" or not token:
            # Another scheme is no bearer token at all (FastAPI's answer, too).
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        if not is_b64token(token):
            if self.auto_error:
                raise challenge("Bearer", INVALID_CREDENTIALS)
            return None
        return token


#: The URLs each OAuth2 flow requires (OpenAPI's OAuth Flow Object).
_FLOW_URLS = {
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
    "clientCredentials": ("tokenUrl",),
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
}


def _flow(
    token_url: str | None,
    scopes: Mapping[str, str] | None,
    refresh_url: str | None,
    authorization_url: str | None = None,
) -> dict[str, Any]:
    flow: dict[str, Any] = {}
    if authorization_url is not None:
        flow["authorizationUrl"] = authorization_url
    if token_url is not None:
        flow["tokenUrl"] = token_url
    if refresh_url is not None:
        flow["refreshUrl"] = refresh_url
    flow["scopes"] = scopes if scopes is not None else {}  # checked by OAuth2._flows
    return flow


class OAuth2PasswordBearer(OAuth2):
    """OAuth2's password flow: the dependant gets the bearer token (a ``str``).

    ``tokenUrl`` is where clients (and Swagger UI's "Authorize") post the
    :class:`OAuth2PasswordRequestForm`; ``scopes`` maps each scope to its description,
    shown in the Authorize dialog. A missing header, another scheme than ``Bearer`` or a
    token that is not RFC 6750 syntax is a 401 with ``WWW-Authenticate: Bearer``.

    Example:
        >>> from kettle import Depends, Kettle
        >>> from kettle.testing import TestClient
        >>> oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read yourself"})
        >>> app = Kettle(__name__)
        >>> @app.get("/me")
        ... async def me(token: str = Depends(oauth2)) -> dict[str, str]:
        ...     return {"token": token}
        >>> client = TestClient(app)
        >>> client.get("/me", headers={"Authorization": "Bearer abc"}).json()
        {'token': 'abc'}
        >>> missing = client.get("/me")
        >>> missing.status_code, missing.headers["www-authenticate"]
        (401, 'Bearer')
    """

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        super().__init__(
            flows={"password": _flow(tokenUrl, scopes, refreshUrl)},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._token(request)


class OAuth2AuthorizationCodeBearer(OAuth2):
    """OAuth2's authorization-code flow: the dependant gets the bearer token (a ``str``).

    Example:
        >>> scheme = OAuth2AuthorizationCodeBearer(
        ...     authorizationUrl="https://id.example.com/authorize",
        ...     tokenUrl="https://id.example.com/token",
        ...     scopes={"openid": "Sign in"},
        ... )
        >>> scheme.model["flows"]["authorizationCode"]["authorizationUrl"]
        'https://id.example.com/authorize'
    """

    def __init__(
        self,
        authorizationUrl: str,  # FastAPI's camelCase name
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            flows={
                "authorizationCode": _flow(tokenUrl, scopes, refreshUrl, authorizationUrl),
            },
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return self._token(request)
