"""The app's root router (``app.router``) and custom route classes that wrap requests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import pytest

from kettle import Body, Depends, HTTPException, Kettle, Request, RequestValidationError, Router
from kettle.fastapi import FastAPI
from kettle.responses import Response
from kettle.routing import Route
from kettle.scaffold import Scaffold
from kettle.testing import TestClient

Handler = Callable[[Any], Awaitable[Any]]


class Timed(Route):
    """Adds a header to every response of its routes."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def timed(request: Request) -> Response:
            response: Response = await handle(request)
            response.headers["x-route-class"] = type(self).__name__
            return response

        return timed


class GzipRequest(Request):
    """A request subclass that decompresses its body, as FastAPI's docs show."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            raw = await super().body()
            if "gzip" in self.headers.getlist("content-encoding"):
                raw = gzip.decompress(raw)
            self._body = raw
        return self._body


class Gzip(Route):
    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def unzip(request: Request) -> Response:
            return await handle(GzipRequest(request.scope, request.receive))  # type: ignore[no-any-return]

        return unzip


class ShowErrors(Route):
    """Turns a validation error into a 422 that also shows the body it was about."""

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def show(request: Request) -> Response:
            try:
                return await handle(request)  # type: ignore[no-any-return]
            except RequestValidationError as exc:
                body = (await request.body()).decode()
                raise HTTPException(422, {"errors": exc.errors(), "body": body}) from None

        return show


def test_app_router_is_the_root_router() -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> str:
        return "home"

    assert isinstance(app.router, Scaffold)
    assert app.routes is app.router.routes
    assert [route.name for route in app.router.routes] == ["index"]
    app.router.error_handlers[404] = lambda exc: ("gone", 404)
    assert app.error_handlers is app.router.error_handlers
    assert TestClient(app).get("/nowhere").text == "gone"


@pytest.mark.parametrize("where", ["app.router", "router"])
def test_route_class_wraps_every_request_of_its_routes(where: str) -> None:
    app = Kettle(__name__)
    router = Router(route_class=Timed) if where == "router" else app.router
    if where == "app.router":
        app.router.route_class = Timed

    @router.get("/items/{item_id:int}")
    async def item(item_id: int, q: str = "", n: int = 0) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    if where == "router":
        app.include_router(router, prefix="/api")

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    client = TestClient(app)
    prefix = "/api" if where == "router" else ""
    response = client.get(f"{prefix}/items/3?q=tea")
    assert response.json() == {"item_id": 3, "q": "tea"}
    assert response.headers["x-route-class"] == "Timed"
    # A bad parameter still answers the usual 422 through the wrapper.
    refused = client.get(f"{prefix}/items/3?n=many")
    assert refused.status_code == 422
    assert refused.headers.get("x-route-class") is None  # raised through the wrapper
    assert client.get(f"{prefix}/items/x").status_code == 404
    plain_response = client.get("/plain")
    assert ("x-route-class" in plain_response.headers) is (where == "app.router")


def test_a_wrapper_may_hand_over_a_request_subclass() -> None:
    app = FastAPI()
    app.router.route_class = Gzip

    @app.post("/sum")
    async def total(numbers: Annotated[list[int], Body()]) -> dict[str, Any]:
        return {"sum": sum(numbers)}

    @app.get("/kind")
    async def kind(request: Request) -> dict[str, str]:
        return {"class": type(request).__name__}

    client = TestClient(app)
    data = json.dumps([1] * 100).encode()
    headers = {"content-type": "application/json"}
    assert client.post("/sum", content=data, headers=headers).json() == {"sum": 100}
    zipped = client.post(
        "/sum", content=gzip.compress(data), headers={**headers, "content-encoding": "gzip"}
    )
    assert zipped.json() == {"sum": 100}
    assert client.get("/kind").json() == {"class": "GzipRequest"}


def test_the_core_request_still_refuses_compressed_bodies() -> None:
    app = Kettle(__name__)

    @app.post("/sum")
    async def total(numbers: Annotated[list[int], Body()]) -> dict[str, Any]:
        return {"sum": sum(numbers)}

    response = TestClient(app).post(
        "/sum",
        content=gzip.compress(b"[1, 2]"),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 415


def test_a_wrapper_sees_the_validation_error_and_the_body() -> None:
    app = Kettle(__name__)
    app.router.route_class = ShowErrors

    @app.post("/")
    async def total(numbers: Annotated[list[int], Body()]) -> int:
        return sum(numbers)

    response = TestClient(app).post("/", json={"numbers": [1, 2]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["body"] == '{"numbers":[1,2]}'
    assert detail["errors"][0]["loc"] == ["body"]


def test_get_route_handler_is_the_compile_steps_to_call() -> None:
    route = Route("/", lambda: None, frozenset({"GET"}), "index")
    with pytest.raises(RuntimeError, match="compile step"):
        route.get_route_handler()


@pytest.mark.parametrize(("app_class", "shadowed"), [(Kettle, False), (FastAPI, True)])
def test_a_second_handler_on_a_routed_path(app_class: type[Kettle], shadowed: bool) -> None:
    app = app_class()

    @app.get("/users")
    async def first() -> list[str]:
        return ["Rick"]

    @app.get("/users")
    async def second() -> list[str]:  # pragma: no cover - never answers
        return ["Bean"]

    client = TestClient(app)
    if shadowed:
        assert client.get("/users").json() == ["Rick"]
    else:
        with pytest.raises(Exception, match="already routed"):
            client.get("/users")


def mark_response(response: Response) -> None:
    """A dependency that shapes the response through its ``Response`` parameter."""
    response.headers["x-dep"] = "set"
    response.status_code = 202


def test_a_route_class_sees_what_a_dependency_set_on_the_response() -> None:
    # As in FastAPI, the handler a route class wraps returns the response with the status,
    # headers and cookies a dependency set through its `Response` parameter already on it.
    seen: dict[str, Any] = {}

    class Inspecting(Route):
        def get_route_handler(self) -> Handler:
            handle = super().get_route_handler()

            async def inspect(request: Request) -> Response:
                response: Response = await handle(request)
                seen["header"] = response.headers.get("x-dep")
                seen["status"] = response.status_code
                return response

            return inspect

    app = Kettle(__name__)
    router = Router(route_class=Inspecting)

    @router.get("/marked")
    async def marked(_: Annotated[None, Depends(mark_response)]) -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    answer = TestClient(app).get("/marked")
    assert seen == {"header": "set", "status": 202}
    assert answer.status_code == 202
    assert answer.headers.get_list("x-dep") == ["set"]
    assert answer.json() == {"ok": True}


def test_a_route_class_may_answer_without_calling_the_handler() -> None:
    # Regression: on a route with dependencies, dispatch looked for their state after the
    # wrapper returned, and found none when the wrapper had answered by itself (a 500).
    class Cached(Route):
        def get_route_handler(self) -> Handler:
            handle = super().get_route_handler()

            async def cached(request: Request) -> Response:
                if request.query_params.get("cached"):
                    return Response("from the cache")
                return await handle(request)  # type: ignore[no-any-return]

            return cached

    app = Kettle(__name__)
    router = Router(route_class=Cached)

    @router.get("/marked")
    async def marked(_: Annotated[None, Depends(mark_response)]) -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/marked?cached=1").text == "from the cache"
    assert client.get("/marked").status_code == 202
