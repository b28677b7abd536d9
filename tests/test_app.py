"""The application: error handling, lifespan, middleware, thread pool, compile step."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import kettle
from kettle import (
    HTTPException,
    JSONResponse,
    Kettle,
    Middleware,
    PlainTextResponse,
    Request,
    abort,
)
from kettle.testing import TestClient
from kettle.types import Message, Receive, Scope, Send


class TestErrors:
    def test_http_exception_with_detail_and_headers(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        async def index() -> None:
            raise HTTPException(404, "Item not found", headers={"X-Error": "missing"})

        response = TestClient(app).get("/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Item not found"}
        assert response.headers["x-error"] == "missing"

    @pytest.mark.parametrize(
        ("status", "detail", "body"),
        [
            (403, None, {"detail": "Forbidden"}),
            (400, {"field": "x"}, {"detail": {"field": "x"}}),
            (499, None, {"detail": "Error"}),
        ],
    )
    def test_abort(self, status: int, detail: Any, body: Any) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> None:
            abort(status, detail)

        response = TestClient(app).get("/")
        assert (response.status_code, response.json()) == (status, body)

    def test_unhandled_error_is_500_without_traceback_and_logged(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = Kettle(__name__)

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("secret database password")

        with caplog.at_level(logging.ERROR, logger="kettle.error"):
            response = TestClient(app).get("/boom")
        assert response.status_code == 500
        assert response.json() == {"detail": "Internal Server Error"}
        assert "secret" not in response.text
        assert "Traceback" not in response.text
        assert any(
            "secret database password" in r.getMessage() or r.exc_info for r in caplog.records
        )

    def test_handlers_by_status_class_and_mro(self) -> None:
        app = Kettle(__name__)

        @app.exception_handler(404)
        async def not_found(request: Request, exc: HTTPException) -> Any:
            return JSONResponse({"missing": request.path}, status_code=404)

        @app.errorhandler(LookupError)  # Flask spelling and Flask signature (exc only)
        def lookup(exc: LookupError) -> Any:
            return {"lookup": type(exc).__name__}, 409

        @app.exception_handler(HTTPException)
        async def other_http(request: Request, exc: HTTPException) -> Any:
            return PlainTextResponse(f"http {exc.status_code}", status_code=exc.status_code)

        @app.get("/key")
        async def key() -> None:
            raise KeyError("k")

        @app.get("/teapot")
        async def teapot() -> None:
            raise HTTPException(418)

        client = TestClient(app)
        assert client.get("/nowhere").json() == {"missing": "/nowhere"}
        assert client.get("/key").json() == {"lookup": "KeyError"}
        assert client.get("/key").status_code == 409
        assert client.get("/teapot").text == "http 418"
        # A 405 from the router goes through the HTTPException handler too.
        assert client.post("/key").text == "http 405"

    def test_500_handler_and_exception_handler(self) -> None:
        for key in (500, Exception):
            app = Kettle(__name__)

            @app.exception_handler(key)
            async def oops(request: Request, exc: Exception) -> Any:
                return PlainTextResponse("custom 500", status_code=500)

            @app.get("/")
            async def index() -> None:
                raise ValueError

            assert TestClient(app).get("/").text == "custom 500"

    def test_failing_error_handler_falls_back_to_plain_500(self) -> None:
        app = Kettle(__name__)

        @app.exception_handler(500)
        async def broken(request: Request, exc: Exception) -> Any:
            raise RuntimeError("handler bug")

        @app.get("/")
        async def index() -> None:
            raise ValueError

        response = TestClient(app).get("/")
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})

    @pytest.mark.parametrize(
        ("key", "error"), [("404", TypeError), (3.5, TypeError), (object, ValueError)]
    )
    def test_bad_handler_key_is_refused_when_registered(
        self, key: Any, error: type[Exception]
    ) -> None:
        app = Kettle(__name__)
        with pytest.raises(error):
            app.add_exception_handler(key, lambda exc: None)

    def test_handler_with_wrong_arity_is_a_configuration_error(self) -> None:
        app = Kettle(__name__)
        app.add_exception_handler(404, lambda a, b, c: None)
        with pytest.raises(kettle.ConfigurationError, match=r"\(exc\) or \(request, exc\)"):
            app.compile()


class TestLifespan:
    def test_context_manager_hooks_and_order(self) -> None:
        events: list[str] = []

        @contextlib.asynccontextmanager
        async def lifespan(app: Kettle) -> AsyncIterator[None]:
            events.append("lifespan enter")
            yield
            events.append("lifespan exit")

        app = Kettle(__name__, lifespan=lifespan, on_startup=[lambda: events.append("startup")])

        @app.on_shutdown
        async def bye() -> None:
            events.append("shutdown")

        with pytest.warns(DeprecationWarning, match="lifespan"):

            @app.on_event("startup")
            def also() -> None:
                events.append("startup 2")

        with TestClient(app):
            events.append("serving")
        assert events == [
            "startup",
            "startup 2",
            "lifespan enter",
            "serving",
            "lifespan exit",
            "shutdown",
        ]

    def test_async_generator_function_is_accepted(self) -> None:
        async def lifespan(app: Kettle) -> AsyncIterator[dict[str, int]]:
            yield {"answer": 42}

        app = Kettle(__name__, lifespan=lifespan)

        @app.get("/")
        async def index(request: Request) -> int:
            return int(request.state.answer)

        with TestClient(app) as client:
            assert client.get("/").json() == 42

    def test_startup_failure_raises_from_the_client(self) -> None:
        async def lifespan(app: Kettle) -> AsyncIterator[None]:
            raise RuntimeError("cannot connect")
            yield

        app = Kettle(__name__, lifespan=lifespan)
        with pytest.raises(RuntimeError, match="cannot connect"), TestClient(app):
            pass  # pragma: no cover - never reached

    def test_unknown_event_rejected(self) -> None:
        with pytest.raises(ValueError, match="unknown event"):
            Kettle(__name__).on_event("boot")

    def test_compile_errors_surface_at_startup(self) -> None:
        app = Kettle(__name__)
        app.add_route("/{x:bogus}", lambda x: x)
        with pytest.raises(kettle.ConfigurationError), TestClient(app):
            pass  # pragma: no cover - never reached


class Tagging:
    """A pure-ASGI middleware appending its name to a response header."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-order", self.name.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


class Exploding:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("middleware bug")
        await self.app(scope, receive, send)


class TestMiddleware:
    def test_order_last_added_is_outermost(self) -> None:
        app = Kettle(__name__, middleware=[Middleware(Tagging, name="declared")])
        app.add_middleware(Tagging, name="inner")
        app.add_middleware(Tagging, name="outer")

        @app.get("/")
        async def index() -> str:
            return "x"

        response = TestClient(app).get("/")
        # Headers are appended on the way out: innermost first.
        assert response.headers.get_list("x-order") == ["declared", "inner", "outer"]

    def test_exception_in_middleware_is_a_clean_500(self) -> None:
        app = Kettle(__name__)
        app.add_middleware(Exploding)

        @app.get("/")
        async def index() -> str:  # pragma: no cover - never reached
            return "x"

        response = TestClient(app).get("/")
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})

    def test_middleware_sees_lifespan(self) -> None:
        started: list[bool] = []
        app = Kettle(__name__, on_startup=[lambda: started.append(True)])
        app.add_middleware(Tagging, name="x")
        with TestClient(app):
            pass
        assert started == [True]


class TestThreadPool:
    def test_sync_handlers_run_in_worker_threads(self) -> None:
        app = Kettle(__name__)
        main = threading.get_ident()

        @app.get("/sync")
        def sync() -> bool:
            return threading.get_ident() != main

        @app.get("/inline", sync_to_thread=False)
        def inline() -> bool:
            return threading.get_ident() != main

        client = TestClient(app)
        assert client.get("/sync").json() is True
        # The test client runs the loop in its own thread: "inline" means that thread.
        assert client.get("/inline").json() is True

    def test_pool_is_bounded(self) -> None:
        app = Kettle(__name__, thread_pool_size=2)
        lock = threading.Lock()
        running = peak = 0

        @app.get("/slow")
        def slow() -> int:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return peak

        async def main() -> None:
            from kettle.testing import AsyncTestClient

            async with AsyncTestClient(app) as client, anyio.create_task_group() as tg:
                for _ in range(6):
                    tg.start_soon(client.get, "/slow")

        anyio.run(main)
        assert peak == 2

    def test_blocking_sync_handler_does_not_stall_async_ones(self) -> None:
        app = Kettle(__name__)
        finished: list[str] = []

        @app.get("/block")
        def block() -> str:
            time.sleep(0.3)
            finished.append("block")
            return "done"

        @app.get("/fast")
        async def fast() -> str:
            finished.append("fast")
            return "fast"

        async def main() -> None:
            from kettle.testing import AsyncTestClient

            async with AsyncTestClient(app) as client, anyio.create_task_group() as tg:
                tg.start_soon(client.get, "/block")
                await anyio.sleep(0.05)
                await client.get("/fast")

        anyio.run(main)
        assert finished == ["fast", "block"]


def test_public_names_are_locked() -> None:
    assert sorted(kettle.__all__) == sorted(
        [
            "URL",
            "BackgroundTasks",
            "Body",
            "Cookie",
            "Depends",
            "File",
            "Form",
            "Header",
            "Path",
            "Query",
            "Security",
            "SecurityScopes",
            "Blueprint",
            "AccessLogMiddleware",
            "MetricsMiddleware",
            "EventSourceResponse",
            "ServerSentEvent",
            "TracingMiddleware",
            "current_app",
            "g",
            "request",
            "session",
            "Config",
            "flash",
            "get_flashed_messages",
            "jsonify",
            "make_response",
            "redirect",
            "send_file",
            "send_from_directory",
            "stream_with_context",
            "url_for",
            "render_template",
            "render_template_string",
            "stream_template",
            "MethodView",
            "View",
            "ConfigurationError",
            "Converter",
            "FileResponse",
            "FormData",
            "HTMLResponse",
            "Health",
            "HTTPException",
            "Headers",
            "JSONResponse",
            "Kettle",
            "Limits",
            "Middleware",
            "MutableHeaders",
            "NoMatchFound",
            "PlainTextResponse",
            "QueryParams",
            "RedirectResponse",
            "Request",
            "RequestValidationError",
            "Response",
            "Router",
            "State",
            "StreamingResponse",
            "UploadFile",
            "WebSocket",
            "WebSocketDisconnect",
            "__version__",
            "abort",
            # the named HTTP errors (NotImplemented is left in kettle.exceptions)
            "BadGateway",
            "BadRequest",
            "Conflict",
            "ExpectationFailed",
            "FailedDependency",
            "Forbidden",
            "GatewayTimeout",
            "Gone",
            "HTTPVersionNotSupported",
            "ImATeapot",
            "InternalServerError",
            "LengthRequired",
            "Locked",
            "MethodNotAllowed",
            "NotAcceptable",
            "NotFound",
            "PreconditionFailed",
            "PreconditionRequired",
            "RequestEntityTooLarge",
            "RequestHeaderFieldsTooLarge",
            "RequestTimeout",
            "RequestURITooLarge",
            "RequestedRangeNotSatisfiable",
            "ServiceUnavailable",
            "TooManyRequests",
            "Unauthorized",
            "UnavailableForLegalReasons",
            "UnprocessableEntity",
            "UnsupportedMediaType",
        ]
    )
    for name in kettle.__all__:
        assert getattr(kettle, name) is not None


def test_app_state_and_repr_free_of_side_effects() -> None:
    app = Kettle(__name__)
    app.state.counter = 1
    assert app.state.counter == 1
    with pytest.raises(AttributeError):
        _ = app.state.missing


@pytest.mark.parametrize(
    "hosts",
    [[b"a.example", b"b.example"], [b"a.example", b"a.example"], [b"x", b"y", b"z"]],
)
@pytest.mark.parametrize("path", ["/", "/missing"])
def test_more_than_one_host_header_is_a_400(hosts: list[bytes], path: str) -> None:
    # RFC 9112 3.2, under any server: a proxy and the app must not pick different hosts.
    app = Kettle(__name__)

    @app.get("/")
    def index() -> str:
        return "ok"

    headers = [("host", h.decode()) for h in hosts]
    response = TestClient(app).get(path, headers=headers)
    assert (response.status_code, response.json()) == (400, {"detail": "Duplicate Host header"})
    assert TestClient(app).get("/", headers={"host": "a.example"}).status_code == 200
