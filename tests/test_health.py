"""kettle.health through the test client: liveness, readiness before and after startup,
while draining, with checks passing, failing and timing out; custom paths, HEAD, other
methods, and every other path left to the app."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kettle import Kettle, WebSocket
from kettle.draining import DRAIN, Drain
from kettle.exceptions import ConfigurationError
from kettle.health import Check, Health
from kettle.testing import TestClient


@pytest.fixture(autouse=True)
def _fresh_drain() -> Iterator[None]:
    DRAIN.reset()
    yield
    DRAIN.reset()


def _app(**options: Any) -> tuple[Kettle, Health]:
    app = Kettle(__name__)

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"page": "index"}

    @app.get("/healthzz")
    async def near_miss() -> dict[str, str]:
        return {"page": "near miss"}

    return app, Health(app, **options)


def test_liveness_and_readiness_after_startup() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        live = client.get("/healthz")
        ready = client.get("/readyz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert live.headers["cache-control"] == "no-store"
    assert live.headers["content-type"] == "application/json"


def test_readiness_fails_until_startup_finished() -> None:
    app, _ = _app()
    client = TestClient(app)  # no `with`: the lifespan never ran
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (503, {"status": "starting"})


def test_readiness_during_a_slow_startup() -> None:
    app, health = _app()
    release = threading.Event()
    answers: list[tuple[int, Any]] = []

    @app.on_startup
    async def slow_startup() -> None:
        # Startup is still running: ask the probes from inside it, as a server that
        # accepts before startup ends would.
        answers.append(await health.readiness())
        await asyncio.get_running_loop().run_in_executor(None, release.wait, 5)

    release.set()
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
    assert answers == [(503, {"status": "starting"})]


def _passing() -> bool:
    return True


async def _async_passing() -> None:
    return None


def _returns_false() -> bool:
    return False


async def _raises() -> None:
    raise ConnectionRefusedError("postgresql://user:secret@db/app refused")


def _sync_raises() -> None:
    raise OSError("no route")


async def _hangs() -> None:
    await asyncio.sleep(10)


def _sync_hangs() -> None:
    time.sleep(1)


@pytest.mark.parametrize(
    ("check", "result"),
    [
        (_passing, "ok"),
        (_async_passing, "ok"),
        (_returns_false, "failed"),
        (_raises, "error"),
        (_sync_raises, "error"),
        (_hangs, "timeout"),
        (_sync_hangs, "timeout"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_readiness_checks(check: Check, result: str) -> None:
    app, health = _app(timeout=0.2)
    health.add_check("database", check)
    health.add_check("cache", _passing)
    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    assert elapsed < 0.9  # a hung check is abandoned at its timeout
    checks = {"database": result, "cache": "ok"}
    if result == "ok":
        assert (response.status_code, response.json()) == (
            200,
            {"status": "ready", "checks": checks},
        )
    else:
        body = {"status": "failing", "failed": ["database"], "checks": checks}
        assert (response.status_code, response.json()) == (503, body)
        assert "secret" not in response.text


def test_check_decorator_and_per_check_timeout() -> None:
    app, health = _app(timeout=5)

    @health.check("slow", timeout=0.1)
    async def slow() -> None:
        await asyncio.sleep(2)

    with TestClient(app) as client:
        started = time.monotonic()
        response = client.get("/readyz")
    assert time.monotonic() - started < 1
    assert response.json()["checks"] == {"slow": "timeout"}
    assert slow.__name__ == "slow"  # the decorator hands the function back


def test_liveness_never_runs_the_checks() -> None:
    app, health = _app()
    calls: list[int] = []
    health.add_check("counted", lambda: calls.append(1))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert calls == []
        assert client.get("/readyz").status_code == 200
        assert calls == [1]


@pytest.mark.parametrize("drain", ["start", "close_streams"])
def test_readiness_fails_while_draining(drain: str) -> None:
    app, _ = _app()
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        getattr(DRAIN, drain)()
        response = client.get("/readyz")
        assert (response.status_code, response.json()) == (503, {"status": "draining"})
        assert client.get("/healthz").status_code == 200  # still alive: not restarted
        assert client.get("/").json() == {"page": "index"}  # and still serving


def test_readiness_fails_once_lifespan_shutdown_begins() -> None:
    app, health = _app()
    seen: list[tuple[int, Any]] = []

    @app.on_shutdown
    async def record() -> None:
        seen.append(await health.readiness())

    with TestClient(app):
        pass
    assert seen == [(503, {"status": "draining"})]


def test_a_drain_of_its_own() -> None:
    drain = Drain()
    app, _ = _app(drain=drain)
    with TestClient(app) as client:
        drain.start()
        assert client.get("/readyz").status_code == 503
        assert not DRAIN.draining


@pytest.mark.parametrize(
    ("options", "live", "ready", "off"),
    [
        ({"health_path": "/live", "ready_path": "/ready"}, "/live", "/ready", "/healthz"),
        ({"health_path": "/_/health"}, "/_/health", "/readyz", "/healthz"),
        ({"ready_path": None}, "/healthz", None, "/readyz"),
        ({"health_path": None}, None, "/readyz", "/healthz"),
    ],
)
def test_custom_and_disabled_paths(
    options: dict[str, Any], live: str | None, ready: str | None, off: str
) -> None:
    app, _ = _app(**options)
    with TestClient(app) as client:
        if live is not None:
            assert client.get(live).json() == {"status": "ok"}
        if ready is not None:
            assert client.get(ready).json() == {"status": "ready"}
        assert client.get(off).status_code == 404  # the app's own answer


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_head_and_other_methods(path: str) -> None:
    app, _ = _app()
    with TestClient(app) as client:
        head = client.head(path)
        post = client.post(path)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/", "/healthzz", "/healthz/", "/readyz/x", "/HEALTHZ"])
def test_other_paths_go_to_the_app(path: str) -> None:
    app, _ = _app()
    with TestClient(app) as client, TestClient(_app()[0]) as reference:
        response = client.get(path, follow_redirects=False)
        expected = reference.get(path, follow_redirects=False)
    assert (response.status_code, response.content) == (expected.status_code, expected.content)


def test_probes_answer_before_the_apps_hooks_and_are_not_documented() -> None:
    app, _ = _app()

    @app.before_request
    def login_required() -> Any:
        from kettle import abort

        abort(401)

    with TestClient(app) as client:
        assert client.get("/").status_code == 401
        assert client.get("/readyz").status_code == 200
    assert not any(p in app.openapi()["paths"] for p in ("/healthz", "/readyz"))


def test_a_websocket_on_a_probe_path_goes_to_the_app() -> None:
    app, _ = _app()

    @app.websocket("/healthz")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("app")
        await socket.close()

    with TestClient(app) as client, client.websocket_connect("/healthz") as socket:
        assert socket.receive_text() == "app"


def test_wraps_any_asgi_app() -> None:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with TestClient(Health().wrap(asgi)) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        assert client.get("/other").status_code == 204


def test_a_recompiled_app_keeps_its_readiness() -> None:
    app, _ = _app()
    with TestClient(app) as client:

        @app.get("/late")
        async def late() -> str:
            return "late"

        assert client.get("/late").status_code == 200  # compiled again, new middleware
        assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    "options",
    [
        {"health_path": "healthz"},
        {"ready_path": "/healthz"},
        {"timeout": 0},
    ],
)
def test_configuration_mistakes(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Health(**options)


def test_duplicate_and_invalid_checks() -> None:
    health = Health(checks={"db": _passing})
    with pytest.raises(ConfigurationError, match="already"):
        health.add_check("db", _passing)
    with pytest.raises(ConfigurationError):
        health.add_check("", _passing)
    with pytest.raises(ConfigurationError):
        health.add_check("x", _passing, timeout=-1)


@pytest.mark.parametrize("include", [False, True])
def test_in_the_openapi_document_only_when_asked(include: bool) -> None:
    app, _ = _app(include_in_schema=include)
    paths = app.openapi()["paths"]
    assert ("/healthz" in paths, "/readyz" in paths) == (include, include)
    if include:
        assert paths["/readyz"]["get"]["tags"] == ["health"]
        assert "503" in paths["/readyz"]["get"]["responses"]
    with TestClient(app) as client:  # still answered by the middleware, before routing
        assert client.get("/readyz").json() == {"status": "ready"}
        assert client.post("/healthz").status_code == 405
