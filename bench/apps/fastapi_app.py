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
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

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
