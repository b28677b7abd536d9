"""The scenarios written the way a Starlette user would: a Route list and async endpoints.

JSON bodies go through a JSONResponse subclass that renders with orjson, the encoder every app
in this benchmark uses, so the comparison measures the framework and not the JSON encoder.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bench.apps.common import HELLO, ROUTE_COUNT


class OrjsonResponse(JSONResponse):
    """JSONResponse rendered by orjson (identical bytes to the other apps)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse(HELLO)


async def hello_json(request: Request) -> OrjsonResponse:
    return OrjsonResponse({"message": HELLO})


async def item(request: Request) -> OrjsonResponse:
    return OrjsonResponse(
        {"item_id": request.path_params["item_id"], "q": request.query_params.get("q")}
    )


def _invalid(where: str) -> OrjsonResponse:
    return OrjsonResponse({"detail": [{"loc": where, "msg": "invalid"}]}, status_code=422)


async def typed(request: Request) -> OrjsonResponse:
    # Starlette has no typed parameters: the endpoint does the checks by hand.
    try:
        item_id = int(request.path_params["item_id"])
    except ValueError:
        return _invalid("path.item_id")
    q = request.query_params.get("q")
    if q is not None and len(q) > 50:
        return _invalid("query.q")
    try:
        limit = int(request.query_params.get("limit", 10))
    except ValueError:
        return _invalid("query.limit")
    return OrjsonResponse({"item_id": item_id, "q": q, "limit": limit})


class UserIn(BaseModel):
    name: str
    email: str
    age: int
    tags: list[str] = []


class UserOut(BaseModel):
    id: int
    name: str


async def create_user(request: Request) -> Response:
    # The same pydantic models, driven by hand: validate the body, filter the output.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return OrjsonResponse({"detail": "Unsupported Media Type"}, status_code=415)
    try:
        user = UserIn.model_validate_json(await request.body())
    except ValidationError:
        return _invalid("body")
    out = UserOut.model_validate({"id": 1, "name": user.name, "email": user.email})
    return Response(out.model_dump_json(), status_code=201, media_type="application/json")


def get_token(request: Request) -> str | None:
    return request.headers.get("x-token")


def get_user(token: str) -> str:
    return token


def get_context(user: str, request: Request) -> dict[str, Any] | None:
    try:
        page = int(request.query_params.get("page", 1))
    except ValueError:
        return None
    return {"user": user, "page": page}


async def deps(request: Request) -> OrjsonResponse:
    token = get_token(request)
    if token is None:
        return _invalid("header.x-token")
    context = get_context(get_user(token), request)
    if context is None:
        return _invalid("query.page")
    return OrjsonResponse(context)


def _numbered_endpoint(index: int) -> Callable[[Request], Awaitable[OrjsonResponse]]:
    async def endpoint(request: Request) -> OrjsonResponse:
        return OrjsonResponse({"route": index, "x": request.path_params["x"]})

    return endpoint


async def http_error(request: Request, exc: Exception) -> Response:
    # Starlette's default 404 is plain text; the benchmark contract is a JSON body.
    assert isinstance(exc, HTTPException)
    return OrjsonResponse({"detail": exc.detail}, status_code=exc.status_code)


def build_routes() -> list[Route]:
    routes = [
        Route("/plaintext", plaintext, methods=["GET"]),
        Route("/json", hello_json, methods=["GET"]),
        Route("/items/{item_id:int}", item, methods=["GET"]),
        Route("/typed/{item_id}", typed, methods=["GET"]),
        Route("/users", create_user, methods=["POST"]),
        Route("/deps", deps, methods=["GET"]),
    ]
    routes.extend(
        Route(f"/r{index}/{{x:int}}", _numbered_endpoint(index), methods=["GET"], name=f"r{index}")
        for index in range(ROUTE_COUNT)
    )
    return routes


app = Starlette(routes=build_routes(), exception_handlers={HTTPException: http_error})
