"""FastAPI's whole signatures: each keyword argument of ``FastAPI``, ``APIRouter``,
``include_router``, the route decorators and the parameter functions does what it does in
FastAPI (checked through the test client and the OpenAPI document)."""

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import pydantic
import pytest

from kettle.fastapi import APIRouter, Body, Depends, FastAPI, Request, WebSocket
from kettle.fastapi.responses import HTMLResponse, PlainTextResponse
from kettle.fastapi.routing import APIRoute
from kettle.fastapi.testclient import TestClient


async def _hello() -> str:
    return "hi"


def _named(prefix: str) -> Any:
    return lambda route: f"{prefix}-{route.name}"


# -- generate_unique_id_function: app -> router -> include -> route, innermost wins -------

LEVELS = ("app", "router", "include", "route")


@pytest.mark.parametrize("given", [LEVELS[i:] for i in range(len(LEVELS))])
def test_generate_unique_id_function_innermost_wins(given: tuple[str, ...]) -> None:
    def at(level: str) -> dict[str, Any]:
        if level not in given:
            return {}
        return {"generate_unique_id_function": _named(level)}

    app = FastAPI(**at("app"))
    router = APIRouter(**at("router"))
    router.get("/hello", **at("route"))(_hello)
    app.include_router(router, **at("include"))
    operation_id = app.openapi()["paths"]["/hello"]["get"]["operationId"]
    # a route's own function, else its router's, else the include's, else the app's
    innermost = {"route": "route", "router": "router", "include": "include", "app": "app"}
    winner = next(level for level in ("route", "router", "include", "app") if level in given)
    assert operation_id == f"{innermost[winner]}-_hello"


def test_generate_unique_id_function_reads_path_format_and_methods() -> None:
    router = APIRouter(
        generate_unique_id_function=lambda r: f"{r.path_format}:{sorted(r.methods)[0]}"
    )

    @router.get("/items/{item_id}")
    async def read(item_id: int) -> int:
        return item_id

    app = FastAPI()
    app.include_router(router, prefix="/api")
    doc = app.openapi()
    assert doc["paths"]["/api/items/{item_id}"]["get"]["operationId"] == "/api/items/{item_id}:GET"


# -- default_response_class ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["router", "include", "both"])
def test_default_response_class_answers_routes_naming_none(where: str) -> None:
    router = APIRouter(
        default_response_class=PlainTextResponse if where in ("router", "both") else None
    )
    router.get("/plain")(_hello)
    router.get("/html", response_class=HTMLResponse)(_hello)
    app = FastAPI()
    include_class = HTMLResponse if where == "both" else PlainTextResponse
    app.include_router(router, default_response_class=include_class if where != "router" else None)
    client = TestClient(app)
    plain = client.get("/plain")
    # the router's own default wins over the include's
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.text == "hi"
    assert client.get("/html").headers["content-type"].startswith("text/html")
    doc = app.openapi()
    assert "text/plain" in doc["paths"]["/plain"]["get"]["responses"]["200"]["content"]


def test_app_default_response_class_is_the_outermost() -> None:
    app = FastAPI(default_response_class=HTMLResponse)
    router = APIRouter(default_response_class=PlainTextResponse)
    router.get("/inner")(_hello)
    app.get("/outer")(_hello)
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/outer").headers["content-type"].startswith("text/html")
    assert client.get("/inner").headers["content-type"].startswith("text/plain")


# -- callbacks ------------------------------------------------------------------------------


def _callback_router(path: str, name: str = "notify") -> APIRouter:
    callbacks = APIRouter()

    def notify(body: dict[str, str]) -> None: ...

    callbacks.add_api_route(path, notify, methods=["POST"], name=name)
    return callbacks


@pytest.mark.parametrize("level", ["app", "router", "include", "route"])
def test_callbacks_are_documented_under_the_operation(level: str) -> None:
    given = {"callbacks": _callback_router(f"{{$callback_url}}/{level}").routes}
    app = FastAPI(**(given if level == "app" else {}))
    router = APIRouter(**(given if level == "router" else {}))
    router.post("/subscribe", **(given if level == "route" else {}))(_hello)
    app.include_router(router, **(given if level == "include" else {}))
    operation = app.openapi()["paths"]["/subscribe"]["post"]
    assert list(operation["callbacks"]["notify"]) == [f"{{$callback_url}}/{level}"]
    assert TestClient(app).post("/subscribe").json() == "hi"


def test_callbacks_add_up_outermost_first() -> None:
    def given(level: str) -> dict[str, Any]:
        return {"callbacks": _callback_router(f"{{$url}}/{level}", f"on_{level}").routes}

    router = APIRouter(**given("router"))
    router.post("/s", **given("route"))(_hello)
    app = FastAPI(**given("app"))
    app.include_router(router, **given("include"))
    documented = app.openapi()["paths"]["/s"]["post"]["callbacks"]
    # FastAPI's order: the app's, the include's, the router's, the route's own
    assert list(documented) == ["on_app", "on_include", "on_router", "on_route"]


# -- routes=, add_api_route, route_class_override ---------------------------------------


@pytest.mark.parametrize("owner", ["app", "router"])
def test_routes_argument_serves_the_routes(owner: str) -> None:
    routes = APIRouter()
    routes.add_api_route("/hello", _hello, methods=["GET"])
    if owner == "app":
        app = FastAPI(routes=routes.routes)
    else:
        app = FastAPI()
        app.include_router(APIRouter(routes=routes.routes), prefix="/r")
    assert TestClient(app).get("/hello" if owner == "app" else "/r/hello").json() == "hi"


def test_route_class_override_wraps_that_route_only() -> None:
    class Tagged(APIRoute):
        def get_route_handler(self) -> Any:
            handler = super().get_route_handler()

            async def tagged(request: Any) -> Any:
                response = await handler(request)
                response.headers["x-tagged"] = "yes"
                return response

            return tagged

    router = APIRouter()
    router.add_api_route("/tagged", _hello, route_class_override=Tagged)
    router.add_api_route("/plain", _hello)
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/tagged").headers["x-tagged"] == "yes"
    assert "x-tagged" not in client.get("/plain").headers


def test_router_add_api_websocket_route() -> None:
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    router = APIRouter()
    router.add_api_websocket_route("/ws", echo)
    app = FastAPI()
    app.include_router(router)
    with TestClient(app).websocket_connect("/ws") as ws:
        ws.send_text("ping")
        assert ws.receive_text() == "ping"


# -- strict_content_type --------------------------------------------------------------------


class Item(pydantic.BaseModel):
    name: str


@pytest.mark.parametrize(("strict", "status"), [(None, 422), (True, 422), (False, 200)])
def test_router_strict_content_type(strict: bool | None, status: int) -> None:
    router = APIRouter(**({} if strict is None else {"strict_content_type": strict}))

    @router.post("/items")
    async def create(item: Item) -> Item:
        return item

    app = FastAPI()
    app.include_router(router)
    response = TestClient(app).post("/items", content=b'{"name": "a"}')
    assert response.status_code == status


# -- lifespans and hooks of included routers ---------------------------------------------


def test_included_router_hooks_and_lifespan_run_with_the_apps() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def app_life(app: Any) -> AsyncIterator[dict[str, str]]:
        events.append("app up")
        yield {"app": "a"}
        events.append("app down")

    @contextlib.asynccontextmanager
    async def router_life(app: Any) -> AsyncIterator[dict[str, str]]:
        events.append("router up")
        yield {"router": "r"}
        events.append("router down")

    router = APIRouter(
        lifespan=router_life,
        on_startup=[lambda: events.append("router start")],
        on_shutdown=[lambda: events.append("router stop")],
    )

    @router.get("/state")
    async def state(request: Request) -> dict[str, str]:
        return {"app": request.state.app, "router": request.state.router}

    app = FastAPI(lifespan=app_life)
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/state").json() == {"app": "a", "router": "r"}
    assert events == [
        "router start",
        "app up",
        "router up",
        "router down",
        "app down",
        "router stop",
    ]


# -- accepted and ignored ---------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"redirect_slashes": False}, {"default": None}, {"dependency_overrides_provider": object()}],
)
def test_router_internals_are_accepted_and_change_nothing(options: dict[str, Any]) -> None:
    router = APIRouter(**options)
    router.get("/hello")(_hello)
    app = FastAPI()
    app.include_router(router)
    assert TestClient(app).get("/hello").json() == "hi"


# -- parameter functions ----------------------------------------------------------------


class Cat(pydantic.BaseModel):
    kind: Literal["cat"]
    meows: int


class Dog(pydantic.BaseModel):
    kind: Literal["dog"]
    barks: int


@pytest.mark.parametrize(
    ("body", "status"),
    [({"kind": "cat", "meows": 2}, 200), ({"kind": "dog", "barks": 1}, 200), ({"kind": "x"}, 422)],
)
def test_body_discriminator_picks_the_union_member(body: dict[str, Any], status: int) -> None:
    app = FastAPI()

    @app.post("/pets")
    async def pet(value: Annotated[Cat | Dog, Body(discriminator="kind")]) -> str:
        return type(value).__name__

    schema = app.openapi()["paths"]["/pets"]["post"]["requestBody"]["content"]
    assert schema["application/json"]["schema"]["discriminator"]["propertyName"] == "kind"
    response = TestClient(app).post("/pets", json=body)
    assert response.status_code == status
    if status == 200:
        assert response.json() == body["kind"].title()
    else:
        # one error, about the discriminator, not one per union member
        assert [e["type"] for e in response.json()["detail"]] == ["union_tag_invalid"]


def test_depends_scope_none_is_the_default_scope() -> None:
    calls: list[int] = []

    def counter() -> int:
        calls.append(1)
        return len(calls)

    app = FastAPI()

    @app.get("/n")
    async def n(value: Annotated[int, Depends(counter, scope=None)]) -> int:
        return value

    client = TestClient(app)
    assert [client.get("/n").json() for _ in range(2)] == [1, 2]
