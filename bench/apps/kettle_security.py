"""The security scenarios on kettle's own pieces: ``kettle.security.HTTPBearer``, a
dependency decoding with ``kettle.security.tokens.JWT`` (PyJWT underneath, the algorithm
pinned), and ``kettle.middleware.CORSMiddleware``."""

from typing import Annotated, Any

from bench.apps.common import ALLOWED_ORIGIN, JWT_SECRET
from kettle import Depends, Kettle
from kettle.middleware.cors import CORSMiddleware
from kettle.security import HTTPAuthorizationCredentials, HTTPBearer
from kettle.security.tokens import JWT

app = Kettle(__name__, openapi_url=None, docs_url=None, redoc_url=None)
app.add_middleware(
    CORSMiddleware,
    allow_origins=[ALLOWED_ORIGIN],
    allow_methods=["GET"],
    allow_headers=["authorization"],
    max_age=600,
)
bearer = HTTPBearer()
tokens = JWT(JWT_SECRET, algorithms=["HS256"], required=("exp",))


async def claims(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> dict[str, Any]:
    return tokens.decode(credentials.credentials)  # an invalid token is a precise 401


@app.get("/secure/me", response_model=None)
async def me(token: Annotated[dict[str, Any], Depends(claims)]) -> dict[str, Any]:
    return {"sub": token["sub"]}
