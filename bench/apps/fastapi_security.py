"""The security scenarios the way a FastAPI user writes them: an ``HTTPBearer`` dependency
whose credentials another dependency decodes with PyJWT, CORS through ``CORSMiddleware``."""

from typing import Annotated, Any

import jwt
import orjson
from fastapi import Depends, FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bench.apps.common import ALLOWED_ORIGIN, JWT_SECRET


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


app = FastAPI(
    default_response_class=OrjsonResponse, openapi_url=None, docs_url=None, redoc_url=None
)
app.add_middleware(
    CORSMiddleware,
    allow_origins=[ALLOWED_ORIGIN],
    allow_methods=["GET"],
    allow_headers=["authorization"],
    max_age=600,
)
bearer = HTTPBearer()


async def claims(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> dict[str, Any]:
    try:
        return jwt.decode(credentials.credentials, JWT_SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(401, "Invalid token") from None


@app.get("/secure/me", response_model=None)
async def me(token: Annotated[dict[str, Any], Depends(claims)]) -> dict[str, Any]:
    return {"sub": token["sub"]}
