"""Dependency injection: kinds of dependencies, caching, teardown order, overrides, app scope."""

import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import anyio
import httpx
import pytest

from kettle import (
    BackgroundTasks,
    ConfigurationError,
    Depends,
    Header,
    HTTPException,
    Kettle,
    PlainTextResponse,
    Request,
    Response,
    Router,
    Security,
    SecurityScopes,
    WebSocket,
    WebSocketDisconnect,
)
from kettle.testing import AsyncTestClient, TestClient
from kettle.types import Message, Receive, Scope, Send


def detail(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


def unwrap(value: Any) -> Any:
    return getattr(value, "value", value)


# -- every kind of dependency ------------------------------------------------------------------


def dep_function(q: int = 1) -> int:
    return q * 10


async def dep_coroutine(q: int = 1) -> int:
    return q * 10


def dep_generator(q: int = 1) -> Iterator[int]:
    yield q * 10


async def dep_async_generator(q: int = 1) -> AsyncIterator[int]:
    yield q * 10


class DepClass:
    def __init__(self, q: int = 1) -> None:
        self.value = q * 10


class DepCallable:
    """An instance whose ``__call__`` is the dependency (configured at declaration)."""

    def __init__(self, factor: int) -> None:
        self.factor = factor

    def __call__(self, q: int = 1) -> int:
        return q * self.factor


class DepClassWithAsyncCall:
    """A class used as a dependency: kettle must build an instance, not await one."""

    def __init__(self, q: int = 1) -> None:
        self.value = q * 10

    async def __call__(self) -> None:  # pragma: no cover - never called by kettle
        raise AssertionError("the class itself is the dependency")


def _multiply(q: int = 1, factor: int = 1) -> int:
    return q * factor


KINDS = [
    pytest.param(dep_function, id="function"),
    pytest.param(dep_coroutine, id="async-function"),
    pytest.param(dep_generator, id="generator"),
    pytest.param(dep_async_generator, id="async-generator"),
    pytest.param(DepClass, id="class"),
    pytest.param(DepCallable(10), id="callable-instance"),
    pytest.param(functools.partial(_multiply, factor=10), id="partial"),
    pytest.param(
        DepClassWithAsyncCall,
        id="class-with-async-call",
    ),
]


@pytest.mark.parametrize("dependency", KINDS)
@pytest.mark.parametrize("handler_kind", ["async", "sync"])
def test_every_kind_of_dependency(dependency: Callable[..., Any], handler_kind: str) -> None:
    app = Kettle(__name__)
    if handler_kind == "async":

        @app.get("/")
        async def handler(v: Any = Depends(dependency)) -> dict[str, Any]:
            return {"v": unwrap(v)}

    else:

        @app.get("/")
        def handler(v: Any = Depends(dependency)) -> dict[str, Any]:
            return {"v": unwrap(v)}

    client = TestClient(app)
    assert client.get("/?q=2").json() == {"v": 20}
    assert client.get("/").json() == {"v": 10}
    (error,) = detail(client.get("/?q=x"))
    assert (error["type"], error["loc"]) == ("int_parsing", ["query", "q"])


def test_class_dependency_shorthand() -> None:
    class Pager:
        def __init__(self, page: int = 1, size: int = 20) -> None:
            self.offset, self.limit = (page - 1) * size, size

    app = Kettle(__name__)

    @app.get("/annotated")
    def annotated(p: Annotated[Pager, Depends()]) -> dict[str, int]:
        return {"offset": p.offset, "limit": p.limit}

    @app.get("/default")
    def default(p: Pager = Depends()) -> dict[str, int]:
        return {"offset": p.offset, "limit": p.limit}

    client = TestClient(app)
    for path in ("/annotated", "/default"):
        assert client.get(path, params={"page": 3, "size": 5}).json() == {"offset": 10, "limit": 5}


def test_sub_dependencies_to_any_depth_and_diamonds() -> None:
    def level0(x_base: Annotated[int, Header()]) -> int:
        return x_base

    def level1(v: int = Depends(level0)) -> int:
        return v + 1

    def level2(v: int = Depends(level1)) -> int:
        return v + 1

    def level3(v: int = Depends(level2), w: int = Depends(level1)) -> int:
        return v + w

    def level4(v: int = Depends(level3), q: int = 0) -> int:
        return v + q

    app = Kettle(__name__)

    @app.get("/")
    async def handler(v: int = Depends(level4), base: int = Depends(level0)) -> dict[str, int]:
        return {"v": v, "base": base}

    client = TestClient(app)
    assert client.get("/?q=100", headers={"x-base": "1"}).json() == {"v": 105, "base": 1}
    (error,) = detail(client.get("/"))
    assert error["loc"] == ["header", "x-base"]


# -- caching ------------------------------------------------------------------------------------


def test_a_dependency_runs_once_per_request_however_many_dependents() -> None:
    calls: list[str] = []

    async def counter(request: Request) -> str:
        calls.append(request.url.path)
        return f"call {len(calls)}"

    def a(c: str = Depends(counter)) -> str:
        return c

    def b(c: str = Depends(counter)) -> str:
        return c

    app = Kettle(__name__)

    @app.get("/", dependencies=[Depends(counter)])
    def handler(
        x: str = Depends(a), y: str = Depends(b), z: str = Depends(counter)
    ) -> dict[str, str]:
        return {"x": x, "y": y, "z": z}

    client = TestClient(app)
    assert client.get("/").json() == {"x": "call 1", "y": "call 1", "z": "call 1"}
    assert client.get("/").json() == {"x": "call 2", "y": "call 2", "z": "call 2"}
    assert calls == ["/", "/"]


def test_use_cache_false_calls_again() -> None:
    calls: list[int] = []

    def counter() -> int:
        calls.append(1)
        return len(calls)

    app = Kettle(__name__)

    @app.get("/")
    def handler(
        x: int = Depends(counter, use_cache=False),
        y: int = Depends(counter, use_cache=False),
        z: int = Depends(counter),
    ) -> list[int]:
        return [x, y, z]

    assert sorted(TestClient(app).get("/").json()) == [1, 2, 3]
    assert len(calls) == 3


def test_cached_generator_is_entered_and_closed_once() -> None:
    events: list[str] = []

    def session() -> Iterator[str]:
        events.append("open")
        yield "s"
        events.append("close")

    def repo(s: str = Depends(session)) -> str:
        return s + "-repo"

    app = Kettle(__name__)

    @app.get("/")
    def handler(r: str = Depends(repo), s: str = Depends(session)) -> dict[str, str]:
        return {"r": r, "s": s}

    assert TestClient(app).get("/").json() == {"r": "s-repo", "s": "s"}
    assert events == ["open", "close"]


def test_concurrent_requests_do_not_share_cached_values() -> None:
    closed: list[str] = []

    async def who(name: str) -> AsyncIterator[str]:
        await anyio.sleep(0.01)
        yield name
        closed.append(name)

    def greeting(n: str = Depends(who)) -> str:
        return f"hello {n}"

    app = Kettle(__name__)

    @app.get("/")
    async def handler(g: str = Depends(greeting), n: str = Depends(who)) -> dict[str, str]:
        await anyio.sleep(0.01)
        return {"g": g, "n": n}

    names = [f"user{i}" for i in range(20)]
    results: dict[str, Any] = {}

    async def main() -> None:
        async with AsyncTestClient(app) as client:

            async def one(name: str) -> None:
                results[name] = (await client.get("/", params={"name": name})).json()

            async with anyio.create_task_group() as tg:
                for name in names:
                    tg.start_soon(one, name)

    anyio.run(main)
    assert results == {n: {"g": f"hello {n}", "n": n} for n in names}
    assert sorted(closed) == sorted(names)


# -- order: response, background tasks, teardown --------------------------------------------------


def recording(app: Kettle, events: list[str]) -> Callable[[Scope, Receive, Send], Any]:
    """The app wrapped so that the moment the response body is complete is an event."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        async def record(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                events.append("response sent")

        await app(scope, receive, record)

    return wrapper


def ordered_app(events: list[str], produce: Callable[[], Any], with_task: bool) -> Kettle:
    async def outer() -> AsyncIterator[str]:
        events.append("enter outer")
        yield "outer"
        events.append("exit outer")

    def inner(o: str = Depends(outer)) -> Iterator[str]:
        events.append("enter inner")
        yield "inner"
        events.append("exit inner")

    app = Kettle(__name__)

    @app.get("/")
    async def handler(tasks: BackgroundTasks, i: str = Depends(inner)) -> Any:
        events.append("handler")
        if with_task:
            tasks.add_task(events.append, "task 1")

            async def second() -> None:
                events.append("task 2")

            tasks.add_task(second)
        return produce()

    return app


RETURNS = [
    pytest.param(lambda: {"ok": True}, id="dict"),
    pytest.param(lambda: "<p>ok</p>", id="html"),
    pytest.param(lambda: PlainTextResponse("ok"), id="response"),
    pytest.param(lambda: None, id="none"),
]


@pytest.mark.parametrize("with_task", [True, False], ids=["tasks", "no-tasks"])
@pytest.mark.parametrize("produce", RETURNS)
def test_order_response_then_background_then_teardown_newest_first(
    produce: Callable[[], Any], with_task: bool
) -> None:
    events: list[str] = []
    app = ordered_app(events, produce, with_task)
    assert TestClient(recording(app, events)).get("/").status_code == 200
    tasks = ["task 1", "task 2"] if with_task else []
    assert events == [
        "enter outer",
        "enter inner",
        "handler",
        "response sent",
        *tasks,
        "exit inner",
        "exit outer",
    ]


def test_a_failing_background_task_is_logged_and_teardown_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    def resource() -> Iterator[None]:
        yield
        events.append("teardown")

    def broken() -> None:
        raise RuntimeError("task failed")

    app = Kettle(__name__)

    @app.get("/")
    def handler(tasks: BackgroundTasks, r: None = Depends(resource)) -> dict[str, bool]:
        tasks.add_task(broken)
        tasks.add_task(events.append, "next task")
        return {"ok": True}

    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        assert TestClient(app).get("/").json() == {"ok": True}
    assert events == ["next task", "teardown"]
    assert "broken" in caplog.text


def test_background_tasks_from_a_dependency_join_the_handlers() -> None:
    done: list[str] = []

    def audit(tasks: BackgroundTasks) -> None:
        tasks.add_task(done.append, "audit")

    app = Kettle(__name__)

    @app.get("/", dependencies=[Depends(audit)])
    def handler(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(done.append, "handler")
        return {"ok": True}

    assert TestClient(app).get("/").json() == {"ok": True}
    assert done == ["audit", "handler"]


# -- exceptions and yield dependencies ----------------------------------------------------------


FAILURES = [
    pytest.param(None, 200, None, id="no-error"),
    pytest.param(HTTPException(418, "teapot"), 418, "HTTPException", id="http-exception"),
    pytest.param(ValueError("boom"), 500, "ValueError", id="unhandled"),
]


@pytest.mark.parametrize("generator", ["async", "sync"])
@pytest.mark.parametrize(("failure", "status", "seen"), FAILURES)
def test_the_handlers_exception_is_visible_inside_a_yield_dependency(
    failure: Exception | None, status: int, seen: str | None, generator: str
) -> None:
    events: list[str] = []

    async def async_tx() -> AsyncIterator[str]:
        try:
            yield "tx"
        except Exception as exc:
            events.append(f"rollback after {type(exc).__name__}")
            raise
        else:
            events.append("commit")
        finally:
            events.append("closed")

    def sync_tx() -> Iterator[str]:
        try:
            yield "tx"
        except Exception as exc:
            events.append(f"rollback after {type(exc).__name__}")
            raise
        else:
            events.append("commit")
        finally:
            events.append("closed")

    app = Kettle(__name__)

    @app.get("/")
    async def handler(tx: str = Depends(async_tx if generator == "async" else sync_tx)) -> Any:
        if failure is not None:
            raise failure
        return {"tx": tx}

    client = TestClient(recording(app, events), raise_server_exceptions=False)
    assert client.get("/").status_code == status
    if seen is None:
        # A success closes the dependency once the response is out.
        assert events == ["response sent", "commit", "closed"]
    else:
        # A failure reaches the dependency first: it may answer with an error of its own.
        assert events == [f"rollback after {seen}", "closed", "response sent"]


@pytest.mark.parametrize("generator", ["async", "sync"])
def test_a_yield_dependency_can_turn_the_handlers_error_into_an_http_error(
    generator: str,
) -> None:
    class OwnerError(Exception):
        pass

    async def async_owner() -> AsyncIterator[str]:
        try:
            yield "Rick"
        except OwnerError as exc:
            raise HTTPException(400, f"Owner error: {exc}") from exc

    def sync_owner() -> Iterator[str]:
        try:
            yield "Rick"
        except OwnerError as exc:
            raise HTTPException(400, f"Owner error: {exc}") from exc

    app = Kettle(__name__)

    @app.get("/items/{item_id}")
    async def item(
        item_id: str, owner: str = Depends(async_owner if generator == "async" else sync_owner)
    ) -> dict[str, str]:
        if item_id == "plumbus":
            raise OwnerError(owner)
        return {"item": item_id}

    client = TestClient(app)
    response = client.get("/items/plumbus")
    assert response.status_code == 400
    assert response.json() == {"detail": "Owner error: Rick"}
    assert client.get("/items/portal-gun").json() == {"item": "portal-gun"}


def test_an_error_in_teardown_is_logged_and_other_teardowns_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[str] = []

    def first() -> Iterator[None]:
        try:
            yield
        except RuntimeError as exc:
            events.append(f"first saw {exc}")
            raise
        finally:
            events.append("first closed")

    def second(f: None = Depends(first)) -> Iterator[None]:
        yield
        raise RuntimeError("cannot close")

    app = Kettle(__name__)

    @app.get("/")
    def handler(s: None = Depends(second)) -> dict[str, bool]:
        return {"ok": True}

    with caplog.at_level(logging.ERROR, logger="kettle.error"):
        assert TestClient(app).get("/").json() == {"ok": True}
    # Older dependencies see the newer one's teardown error, as in nested with-blocks.
    assert events == ["first saw cannot close", "first closed"]
    assert "teardown" in caplog.text


def test_dependency_raising_http_exception_stops_before_the_handler() -> None:
    events: list[str] = []

    def opened() -> Iterator[None]:
        events.append("opened")
        try:
            yield
        except HTTPException as exc:
            events.append(f"saw {exc.status_code}")
            raise
        finally:
            events.append("closed")

    def auth(authorization: Annotated[str | None, Header()] = None) -> str:
        if authorization != "Bearer good":
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
        return "alice"

    def later() -> None:
        events.append("later dependency")

    app = Kettle(__name__)

    @app.get("/me")
    def me(
        o: None = Depends(opened), user: str = Depends(auth), x: None = Depends(later)
    ) -> dict[str, str]:
        events.append("handler")
        return {"user": user}

    client = TestClient(app)
    r = client.get("/me")
    assert (r.status_code, r.json(), r.headers["www-authenticate"]) == (
        401,
        {"detail": "Not authenticated"},
        "Bearer",
    )
    assert events == ["opened", "saw 401", "closed"]
    events.clear()
    assert client.get("/me", headers={"Authorization": "Bearer good"}).json() == {"user": "alice"}
    assert events == ["opened", "later dependency", "handler", "closed"]


# -- validation errors across dependencies -------------------------------------------------------


def test_errors_are_accumulated_across_dependencies() -> None:
    called: list[str] = []

    def needs_page(page: int) -> int:
        called.append("page")
        return page

    def needs_token(x_token: Annotated[str, Header(min_length=8)]) -> str:
        called.append("token")
        return x_token

    def uses_page(p: int = Depends(needs_page)) -> int:
        called.append("uses page")
        return p

    app = Kettle(__name__)

    @app.get("/")
    def handler(p: int = Depends(uses_page), t: str = Depends(needs_token)) -> dict[str, Any]:
        return {"p": p, "t": t}

    client = TestClient(app)
    errors = detail(client.get("/", headers={"x-token": "short"}))
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["query", "page"], "missing"),
        (["header", "x-token"], "string_too_short"),
    ]
    assert called == []  # nothing whose inputs failed ran, nor anything depending on it
    assert client.get("/?page=2", headers={"x-token": "long-enough"}).json() == {
        "p": 2,
        "t": "long-enough",
    }


def test_handler_errors_are_reported_with_dependency_errors() -> None:
    def needs_page(page: int) -> int:
        return page

    app = Kettle(__name__)

    @app.get("/")
    def handler(limit: int, p: int = Depends(needs_page)) -> dict[str, int]:
        return {"p": p, "limit": limit}

    errors = detail(TestClient(app).get("/?limit=x"))
    assert sorted(e["loc"][1] for e in errors) == ["limit", "page"]


# -- overrides -------------------------------------------------------------------------------------


def real_db() -> str:
    return "real"


def fake_db() -> str:
    return "fake"


def repository(db: str = Depends(real_db)) -> str:
    return f"repo({db})"


def overrides_app() -> tuple[Kettle, TestClient]:
    app = Kettle(__name__)

    @app.get("/")
    def handler(repo: str = Depends(repository), db: str = Depends(real_db)) -> dict[str, str]:
        return {"repo": repo, "db": db}

    client = TestClient(app)
    assert client.get("/").json() == {"repo": "repo(real)", "db": "real"}  # compiled
    return app, client


SET_STYLES = [
    pytest.param(lambda app: app.dependency_overrides.__setitem__(real_db, fake_db), id="item"),
    pytest.param(lambda app: app.dependency_overrides.update({real_db: fake_db}), id="update"),
    pytest.param(
        lambda app: app.dependency_overrides.setdefault(real_db, fake_db),
        id="setdefault",
    ),
    pytest.param(lambda app: app.dependency_overrides.__ior__({real_db: fake_db}), id="ior"),
    pytest.param(
        lambda app: setattr(app, "dependency_overrides", {real_db: fake_db}),
        id="assign",
    ),
]


@pytest.mark.parametrize("set_override", SET_STYLES)
def test_overrides_set_after_the_first_request_take_effect(
    set_override: Callable[[Kettle], Any],
) -> None:
    app, client = overrides_app()
    set_override(app)
    assert client.get("/").json() == {"repo": "repo(fake)", "db": "fake"}


UNSET_STYLES = [
    pytest.param(lambda app: app.dependency_overrides.__delitem__(real_db), id="del"),
    pytest.param(lambda app: app.dependency_overrides.pop(real_db), id="pop"),
    pytest.param(lambda app: app.dependency_overrides.clear(), id="clear"),
    pytest.param(lambda app: app.dependency_overrides.popitem(), id="popitem"),
    pytest.param(lambda app: setattr(app, "dependency_overrides", {}), id="assign"),
    # FastAPI's tests reset overrides this way.
    pytest.param(lambda app: setattr(app, "dependency_overrides", None), id="assign-none"),
]


@pytest.mark.parametrize("unset_override", UNSET_STYLES)
def test_removing_an_override_restores_the_dependency(
    unset_override: Callable[[Kettle], Any],
) -> None:
    app, client = overrides_app()
    app.dependency_overrides[real_db] = fake_db
    assert client.get("/").json() == {"repo": "repo(fake)", "db": "fake"}
    unset_override(app)
    assert client.get("/").json() == {"repo": "repo(real)", "db": "real"}


def test_an_override_brings_its_own_parameters_and_kind() -> None:
    app, client = overrides_app()
    closed: list[str] = []

    async def scoped_db(x_tenant: Annotated[str, Header()]) -> AsyncIterator[str]:
        yield f"tenant {x_tenant}"
        closed.append(x_tenant)

    app.dependency_overrides[real_db] = scoped_db
    r = client.get("/", headers={"x-tenant": "t1"})
    assert r.json() == {"repo": "repo(tenant t1)", "db": "tenant t1"}
    assert closed == ["t1"]
    assert detail(client.get("/"))[0]["loc"] == ["header", "x-tenant"]


def test_overrides_apply_to_route_and_router_dependencies() -> None:
    calls: list[str] = []

    def guard() -> None:
        calls.append("guard")

    router = Router(prefix="/r", dependencies=[Depends(guard)])

    @router.get("/")
    def in_router() -> dict[str, bool]:
        return {"ok": True}

    app = Kettle(__name__)
    app.include_router(router)

    @app.get("/", dependencies=[Depends(guard)])
    def at_route() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    client.get("/")
    client.get("/r/")
    app.dependency_overrides[guard] = lambda: calls.append("stand-in")
    client.get("/")
    client.get("/r/")
    assert calls == ["guard", "guard", "stand-in", "stand-in"]


# -- app-scoped dependencies ----------------------------------------------------------------------


def app_scoped_app(events: list[str]) -> Kettle:
    async def pool() -> AsyncIterator[dict[str, int]]:
        events.append("pool open")
        yield {"id": len(events)}
        events.append("pool closed")

    def settings() -> Iterator[dict[str, str]]:
        events.append("settings loaded")
        yield {"dsn": "db://"}
        events.append("settings dropped")

    async def engine(
        p: dict[str, int] = Depends(pool, scope="app"),
        s: dict[str, str] = Depends(settings, scope="app"),
    ) -> dict[str, Any]:
        events.append("engine built")
        return {"pool": p, "dsn": s["dsn"]}

    def connection(e: dict[str, Any] = Depends(engine, scope="app")) -> Iterator[str]:
        events.append("connection")
        yield f"conn@{e['dsn']}"
        events.append("connection closed")

    app = Kettle(__name__)

    @app.get("/a")
    async def a(
        c: str = Depends(connection), e: dict[str, Any] = Depends(engine, scope="app")
    ) -> dict[str, Any]:
        return {"c": c, "engine": id(e)}

    @app.get("/b")
    async def b(e: dict[str, Any] = Depends(engine, scope="app")) -> dict[str, Any]:
        return {"engine": id(e)}

    return app


def test_app_scoped_dependencies_live_from_startup_to_shutdown() -> None:
    events: list[str] = []
    app = app_scoped_app(events)
    with TestClient(app) as client:
        assert events == ["pool open", "settings loaded", "engine built"]
        first = client.get("/a").json()
        second = client.get("/a").json()
        other = client.get("/b").json()
        assert first == second == {"c": "conn@db://", "engine": other["engine"]}
        assert events[3:] == ["connection", "connection closed"] * 2
    assert events[-2:] == ["settings dropped", "pool closed"]
    assert events.count("engine built") == 1


def test_app_scoped_dependency_is_created_once_under_concurrency_without_lifespan() -> None:
    created: list[int] = []

    async def expensive() -> AsyncIterator[int]:
        await anyio.sleep(0.02)
        created.append(1)
        yield len(created)

    app = Kettle(__name__)

    @app.get("/")
    async def handler(v: int = Depends(expensive, scope="app")) -> dict[str, int]:
        return {"v": v}

    results: list[int] = []

    async def main() -> None:
        client = AsyncTestClient(app)  # no lifespan: created lazily by the first requests

        async def one() -> None:
            results.append((await client.get("/")).json()["v"])

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(one)
        await client.aclose()

    anyio.run(main)
    assert results == [1] * 10
    assert created == [1]


def _needs_request(q: int) -> int:
    return q


def _request_scoped() -> int:
    return 1


def _app_on_request(v: int = Depends(_request_scoped)) -> int:
    return v


# -- declaration errors found at startup ----------------------------------------------------------


def _cycle_a(b: Any = None) -> int:
    return 1


def _cycle_b(a: Any = Depends(_cycle_a)) -> int:
    return 1


_cycle_a.__defaults__ = (Depends(_cycle_b),)


def _self_cycle(me: Any = None) -> int:
    return 1


_self_cycle.__defaults__ = (Depends(_self_cycle),)


def cycle_handler(v: Any = Depends(_cycle_a)) -> None: ...


def self_cycle_handler(v: Any = Depends(_self_cycle)) -> None: ...


def app_param_handler(v: Any = Depends(_needs_request, scope="app")) -> None: ...


def app_on_request_handler(v: Any = Depends(_app_on_request, scope="app")) -> None: ...


def bare_depends_handler(v=Depends()) -> None:  # type: ignore[no-untyped-def]
    ...


STARTUP_ERRORS = [
    pytest.param(cycle_handler, "dependency cycle", id="cycle"),
    pytest.param(self_cycle_handler, "dependency cycle", id="self-cycle"),
    pytest.param(bare_depends_handler, "needs a class annotation", id="bare-depends"),
    pytest.param(app_param_handler, "cannot take request parameters", id="app-scope-params"),
    pytest.param(app_on_request_handler, "only depend on other app-scoped", id="app-on-request"),
]


@pytest.mark.parametrize(("handler", "message"), STARTUP_ERRORS)
@pytest.mark.parametrize("when", ["startup", "first request"])
def test_declaration_errors_raise_configuration_error(
    handler: Callable[..., Any], message: str, when: str
) -> None:
    app = Kettle(__name__)
    app.add_route("/", handler)
    client = TestClient(app)
    start: Callable[[], Any] = client.__enter__ if when == "startup" else lambda: client.get("/")
    with pytest.raises(ConfigurationError, match=message):
        start()


def test_a_cycle_error_names_the_handler_and_the_chain() -> None:
    app = Kettle(__name__)
    app.add_route("/", cycle_handler)
    with pytest.raises(ConfigurationError) as info:
        app.compile()
    text = str(info.value)
    assert text.index("cycle_handler") < text.index("_cycle_a") < text.index("_cycle_b")


@pytest.mark.parametrize("handler", [app_param_handler, app_on_request_handler])
def test_dependency_declaration_errors_name_the_handler(handler: Callable[..., Any]) -> None:
    app = Kettle(__name__)
    app.add_route("/", handler)
    with pytest.raises(ConfigurationError, match=handler.__name__):
        app.compile()


def test_depends_rejects_an_unknown_scope() -> None:
    with pytest.raises(ValueError, match="scope must be"):
        Depends(real_db, scope="session")


# -- route, router and include_router dependencies ----------------------------------------------


def test_route_router_and_include_dependencies_run_outermost_first() -> None:
    events: list[str] = []

    def mark(name: str) -> Callable[[], str]:
        def dependency() -> str:
            events.append(name)
            return name  # discarded: declared in dependencies=[...]

        dependency.__name__ = name
        return dependency

    inner = Router(prefix="/inner", dependencies=[Depends(mark("inner router"))])

    @inner.get("/leaf", dependencies=[Depends(mark("route"))])
    def leaf(v: str = Depends(mark("parameter"))) -> dict[str, str]:
        events.append("handler")
        return {"v": v}

    outer = Router(prefix="/outer", dependencies=[Depends(mark("outer router"))])
    outer.include_router(inner, dependencies=[Depends(mark("include inner"))])
    app = Kettle(__name__)
    app.include_router(outer, prefix="/api", dependencies=[Depends(mark("include outer"))])

    @app.get("/plain")
    def plain() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.get("/api/outer/inner/leaf").json() == {"v": "parameter"}
    assert events == [
        "include outer",
        "outer router",
        "include inner",
        "inner router",
        "route",
        "parameter",
        "handler",
    ]
    events.clear()
    assert client.get("/plain").json() == {"ok": True}
    assert events == []


def test_route_dependencies_must_be_depends() -> None:
    app = Kettle(__name__)
    app.add_route("/", real_db, dependencies=[real_db])
    with pytest.raises(ConfigurationError, match="takes Depends"):
        app.compile()


def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
    if x_token != "secret":
        raise HTTPException(403, "Forbidden")
    return x_token


def test_app_level_dependencies_apply_to_http_and_websocket_routes() -> None:
    app = Kettle(__name__, dependencies=[Depends(require_token)])  # type: ignore[call-arg]

    @app.get("/")
    def index() -> dict[str, bool]:
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("in")

    client = TestClient(app)
    assert client.get("/").status_code == 403
    assert client.get("/", headers={"x-token": "secret"}).json() == {"ok": True}
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws"):
        pass  # pragma: no cover


# -- WebSocket routes ------------------------------------------------------------------------------


def websocket_app(events: list[str]) -> Kettle:
    async def connection_log() -> AsyncIterator[None]:
        events.append("open")
        yield
        events.append("teardown")

    def current_user(x_token: str = Depends(require_token)) -> str:
        return f"user:{x_token}"

    async def echo(websocket: WebSocket, user: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"{user} {await websocket.receive_text()}")
        await websocket.close()

    guarded = Router(prefix="/router", dependencies=[Depends(require_token)])

    @guarded.websocket("/ws")
    async def router_ws(websocket: WebSocket, log: None = Depends(connection_log)) -> None:
        await echo(websocket, "anyone")

    included = Router()

    @included.websocket("/ws")
    async def included_ws(websocket: WebSocket, count: int = 1) -> None:
        await echo(websocket, f"count={count}")

    app = Kettle(__name__)
    app.include_router(guarded)
    app.include_router(included, prefix="/included", dependencies=[Depends(require_token)])

    @app.websocket("/route", dependencies=[Depends(require_token)])
    async def route_ws(websocket: WebSocket) -> None:
        await echo(websocket, "route")

    @app.websocket("/param")
    async def param_ws(websocket: WebSocket, user: str = Depends(current_user)) -> None:
        await echo(websocket, user)

    return app


WS_PATHS = ["/router/ws", "/included/ws", "/route", "/param"]


@pytest.mark.parametrize("path", WS_PATHS)
def test_websocket_dependencies_reject_the_handshake(path: str) -> None:
    events: list[str] = []
    client = TestClient(websocket_app(events))
    for headers in ({}, {"x-token": "wrong"}):
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect(path, headers=headers),
        ):
            pass  # pragma: no cover - the handshake is refused
        assert info.value.code == 1008
        assert info.value.reason == "Forbidden"
    assert "open" not in events


@pytest.mark.parametrize(
    ("path", "reply"),
    [
        ("/router/ws", "anyone hi"),
        ("/included/ws?count=3", "count=3 hi"),
        ("/route", "route hi"),
        ("/param", "user:secret hi"),
    ],
)
def test_websocket_dependencies_pass_with_credentials(path: str, reply: str) -> None:
    events: list[str] = []
    client = TestClient(websocket_app(events))
    with client.websocket_connect(path, headers={"x-token": "secret"}) as session:
        session.send_text("hi")
        assert session.receive_text() == reply
    if path == "/router/ws":
        assert events == ["open", "teardown"]


def test_websocket_parameter_validation_rejects_the_handshake() -> None:
    client = TestClient(websocket_app([]))
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("/included/ws?count=many", headers={"x-token": "secret"}),
    ):
        pass  # pragma: no cover
    assert info.value.code == 1008


# -- security scopes -------------------------------------------------------------------------------


def test_security_scopes_accumulate_along_the_chain() -> None:
    seen: list[list[str]] = []

    def token(scopes: SecurityScopes) -> str:
        seen.append(scopes.scopes)
        return scopes.scope_str

    def reader(t: str = Security(token, scopes=["items:read"])) -> str:
        return t

    app = Kettle(__name__)

    @app.get("/items")
    def items(r: str = Security(reader, scopes=["me"])) -> dict[str, str]:
        return {"scopes": r}

    @app.get("/plain")
    def plain(t: str = Depends(token)) -> dict[str, str]:
        return {"scopes": t}

    client = TestClient(app)
    assert client.get("/items").json() == {"scopes": "me items:read"}
    assert client.get("/plain").json() == {"scopes": ""}
    assert seen == [["me", "items:read"], []]


# -- a dependency can shape the response -----------------------------------------------------------


def test_dependency_receives_response_and_request() -> None:
    def tag(request: Request, response: Response) -> str:
        response.headers["X-Request-Path"] = request.url.path
        response.set_cookie("seen", "1")
        return "tagged"

    app = Kettle(__name__)

    @app.get("/tag")
    def handler(t: str = Depends(tag)) -> dict[str, str]:
        return {"t": t}

    r = TestClient(app).get("/tag")
    assert r.json() == {"t": "tagged"}
    assert r.headers["x-request-path"] == "/tag"
    assert r.headers["set-cookie"].startswith("seen=1")


def test_a_function_scoped_yield_dependency_closes_before_the_response_is_sent() -> None:
    events: list[str] = []

    def session() -> Iterator[str]:
        try:
            yield "db"
        finally:
            events.append("function closed")

    def request_wide() -> Iterator[str]:
        try:
            yield "tx"
        finally:
            events.append("request closed")

    app = Kettle(__name__)

    @app.get("/")
    async def handler(
        db: str = Depends(session, scope="function"), tx: str = Depends(request_wide)
    ) -> dict[str, str]:
        events.append("handler")
        return {"db": db, "tx": tx}

    client = TestClient(recording(app, events))
    assert client.get("/").json() == {"db": "db", "tx": "tx"}
    assert events == ["handler", "function closed", "response sent", "request closed"]


def test_an_unknown_dependency_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="'request', 'function' or 'app'"):
        Depends(lambda: 1, scope="session")


def test_a_dependency_under_security_scopes_is_still_one_per_request() -> None:
    """A session (or any dependency that does not read SecurityScopes) reached both
    through ``Security(..., scopes=[...])`` and directly is made once per request: two
    would hold two pooled connections, and a pool of N serves only N/2 requests."""
    from kettle.security import SecurityScopes

    app = Kettle(__name__)
    opened: list[int] = []
    scopes_seen: list[list[str]] = []

    async def session() -> AsyncIterator[int]:
        opened.append(len(opened))
        yield opened[-1]

    async def user(scopes: SecurityScopes, db: Annotated[int, Depends(session)]) -> int:
        scopes_seen.append(scopes.scopes)
        return db

    @app.get("/")
    async def index(
        who: Annotated[int, Security(user, scopes=["read"])],
        db: Annotated[int, Depends(session)],
    ) -> dict[str, int]:
        return {"who": who, "db": db}

    assert TestClient(app).get("/").json() == {"who": 0, "db": 0}
    assert opened == [0]
    assert scopes_seen == [["read"]]


# -- wrapped dependencies: a plain def wrapper of an async def is awaited -----------------------


def _plain_wrapper(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@_plain_wrapper
async def _wrapped_coroutine() -> str:
    return "coroutine"


@_plain_wrapper
async def _wrapped_async_generator() -> AsyncIterator[str]:
    yield "async generator"


@_plain_wrapper
def _wrapped_generator() -> Iterator[str]:
    yield "generator"


class _WrappedCall:
    @_plain_wrapper
    async def __call__(self) -> str:
        return "instance"


@pytest.mark.parametrize(
    ("dependency", "expected"),
    [
        (_wrapped_coroutine, "coroutine"),
        (_wrapped_async_generator, "async generator"),
        (_wrapped_generator, "generator"),
        (functools.partial(_wrapped_coroutine), "coroutine"),
        (_WrappedCall(), "instance"),
    ],
    ids=["coroutine", "async-generator", "generator", "partial", "instance"],
)
def test_a_wrapped_dependency_is_read_as_the_function_it_wraps(
    dependency: Callable[..., Any], expected: str
) -> None:
    app = Kettle(__name__)

    @app.get("/")
    async def handler(value: Annotated[str, Depends(dependency)]) -> dict[str, str]:
        return {"value": value}

    assert TestClient(app).get("/").json() == {"value": expected}
