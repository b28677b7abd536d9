"""The token API's app factory, and the app ``kettle run examples/tokens/app.py:app`` serves.

FastAPI's "OAuth2 with password, JWT and scopes" tutorial, on kettle's own classes:
``OAuth2PasswordBearer`` and ``OAuth2PasswordRequestForm`` from ``kettle.security``, the
:class:`~kettle.security.tokens.JWT` helper, argon2 hashes from
:class:`~kettle.security.passwords.PasswordHasher`, and users in SQLite.

Settings come from ``KETTLE_*`` environment variables (``KETTLE_JWT_SECRET``,
``KETTLE_DATABASE``...) unless a test passes its own.
"""

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel

from kettle import Depends, HTTPException, Kettle
from kettle.security import (
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    Security,
    SecurityScopes,
)
from kettle.security.passwords import PasswordHasher
from kettle.security.tokens import JWT

from . import db

logger = logging.getLogger(__name__)

#: Signs tokens when no KETTLE_JWT_SECRET is set. FOR DEVELOPMENT ONLY: it is public, so
#: anyone could forge a token. Set KETTLE_JWT_SECRET, e.g. to the output of
#: `python -c "import secrets; print(secrets.token_urlsafe(32))"`.
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-do-not-deploy"

SCOPES = {"me": "Read your own profile", "items": "Read your items"}
#: Made on startup when the users table is empty, so the API can be tried at once.
DEMO_USERS = {
    "alice": ("Alice Liddell", {"me", "items"}),
    "bob": ("Bob Hope", {"me"}),
}
DEMO_PASSWORD = "secret"


class Token(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class UserOut(BaseModel):
    username: str
    full_name: str
    scopes: list[str]


class Item(BaseModel):
    name: str
    owner: str


def create_app(test_config: Mapping[str, Any] | None = None) -> Kettle:
    """A new token API; ``test_config`` overrides the defaults and the environment."""
    app = Kettle(__name__, title="kettle token API")
    app.config.from_mapping(
        DATABASE=os.path.join(app.root_path, "instance", "tokens.sqlite"),
        ACCESS_TOKEN_MINUTES=30,
        DEMO_USERS=True,
    )
    app.config.from_prefixed_env()  # KETTLE_JWT_SECRET -> config["JWT_SECRET"], ...
    if test_config is not None:
        app.config.from_mapping(test_config)
    secret = app.config.get("JWT_SECRET")
    if not secret:
        logger.warning("KETTLE_JWT_SECRET is not set: using the development key (never deploy so)")
        secret = DEV_JWT_SECRET
    database = str(app.config["DATABASE"])
    hasher: PasswordHasher = app.config.get("PASSWORD_HASHER") or PasswordHasher()
    # Built once: a misconfigured key or lifetime fails here, at startup.
    tokens = JWT(
        secret,
        issuer="kettle-tokens-example",
        audience="kettle-tokens-api",
        expires_in=timedelta(minutes=int(app.config["ACCESS_TOKEN_MINUTES"])),
    )
    oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes=SCOPES)

    @app.on_startup
    def create_database() -> None:
        db.init(database)
        if app.config["DEMO_USERS"] and db.count_users(database) == 0:
            for username, (full_name, scopes) in DEMO_USERS.items():
                db.add_user(database, username, full_name, hasher.hash(DEMO_PASSWORD), scopes)

    # A plain def: the SQLite lookup and the argon2 check run in the thread pool.
    @app.post("/token", response_model=Token)
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        user = db.find_user(database, form.username)
        # Unknown users are checked against a dummy hash: the same time as a wrong
        # password, so the response time does not reveal which usernames exist.
        if not hasher.verify(form.password, user.password_hash if user else None):
            raise HTTPException(
                401, "Incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
            )
        assert user is not None
        if user.disabled:
            raise HTTPException(400, "Inactive user")
        if hasher.needs_rehash(user.password_hash):
            db.update_hash(database, user.username, hasher.hash(form.password))
        # Only scopes the user holds are granted, whatever the client asked for (FastAPI's
        # tutorial grants every requested scope); the response says which were.
        granted = sorted(set(form.scopes) & user.scopes)
        token = tokens.encode({"scope": " ".join(granted)}, subject=user.username)
        return Token(
            access_token=token,
            token_type="bearer",
            expires_in=int(tokens.expires_in.total_seconds()),
            scope=" ".join(granted),
        )

    def current_user(
        security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]
    ) -> db.UserRow:
        # An invalid token raises InvalidTokenError: a 401 naming the reason.
        claims = tokens.decode(token)
        user = db.find_user(database, str(claims.get("sub", "")))
        if user is None:
            raise HTTPException(
                401, "Could not validate credentials", headers={"WWW-Authenticate": "Bearer"}
            )
        held = set(str(claims.get("scope", "")).split())
        missing = [scope for scope in security_scopes.scopes if scope not in held]
        if missing:
            # RFC 6750: a valid token with too few scopes is a 403, naming what it needs.
            challenge = f'Bearer error="insufficient_scope", scope="{security_scopes.scope_str}"'
            raise HTTPException(403, "Not enough permissions", {"WWW-Authenticate": challenge})
        return user

    def active_user(
        user: Annotated[db.UserRow, Security(current_user, scopes=["me"])],
    ) -> db.UserRow:
        if user.disabled:
            raise HTTPException(400, "Inactive user")
        return user

    @app.get("/users/me", response_model=UserOut)
    def read_me(user: Annotated[db.UserRow, Security(active_user)]) -> UserOut:
        return UserOut(username=user.username, full_name=user.full_name, scopes=sorted(user.scopes))

    @app.get("/users/me/items", response_model=list[Item])
    def read_my_items(
        user: Annotated[db.UserRow, Security(active_user, scopes=["items"])],
    ) -> list[Item]:
        return [Item(name="kettle", owner=user.username)]

    @app.get("/status")
    async def status() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
