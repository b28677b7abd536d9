"""kettle.security through the test client: each scheme's credentials, its 401 and
``WWW-Authenticate``, ``auto_error=False``, the password-flow form, and OAuth2 scopes
propagating through nested ``Security`` dependencies."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import pytest

from kettle import Depends, HTTPException, Kettle, Router, Security, SecurityScopes, WebSocket
from kettle.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityBase,
    compare_digest,
    get_authorization_scheme_param,
)
from kettle.testing import TestClient


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _encode(value: Any) -> Any:
    if isinstance(value, HTTPBasicCredentials):
        return {"username": value.username, "password": value.password}
    if isinstance(value, HTTPAuthorizationCredentials):
        return {"scheme": value.scheme, "credentials": value.credentials}
    return value


# scheme, request kwargs with good credentials, what the dependant receives, challenge
SCHEMES: dict[str, tuple[SecurityBase, dict[str, Any], Any, str]] = {
    "oauth2-password": (
        OAuth2PasswordBearer(tokenUrl="token"),
        {"headers": {"Authorization": "Bearer tok.en-1"}},
        "tok.en-1",
        "Bearer",
    ),
    "oauth2-code": (
        OAuth2AuthorizationCodeBearer(authorizationUrl="/auth", tokenUrl="/token"),
        {"headers": {"Authorization": "bearer tok"}},
        "tok",
        "Bearer",
    ),
    "oauth2": (
        OAuth2(flows={"password": {"tokenUrl": "token", "scopes": {}}}),
        {"headers": {"Authorization": "Bearer tok"}},
        "Bearer tok",
        "Bearer",
    ),
    "openid": (
        OpenIdConnect(openIdConnectUrl="https://id.example/.well-known/openid-configuration"),
        {"headers": {"Authorization": "Bearer tok"}},
        "Bearer tok",
        "Bearer",
    ),
    "basic": (
        HTTPBasic(),
        {"headers": {"Authorization": _basic("ada", "pä:ss")}},
        {"username": "ada", "password": "pä:ss"},
        "Basic",
    ),
    "basic-realm": (
        HTTPBasic(realm='the "lab"'),
        {"auth": ("ada", "")},
        {"username": "ada", "password": ""},
        'Basic realm="the \\"lab\\"", charset="UTF-8"',
    ),
    "bearer": (
        HTTPBearer(),
        {"headers": {"Authorization": "Bearer abc=="}},
        {"scheme": "Bearer", "credentials": "abc=="},
        "Bearer",
    ),
    "digest": (
        HTTPDigest(),
        {"headers": {"Authorization": 'Digest username="ada", nonce="n"'}},
        {"scheme": "Digest", "credentials": 'username="ada", nonce="n"'},
        "Digest",
    ),
    "http-other": (
        HTTPBase(scheme="negotiate"),
        {"headers": {"Authorization": "Negotiate abc"}},
        {"scheme": "Negotiate", "credentials": "abc"},
        "Negotiate",
    ),
    "api-key-header": (
        APIKeyHeader(name="X-API-Key"),
        {"headers": {"X-API-Key": "k1"}},
        "k1",
        "APIKey",
    ),
    "api-key-query": (APIKeyQuery(name="api_key"), {"params": {"api_key": "k1"}}, "k1", "APIKey"),
    "api-key-cookie": (APIKeyCookie(name="key"), {"cookies": {"key": "k1"}}, "k1", "APIKey"),
}


def _app(scheme: SecurityBase) -> Kettle:
    app = Kettle(__name__)

    @app.get("/guarded")
    async def guarded(value: Any = Depends(scheme)) -> Any:
        return {"value": _encode(value)}

    return app


@pytest.mark.parametrize("name", list(SCHEMES))
def test_each_scheme_hands_over_its_credentials(name: str) -> None:
    scheme, kwargs, expected, _ = SCHEMES[name]
    kwargs = dict(kwargs)
    client = TestClient(_app(scheme), cookies=kwargs.pop("cookies", None))
    response = client.get("/guarded", **kwargs)
    assert response.status_code == 200, response.text
    assert response.json() == {"value": expected}


@pytest.mark.parametrize("name", list(SCHEMES))
def test_missing_credentials_are_a_401_with_the_schemes_challenge(name: str) -> None:
    scheme, _, _, header = SCHEMES[name]
    response = TestClient(_app(scheme)).get("/guarded")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == header
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("name", list(SCHEMES))
def test_a_subclass_chooses_the_not_authenticated_error(name: str) -> None:
    scheme, kwargs, _, _ = SCHEMES[name]

    class Forbidding(type(scheme)):  # type: ignore[misc]
        def make_not_authenticated_error(self) -> HTTPException:
            return HTTPException(403, "Sign in first")

    own = object.__new__(Forbidding)
    own.__dict__.update(vars(scheme))
    client = TestClient(_app(own))
    response = client.get("/guarded")
    assert response.status_code == 403
    assert "www-authenticate" not in response.headers
    assert response.json() == {"detail": "Sign in first"}
    kwargs = dict(kwargs)
    client.cookies.update(kwargs.pop("cookies", None) or {})
    assert client.get("/guarded", **kwargs).status_code == 200


def _optional(scheme: SecurityBase) -> SecurityBase:
    """The same kind of scheme, built with auto_error=False."""
    copy = object.__new__(type(scheme))
    copy.__dict__.update(vars(scheme))
    copy.auto_error = False
    return copy


@pytest.mark.parametrize("name", list(SCHEMES))
def test_auto_error_false_gives_none_instead(name: str) -> None:
    scheme, _, _, _ = SCHEMES[name]
    response = TestClient(_app(_optional(scheme))).get("/guarded")
    assert response.status_code == 200
    assert response.json() == {"value": None}


@pytest.mark.parametrize(
    ("scheme", "authorization"),
    [
        (HTTPBearer(auto_error=False), "Basic YTpi"),
        (HTTPBearer(auto_error=False), "Bearer not a token"),
        (HTTPBasic(auto_error=False), "Basic %%%"),
        (HTTPBasic(auto_error=False), "Bearer abc"),
        (HTTPDigest(auto_error=False), "Basic YTpi"),
        (OAuth2PasswordBearer(tokenUrl="t", auto_error=False), "Basic YTpi"),
    ],
)
def test_auto_error_false_also_gives_none_for_invalid_credentials(
    scheme: SecurityBase, authorization: str
) -> None:
    response = TestClient(_app(scheme)).get("/guarded", headers={"Authorization": authorization})
    assert response.json() == {"value": None}


@pytest.mark.parametrize(
    "scheme",
    [
        OAuth2PasswordBearer(tokenUrl="t"),
        HTTPBearer(),
        OAuth2(),
        OpenIdConnect(openIdConnectUrl="/o"),
    ],
    ids=type,
)
def test_tokens_in_the_query_string_are_never_read(scheme: SecurityBase) -> None:
    client = TestClient(_app(scheme))
    for query in ("access_token=secret-token", "token=secret-token", "authorization=Bearer+x"):
        response = client.get(f"/guarded?{query}")
        assert response.status_code == 401
        assert "secret-token" not in response.text


def test_a_security_scheme_takes_the_websocket_too() -> None:
    app = Kettle(__name__)
    bearer = HTTPBearer()

    @app.websocket("/ws")
    async def ws(socket: WebSocket, auth: HTTPAuthorizationCredentials = Depends(bearer)) -> None:
        await socket.accept()
        await socket.send_text(auth.credentials)

    with TestClient(app).websocket_connect("/ws", headers={"Authorization": "Bearer t1"}) as s:
        assert s.receive_text() == "t1"


# -- the password flow ----------------------------------------------------------------------


def _form_app(form_class: type[OAuth2PasswordRequestForm]) -> Kettle:
    app = Kettle(__name__)

    @app.post("/token")
    async def token(form: OAuth2PasswordRequestForm = Depends(form_class)) -> Any:
        return {
            "grant_type": form.grant_type,
            "username": form.username,
            "password": form.password,
            "scopes": form.scopes,
            "client_id": form.client_id,
            "client_secret": form.client_secret,
            "repr": repr(form),
        }

    return app


@pytest.mark.parametrize(
    ("form_class", "data", "status", "expected"),
    [
        (
            OAuth2PasswordRequestForm,
            {"username": "ada", "password": "pw"},
            200,
            {"grant_type": None, "scopes": [], "client_id": None},
        ),
        (
            OAuth2PasswordRequestForm,
            {"username": "ada", "password": "pw", "scope": " me  items:read ", "client_id": "c"},
            200,
            {"scopes": ["me", "items:read"], "client_id": "c"},
        ),
        (
            OAuth2PasswordRequestForm,
            {"grant_type": "client_credentials", "username": "ada", "password": "pw"},
            422,
            None,
        ),
        (OAuth2PasswordRequestForm, {"username": "ada"}, 422, None),
        (OAuth2PasswordRequestFormStrict, {"username": "ada", "password": "pw"}, 422, None),
        (
            OAuth2PasswordRequestFormStrict,
            {"grant_type": "password", "username": "ada", "password": "pw", "client_secret": "s"},
            200,
            {"grant_type": "password", "client_secret": "s"},
        ),
    ],
)
def test_the_password_form(
    form_class: type[OAuth2PasswordRequestForm],
    data: dict[str, str],
    status: int,
    expected: dict[str, Any] | None,
) -> None:
    response = TestClient(_form_app(form_class)).post("/token", data=data)
    assert response.status_code == status, response.text
    if expected is not None:
        body = response.json()
        assert body["username"] == "ada"
        assert body["password"] == "pw"
        assert expected.items() <= body.items()
        assert "pw" not in body["repr"]
        assert "'s'" not in body["repr"]


def test_the_password_form_refuses_json() -> None:
    response = TestClient(_form_app(OAuth2PasswordRequestForm)).post(
        "/token", json={"username": "ada", "password": "pw"}
    )
    assert response.status_code in (415, 422)


# -- scopes -----------------------------------------------------------------------------------

oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "You", "items": "Items"})
seen: dict[str, list[str]] = {}


def _token_dep(scopes: SecurityScopes, token: str = Security(oauth2)) -> str:
    seen["token"] = scopes.scopes
    return token


def _user(scopes: SecurityScopes, token: str = Security(_token_dep, scopes=["me"])) -> str:
    seen["user"] = scopes.scopes
    return token


def _active_user(user: str = Depends(_user)) -> str:
    # A plain Depends in the middle of the chain passes the scopes through.
    return user


def _scopes_app() -> Kettle:
    app = Kettle(__name__, dependencies=[Security(_token_dep, scopes=["app"])])
    router = Router(dependencies=[Security(_token_dep, scopes=["router"])])

    @app.get("/direct")
    async def direct(scopes: SecurityScopes, user: str = Security(_user, scopes=["items"])) -> Any:
        return {"handler": scopes.scopes}

    @app.get("/through-depends")
    async def through(user: str = Security(_active_user, scopes=["admin"])) -> None:
        return None

    @router.get("/routed", dependencies=[Security(_user, scopes=["route"])])
    async def routed() -> None:
        return None

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("path", "user", "token"),
    [
        ("/direct", ["items"], ["items", "me"]),
        ("/through-depends", ["admin"], ["admin", "me"]),
        ("/routed", ["route"], ["route", "me"]),
    ],
)
def test_scopes_are_the_union_of_the_security_chain(
    path: str, user: list[str], token: list[str]
) -> None:
    seen.clear()
    response = TestClient(_scopes_app()).get(path, headers={"Authorization": "Bearer t"})
    assert response.status_code < 300, response.text
    assert seen["user"] == user
    assert sorted(seen["token"]) == sorted(token)


def test_the_handler_itself_sees_no_scopes() -> None:
    response = TestClient(_scopes_app()).get("/direct", headers={"Authorization": "Bearer t"})
    assert response.json() == {"handler": []}


def test_each_chain_gets_its_own_scopes() -> None:
    # The app-level Security(_token_dep, scopes=["app"]) and the one under /direct are
    # two calls with different scopes, as in FastAPI (the cache is per set of scopes).
    records: list[list[str]] = []
    app = Kettle(__name__)
    bearer = OAuth2PasswordBearer(tokenUrl="token")

    def record(scopes: SecurityScopes, token: str = Depends(bearer)) -> str:
        records.append(scopes.scopes)
        return token

    @app.get("/", dependencies=[Security(record, scopes=["a"])])
    async def index(
        one: str = Security(record, scopes=["b"]), two: str = Security(record, scopes=["b"])
    ) -> None:
        return None

    assert TestClient(app).get("/", headers={"Authorization": "Bearer t"}).status_code == 204
    assert sorted(records) == [["a"], ["b"]]


# -- an OAuth2 password flow, end to end ------------------------------------------------------

USERS = {"ada": ("correct horse", ["me", "items"]), "bob": ("hunter2", ["me"])}
TOKENS: dict[str, tuple[str, list[str]]] = {}


def _flow_app() -> Kettle:
    app = Kettle(__name__)
    scheme = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "You", "items": "Items"})

    @app.post("/token")
    async def token(form: OAuth2PasswordRequestForm = Depends()) -> dict[str, str]:
        known = USERS.get(form.username)
        if known is None or not compare_digest(form.password, known[0]):
            raise HTTPException(400, "Incorrect username or password")
        granted = [s for s in form.scopes if s in known[1]]
        access = f"t-{form.username}-{len(TOKENS)}"
        TOKENS[access] = (form.username, granted)
        return {"access_token": access, "token_type": "bearer"}

    async def current_user(scopes: SecurityScopes, access: str = Depends(scheme)) -> str:
        challenge = f'Bearer scope="{scopes.scope_str}"' if scopes.scopes else "Bearer"
        found = TOKENS.get(access)
        if found is None:
            raise HTTPException(
                401, "Could not validate credentials", {"WWW-Authenticate": challenge}
            )
        for needed in scopes.scopes:
            if needed not in found[1]:
                raise HTTPException(403, "Not enough permissions", {"WWW-Authenticate": challenge})
        return found[0]

    @app.get("/users/me")
    async def me(user: str = Security(current_user, scopes=["me"])) -> dict[str, str]:
        return {"username": user}

    @app.get("/users/me/items")
    async def items(user: str = Security(current_user, scopes=["items"])) -> list[str]:
        return [f"{user}'s kettle"]

    return app


def test_the_password_flow_end_to_end() -> None:
    client = TestClient(_flow_app())
    refused = client.post("/token", data={"username": "ada", "password": "wrong"})
    assert refused.status_code == 400
    assert "wrong" not in refused.text
    assert client.get("/users/me").status_code == 401
    bad = client.get("/users/me", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer scope="me"'

    login = client.post(
        "/token", data={"username": "bob", "password": "hunter2", "scope": "me items"}
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/users/me", headers=auth).json() == {"username": "bob"}
    forbidden = client.get("/users/me/items", headers=auth)
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"] == 'Bearer scope="items"'

    login = client.post(
        "/token", data={"username": "ada", "password": "correct horse", "scope": "items"}
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/users/me/items", headers=auth).json() == ["ada's kettle"]
    assert client.get("/users/me", headers=auth).status_code == 403


# -- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("s3cret", "s3cret", True),
        ("s3cret", "s3cre", False),
        ("pässwörd", "pässwörd", True),
        ("pässwörd", "passwort", False),
        (b"\xff\x00", b"\xff\x00", True),
        ("é", "é".encode(), True),
        ("\ud800", "x", False),
    ],
)
def test_compare_digest(a: str | bytes, b: str | bytes, equal: bool) -> None:
    assert compare_digest(a, b) is equal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("Bearer", ("Bearer", "")),
        ("Bearer abc", ("Bearer", "abc")),
        ("  Basic   YTpi  ", ("Basic", "YTpi")),
        ("Digest a=1, b=2", ("Digest", "a=1, b=2")),
    ],
)
def test_get_authorization_scheme_param(value: str | None, expected: tuple[str, str]) -> None:
    assert get_authorization_scheme_param(value) == expected


def test_credentials_never_show_their_secret_in_a_repr() -> None:
    assert "hunter2" not in repr(HTTPBasicCredentials(username="bob", password="hunter2"))
    assert "hunter2" not in repr(
        HTTPAuthorizationCredentials(scheme="Bearer", credentials="hunter2")
    )
    assert "hunter2" not in str(HTTPBasicCredentials(username="bob", password="hunter2"))


# -- configuration mistakes, refused at startup ------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OAuth2PasswordBearer(tokenUrl=""), "tokenUrl must be a non-empty string"),
        (lambda: OAuth2PasswordBearer(tokenUrl="t", scopes=["me"]), "scopes must map each scope"),  # type: ignore[arg-type]
        (lambda: OAuth2PasswordBearer(tokenUrl="t", scopes={"me": 1}), "scopes must map each"),  # type: ignore[dict-item]
        (lambda: OAuth2(flows={"magic": {}}), "unknown OAuth2 flow 'magic'"),
        (lambda: OAuth2(flows={"implicit": {"scopes": {}}}), "authorizationUrl must be"),
        (
            lambda: OAuth2AuthorizationCodeBearer(authorizationUrl="/a", tokenUrl=None),  # type: ignore[arg-type]
            "tokenUrl must be",
        ),
        (lambda: OpenIdConnect(openIdConnectUrl=" "), "openIdConnectUrl must be"),
        (lambda: APIKeyHeader(name="X API Key"), "name must be an HTTP token"),
        (lambda: APIKeyCookie(name="a;b"), "name must be an HTTP token"),
        (lambda: APIKeyQuery(name=""), "name must be a non-empty string"),
        (lambda: HTTPBase(scheme="two words"), "scheme must be an HTTP token"),
        (lambda: HTTPBasic(realm="lab\r\nSet-Cookie: x=1"), "realm must be printable ASCII"),
        (lambda: HTTPBasic(realm="läb"), "realm must be printable ASCII"),
        (lambda: HTTPBearer(scheme_name=""), "scheme_name must be a non-empty string"),
        (lambda: HTTPBearer(auto_error="no"), "auto_error must be True or False"),  # type: ignore[arg-type]
        (lambda: HTTPDigest(description=3), "description must be a string"),  # type: ignore[arg-type]
    ],
)
def test_configuration_mistakes_are_refused_at_startup(build: Any, message: str) -> None:
    from kettle import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        build()


# -- FastAPI code, unchanged but for its imports ----------------------------------------------

from kettle.fastapi import FastAPI  # noqa: E402
from kettle.fastapi import status as http_status  # noqa: E402
from kettle.fastapi.security import OAuth2PasswordBearer as FastAPIBearer  # noqa: E402
from kettle.fastapi.security import OAuth2PasswordRequestForm as FastAPIForm  # noqa: E402

fastapi_scheme = FastAPIBearer(tokenUrl="token")
FAKE_DB = {"johndoe": {"username": "johndoe", "password": "secret", "disabled": False}}


async def get_current_user(token: Annotated[str, Depends(fastapi_scheme)]) -> dict[str, Any]:
    user = FAKE_DB.get(token)
    if user is None:
        raise HTTPException(
            status_code=http_status.HTTP_401_UNAUTHORIZED,
            detail="Invalid authentication credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/token")
    async def login(form_data: Annotated[FastAPIForm, Depends()]) -> dict[str, str]:
        user = FAKE_DB.get(form_data.username)
        if not user or not compare_digest(form_data.password, str(user["password"])):
            raise HTTPException(status_code=400, detail="Incorrect username or password")
        return {"access_token": str(user["username"]), "token_type": "bearer"}

    @app.get("/users/me")
    async def read_users_me(
        current_user: Annotated[dict[str, Any], Depends(get_current_user)],
    ) -> dict[str, Any]:
        return {"username": current_user["username"]}

    return app


def test_fastapis_password_flow_code_runs_on_kettle() -> None:
    client = TestClient(fastapi_app())
    token = client.post("/token", data={"username": "johndoe", "password": "secret"}).json()
    assert token == {"access_token": "johndoe", "token_type": "bearer"}
    me = client.get("/users/me", headers={"Authorization": "Bearer johndoe"})
    assert me.json() == {"username": "johndoe"}
    assert client.get("/users/me").status_code == 401
    assert client.post("/token", data={"username": "johndoe", "password": "x"}).status_code == 400


def test_importing_the_schemes_stays_light() -> None:
    # Tokens and passwords (PyJWT, cryptography, pwdlib) load only from their own modules,
    # and no scheme needs pydantic: an app guarded by an API key never imports them.
    import subprocess
    import sys

    heavy = ("jwt", "cryptography", "pwdlib", "argon2", "pydantic", "redis")
    code = (
        "import sys, kettle.security, kettle.fastapi.security; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize(
    ("scheme", "authorization", "detail", "challenge"),
    [
        (HTTPBearer(), "Basic YTpi", "Not authenticated", "Bearer"),
        (HTTPDigest(), "Bearer t0k", "Not authenticated", "Digest"),
        (HTTPBase(scheme="negotiate"), "Bearer t0k", "Not authenticated", "Negotiate"),
        (HTTPBasic(), "Bearer t0k", "Not authenticated", "Basic"),
        (HTTPBearer(), "Bearer not a token", "Invalid authentication credentials", "Bearer"),
    ],
)
def test_credentials_of_another_scheme_are_no_credentials(
    scheme: SecurityBase, authorization: str, detail: str, challenge: str
) -> None:
    response = TestClient(_app(scheme)).get("/guarded", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["www-authenticate"] == challenge
