"""What each security scheme adds to the OpenAPI document: its ``securitySchemes`` entry
and each operation's ``security`` requirement, with the scopes of the ``Security`` chain."""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Depends, Kettle, Router, Security, SecurityScopes
from kettle.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBase,
    HTTPBasic,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OpenIdConnect,
    SecurityBase,
)
from kettle.testing import TestClient

CASES: list[tuple[SecurityBase, str, dict[str, Any]]] = [
    (
        OAuth2PasswordBearer(
            tokenUrl="/token",
            scopes={"me": "Read you"},
            refreshUrl="/refresh",
            description="Log in",
        ),
        "OAuth2PasswordBearer",
        {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "/token",
                    "refreshUrl": "/refresh",
                    "scopes": {"me": "Read you"},
                }
            },
            "description": "Log in",
        },
    ),
    (
        OAuth2AuthorizationCodeBearer(
            authorizationUrl="https://id.example/authorize",
            tokenUrl="https://id.example/token",
            scopes={"openid": "Sign in"},
            scheme_name="idp",
        ),
        "idp",
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "https://id.example/authorize",
                    "tokenUrl": "https://id.example/token",
                    "scopes": {"openid": "Sign in"},
                }
            },
        },
    ),
    (
        OAuth2(flows={"clientCredentials": {"tokenUrl": "/t", "scopes": {}}}),
        "OAuth2",
        {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {}}}},
    ),
    (HTTPBasic(), "HTTPBasic", {"type": "http", "scheme": "basic"}),
    (
        HTTPBearer(bearerFormat="JWT", description="A JWT"),
        "HTTPBearer",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A JWT"},
    ),
    (HTTPDigest(scheme_name="digest"), "digest", {"type": "http", "scheme": "digest"}),
    (HTTPBase(scheme="negotiate"), "HTTPBase", {"type": "http", "scheme": "negotiate"}),
    (
        APIKeyHeader(name="X-API-Key"),
        "APIKeyHeader",
        {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    ),
    (
        APIKeyQuery(name="api_key", description="k"),
        "APIKeyQuery",
        {"type": "apiKey", "in": "query", "name": "api_key", "description": "k"},
    ),
    (APIKeyCookie(name="key"), "APIKeyCookie", {"type": "apiKey", "in": "cookie", "name": "key"}),
    (
        OpenIdConnect(openIdConnectUrl="https://id.example/.well-known/openid-configuration"),
        "OpenIdConnect",
        {
            "type": "openIdConnect",
            "openIdConnectUrl": "https://id.example/.well-known/openid-configuration",
        },
    ),
]


def _document(app: Kettle) -> dict[str, Any]:
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("scheme", "name", "entry"), CASES, ids=[c[1] for c in CASES])
def test_each_scheme_documents_itself(
    scheme: SecurityBase, name: str, entry: dict[str, Any]
) -> None:
    app = Kettle(__name__)

    @app.get("/guarded")
    async def guarded(value: Any = Depends(scheme)) -> None:
        return None

    @app.get("/open")
    async def open_route() -> None:
        return None

    doc = _document(app)
    assert doc["components"]["securitySchemes"] == {name: entry}
    assert doc["paths"]["/guarded"]["get"]["security"] == [{name: []}]
    assert "security" not in doc["paths"]["/open"]["get"]
    # The dependency is not an input: no parameter leaks out of the scheme's __call__.
    assert "parameters" not in doc["paths"]["/guarded"]["get"]


def test_optional_schemes_also_accept_no_security() -> None:
    app = Kettle(__name__)
    scheme = HTTPBearer(auto_error=False)

    @app.get("/maybe")
    async def maybe(value: Any = Depends(scheme)) -> None:
        return None

    assert _document(app)["paths"]["/maybe"]["get"]["security"] == [{"HTTPBearer": []}, {}]


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "", "items": "", "admin": ""})


def _user(scopes: SecurityScopes, token: str = Security(oauth2, scopes=["me"])) -> str:
    return token


def test_operation_security_lists_the_scopes_of_the_chain() -> None:
    app = Kettle(__name__)
    router = Router(dependencies=[Security(_user, scopes=["admin"])])

    @app.get("/me")
    async def me(user: str = Depends(_user)) -> None:
        return None

    @app.get("/items")
    async def items(user: str = Security(_user, scopes=["items"])) -> None:
        return None

    @router.get("/admin")
    async def admin() -> None:
        return None

    app.include_router(router)
    paths = _document(app)["paths"]
    assert paths["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert paths["/items"]["get"]["security"] == [{"OAuth2PasswordBearer": ["items", "me"]}]
    assert paths["/admin"]["get"]["security"] == [{"OAuth2PasswordBearer": ["admin", "me"]}]


def test_two_schemes_on_one_route_are_both_required() -> None:
    app = Kettle(__name__)
    key = APIKeyHeader(name="X-Key")

    @app.get("/both", dependencies=[Depends(key)])
    async def both(user: str = Depends(_user)) -> None:
        return None

    doc = _document(app)
    assert doc["paths"]["/both"]["get"]["security"] == [
        {"APIKeyHeader": [], "OAuth2PasswordBearer": ["me"]}
    ]
    assert set(doc["components"]["securitySchemes"]) == {"APIKeyHeader", "OAuth2PasswordBearer"}


def test_the_password_form_is_documented_as_a_form() -> None:
    app = Kettle(__name__)

    @app.post("/token")
    async def token(form: OAuth2PasswordRequestForm = Depends()) -> None:
        return None

    body = _document(app)["paths"]["/token"]["post"]["requestBody"]
    (media_type,) = body["content"]
    assert media_type == "application/x-www-form-urlencoded"
    schema = body["content"][media_type]["schema"]
    assert schema["required"] == ["username", "password"]
    assert schema["properties"]["password"]["format"] == "password"
    assert schema["properties"]["grant_type"]["anyOf"][0]["pattern"] == "^password$"
