"""The scenarios written the way a FastAPI user would: async path operations, typed parameters.

Choices made to keep the work identical to the other apps, not to flatter or handicap FastAPI:
- JSON is rendered by orjson through ``default_response_class`` (a small JSONResponse subclass,
  because FastAPI's own ORJSONResponse is deprecated), like every other app here.
- ``response_model=None``: the other apps do not validate their own output, so FastAPI should
  not either; the return annotations are for readers and type checkers only.
- The OpenAPI and docs routes are switched off so every app has the same 1003-route table.
- ``{item_id:int}`` keeps a non-integer id a 404 (route miss), as in the other apps, instead of
  FastAPI's usual 422; FastAPI still converts and validates ``item_id: int`` itself.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from bench.apps.common import HELLO, ROUTE_COUNT


class OrjsonResponse(JSONResponse):
    """JSONResponse rendered by orjson (identical bytes to the other apps)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


app = FastAPI(
    default_response_class=OrjsonResponse,
    openapi_url=None,
    docs_url=None,
    redoc_url=None,
)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(HELLO)


@app.get("/json", response_model=None)
async def hello_json() -> dict[str, str]:
    return {"message": HELLO}


@app.get("/items/{item_id:int}", response_model=None)
async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@app.get("/typed/{item_id}", response_model=None)
async def typed(
    item_id: int, q: Annotated[str | None, Query(max_length=50)] = None, limit: int = 10
) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


class UserIn(BaseModel):
    name: str
    email: str
    age: int
    tags: list[str] = []


class UserOut(BaseModel):
    id: int
    name: str


@app.post("/users", status_code=201, response_model=UserOut)
async def create_user(user: UserIn) -> Any:
    return {"id": 1, "name": user.name, "email": user.email}


async def get_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def get_user(token: Annotated[str, Depends(get_token)]) -> str:
    return token


async def get_context(user: Annotated[str, Depends(get_user)], page: int = 1) -> dict[str, Any]:
    return {"user": user, "page": page}


@app.get("/deps", response_model=None)
async def deps(context: Annotated[dict[str, Any], Depends(get_context)]) -> dict[str, Any]:
    return context


def _numbered_endpoint(index: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    async def endpoint(x: int) -> dict[str, int]:
        return {"route": index, "x": x}

    return endpoint


for _index in range(ROUTE_COUNT):
    app.add_api_route(
        f"/r{_index}/{{x:int}}",
        _numbered_endpoint(_index),
        methods=["GET"],
        name=f"r{_index}",
        response_model=None,
    )
