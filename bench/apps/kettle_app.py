"""The scenarios written against kettle's public API.

Assumed API (see bench/README.md): ``Kettle(__name__)``; ``@app.get(path)``; path values passed
to the endpoint by parameter name; a parameter annotated ``Request`` receives the request;
returned dicts become orjson ``application/json`` responses; ``app.add_route(path, endpoint,
methods=..., name=...)``; an unknown path answers 404 with ``{"detail": "Not Found"}``.

Importing this module fails while the core is incomplete; the harness reports that and goes on
with the other apps.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from bench.apps.common import HELLO, ROUTE_COUNT
from kettle import Kettle, PlainTextResponse, Request

app = Kettle(__name__)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(HELLO)


@app.get("/json")
async def hello_json() -> dict[str, str]:
    return {"message": HELLO}


# When typed query parameters land, this becomes:
#     async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
#         return {"item_id": item_id, "q": q}
@app.get("/items/{item_id:int}")
async def item(item_id: int, request: Request) -> dict[str, Any]:
    return {"item_id": item_id, "q": request.query_params.get("q")}


def _numbered_endpoint(index: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    async def endpoint(x: int) -> dict[str, int]:
        return {"route": index, "x": x}

    return endpoint


for _index in range(ROUTE_COUNT):
    app.add_route(
        f"/r{_index}/{{x:int}}", _numbered_endpoint(_index), methods=["GET"], name=f"r{_index}"
    )
