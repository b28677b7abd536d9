"""The scenarios written against kettle's public API.

Assumed API (see bench/README.md): ``Kettle(__name__)``; ``@app.get(path)``; path values passed
to the endpoint by parameter name; a parameter annotated ``Request`` receives the request;
returned dicts become orjson ``application/json`` responses; ``app.add_route(path, endpoint,
methods=..., name=...)``; an unknown path answers 404 with ``{"detail": "Not Found"}``.

Importing this module fails while the core is incomplete; the harness reports that and goes on
with the other apps.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel

from bench.apps.common import HELLO, ROUTE_COUNT
from kettle import Depends, Header, Kettle, PlainTextResponse, Query

app = Kettle(__name__)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse(HELLO)


# response_model=None where the FastAPI app has it: neither validates its own output there.
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
    app.add_route(
        f"/r{_index}/{{x:int}}",
        _numbered_endpoint(_index),
        methods=["GET"],
        name=f"r{_index}",
        response_model=None,
    )
