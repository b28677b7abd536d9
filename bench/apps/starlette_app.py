"""The scenarios written the way a Starlette user would: a Route list and async endpoints.

JSON bodies go through a JSONResponse subclass that renders with orjson, the encoder every app
in this benchmark uses, so the comparison measures the framework and not the JSON encoder.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
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
    ]
    routes.extend(
        Route(f"/r{index}/{{x:int}}", _numbered_endpoint(index), methods=["GET"], name=f"r{index}")
        for index in range(ROUTE_COUNT)
    )
    return routes


app = Starlette(routes=build_routes(), exception_handlers={HTTPException: http_error})
