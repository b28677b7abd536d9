"""The security scenarios the way a Starlette user writes them: the bearer token read and
decoded in the endpoint, CORS through Starlette's ``CORSMiddleware``."""

from typing import Any

import jwt
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.apps.common import ALLOWED_ORIGIN, JWT_SECRET


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def me(request: Request) -> OrjsonResponse:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return OrjsonResponse({"detail": "Not authenticated"}, status_code=401)
    try:
        claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return OrjsonResponse({"detail": "Invalid token"}, status_code=401)
    return OrjsonResponse({"sub": claims["sub"]})


app = Starlette(
    routes=[Route("/secure/me", me)],
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=[ALLOWED_ORIGIN],
            allow_methods=["GET"],
            allow_headers=["authorization"],
            max_age=600,
        )
    ],
)
