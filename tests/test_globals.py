"""Context locals: errors outside a context, laziness, isolation across tasks and threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from kettle.concurrency import ThreadPool
from kettle.config import DEFAULT_CONFIG, Config
from kettle.context import request_class
from kettle.flaskrequest import FlaskRequest
from kettle.globals import (
    AppContext,
    AppGlobals,
    LocalProxy,
    RequestContext,
    copy_current_request_context,
    current_app,
    current_context,
    g,
    has_app_context,
    has_request_context,
    pop_context,
    push_request_context,
    request,
    session,
)
from kettle.requests import Request
from kettle.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface


class App:
    """The least an app needs for contexts: config and a session interface."""

    def __init__(self, **config: Any) -> None:
        self.config = Config(".", DEFAULT_CONFIG)
        self.config.update(config)
        self.session_interface = SecureCookieSessionInterface()
        self.name = "test-app"


def make_request(path: str = "/") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": []})


class TestOutsideContext:
    @pytest.mark.parametrize(
        ("proxy", "message"),
        [
            (lambda: request.path, "Working outside of request context"),
            (lambda: session.get("x"), "Working outside of request context"),
            (lambda: g.user, "Working outside of application context"),
            (lambda: current_app.config, "Working outside of application context"),
        ],
    )
    def test_use_raises_a_clear_error(self, proxy: Callable[[], Any], message: str) -> None:
        with pytest.raises(RuntimeError, match=message):
            proxy()

    @pytest.mark.parametrize("proxy", [request, session, g, current_app])
    def test_unbound_proxy_is_falsy_and_says_so(self, proxy: Any) -> None:
        assert not proxy
        assert "unbound" in repr(proxy)
        assert dir(proxy) == []
        assert not hasattr(proxy, "__wrapped__")  # introspection must not blow up
        assert isinstance(proxy, LocalProxy)

    def test_request_proxy_needs_a_request_context_not_just_an_app(self) -> None:
        with AppContext(App()):
            assert has_app_context()
            assert not has_request_context()
            assert current_app.name == "test-app"  # type: ignore[attr-defined]
            with pytest.raises(RuntimeError, match="request context"):
                request.method  # noqa: B018
        assert current_context() is None
        assert not has_app_context()


class TestAppContext:
    def test_g_belongs_to_the_context_and_contexts_nest(self) -> None:
        outer_app, inner_app = App(), App()
        with AppContext(outer_app) as outer:
            g.value = "outer"
            with AppContext(inner_app):
                assert current_app._get_current_object() is inner_app  # type: ignore[attr-defined]
                assert "value" not in g
                g.value = "inner"
            assert current_app._get_current_object() is outer_app  # type: ignore[attr-defined]
            assert g.value == "outer"
            assert outer.g.value == "outer"
        assert "AppContext" in repr(outer)

    def test_push_and_pop_with_a_token(self) -> None:
        ctx = AppContext(App())
        token = ctx.push()
        assert current_context() is ctx
        pop_context(token)
        assert current_context() is None


class TestAppCtxGlobals:
    def test_attribute_bag(self) -> None:
        bag = AppGlobals()
        bag.a = 1
        assert bag.get("a") == 1
        assert bag.get("b") is None
        assert bag.get("b", 2) == 2
        assert bag.setdefault("c", 3) == 3
        assert bag.setdefault("c", 4) == 3
        assert "a" in bag
        assert "zz" not in bag
        assert list(bag) == ["a", "c"]
        assert bag.pop("a") == 1
        assert bag.pop("a", "gone") == "gone"
        with pytest.raises(KeyError, match="'b'"):
            bag.pop("b")
        with pytest.raises(AttributeError, match="'missing'"):
            bag.missing  # noqa: B018
        assert repr(bag) == "<kettle.g {'c': 3}>"


class TestLocalProxy:
    def test_forwards_everything(self) -> None:
        target: dict[str, Any] = {"a": 1}
        proxy: Any = LocalProxy(lambda: target, "target")
        proxy["b"] = 2
        assert proxy["b"] == 2
        assert "a" in proxy
        assert len(proxy) == 2
        del proxy["a"]
        assert list(proxy) == ["b"]
        assert proxy == {"b": 2}
        assert proxy != {"b": 3}
        assert str(proxy) == repr(proxy) == "{'b': 2}"
        assert isinstance(proxy, dict)
        assert proxy._get_current_object() is target
        assert "keys" in dir(proxy)
        assert bool(proxy)

    def test_attributes_calls_and_hash(self) -> None:
        class Thing:
            def __call__(self, x: int) -> int:
                return x * 2

        thing = Thing()
        proxy: Any = LocalProxy(lambda: thing)
        proxy.name = "t"
        assert thing.name == "t"  # type: ignore[attr-defined]
        del proxy.name
        assert not hasattr(thing, "name")
        assert proxy(21) == 42
        assert hash(proxy) == hash(thing)


class TestRequestContext:
    def test_needs_a_request_or_a_factory(self) -> None:
        with pytest.raises(TypeError):
            RequestContext(App())

    def test_request_is_built_once_on_first_use(self) -> None:
        built: list[Request] = []

        def factory() -> Request:
            built.append(make_request("/lazy"))
            return built[-1]

        ctx, token = push_request_context(App(), make_request=factory)
        try:
            assert ctx.created_request is None
            assert request.path == "/lazy"
            assert request.path == "/lazy"
            assert len(built) == 1
            assert ctx.created_request is built[0]
            assert isinstance(request, Request)
        finally:
            pop_context(token)

    def test_session_is_opened_only_when_touched(self) -> None:
        opened: list[int] = []

        class CountingInterface(SecureCookieSessionInterface):
            def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:
                opened.append(1)
                return super().open_session(app, request)

        app = App(SECRET_KEY="k")
        app.session_interface = CountingInterface()
        with RequestContext(app, make_request()) as ctx:
            assert not ctx.session_opened
            assert opened == []
            g.x = 1  # using g does not open the session
            assert opened == []
            assert session.get("user") is None
            assert session.get("user") is None
            assert opened == [1]
            assert ctx.session_opened
            assert session.accessed  # any use through the proxy counts as a read

    def test_null_session_without_secret_key(self) -> None:
        with RequestContext(App(), make_request()):
            assert isinstance(session._get_current_object(), NullSession)  # type: ignore[attr-defined]
            assert session.get("a") is None
            with pytest.raises(RuntimeError, match="SECRET_KEY"):
                session["a"] = 1

    def test_app_without_session_interface_says_so(self) -> None:
        # The context reads the interface from the app (a Kettle app always has one).
        class Bare:
            config: ClassVar[dict[str, Any]] = {"SECRET_KEY": "k"}

        with (
            RequestContext(Bare(), make_request()),
            pytest.raises(RuntimeError, match="Bare has no session_interface"),
        ):
            session["a"] = 1


class TestRequestClass:
    """The ``request`` proxy stands for an object of the class the app asks for."""

    SCOPE: ClassVar[dict[str, Any]] = {
        "type": "http",
        "method": "GET",
        "path": "/q",
        "query_string": b"name=ada",
        "headers": [],
    }

    def test_the_request_is_built_as_the_apps_request_class(self) -> None:
        class Custom(FlaskRequest):
            pass

        class CustomApp(App):
            request_class = Custom

        app = CustomApp()
        assert request_class(app) is Custom
        # Dispatch decides the class when the app compiles, and hands it over per request.
        new_context = RequestContext.for_dispatch(app, None, request_class(app))  # type: ignore[arg-type]
        ctx = new_context(self.SCOPE, None)  # type: ignore[arg-type]
        with ctx:
            assert type(request._get_current_object()) is Custom  # type: ignore[attr-defined]
            assert request.args["name"] == "ada"
        with RequestContext(app, make_request=lambda: Custom(self.SCOPE)):
            assert type(request._get_current_object()) is Custom  # type: ignore[attr-defined]

    def test_kettle_apps_serve_flasks_request_api(self) -> None:
        from kettle import Kettle

        app = Kettle(__name__)
        assert request_class(app) is FlaskRequest
        with app.test_request_context("/q?name=ada"):
            assert isinstance(request, Request)
            assert isinstance(request, FlaskRequest)
            assert request.args["name"] == "ada"
            assert request.view_args == {}

    def test_an_app_without_one_gets_the_core_request(self) -> None:
        assert request_class(App()) is Request
        ctx = RequestContext(App(), make_request=lambda: Request(self.SCOPE))
        assert type(ctx.request) is Request

    def test_a_request_of_another_class_is_kept_as_it_is(self) -> None:
        class Own(Request):
            pass

        own = Own(self.SCOPE)
        with RequestContext(App(), own) as ctx:
            assert ctx.request is own
            assert type(own) is Own


class TestIsolation:
    def test_concurrent_tasks_each_see_their_own_request(self) -> None:
        seen: dict[int, tuple[str, int, Any]] = {}

        async def handle(n: int) -> None:
            with RequestContext(App(SECRET_KEY="k"), make_request(f"/r{n}")):
                g.n = n
                session["n"] = n
                # Yield to the others several times, in a different order per task.
                for _ in range(n % 3 + 1):
                    await anyio.lowlevel.checkpoint()
                seen[n] = (request.path, g.n, session["n"])

        async def main() -> None:
            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(handle, n)

        anyio.run(main)
        assert seen == {n: (f"/r{n}", n, n) for n in range(50)}
        assert current_context() is None

    @pytest.mark.parametrize("via", ["anyio", "kettle-pool"])
    def test_changes_made_in_a_worker_thread_are_visible_after(self, via: str) -> None:
        main_thread = threading.get_ident()

        def sync_handler() -> int:
            assert threading.get_ident() != main_thread
            g.user = "ada"
            session["cart"] = [1, 2]  # opens the session in the thread
            return len(request.path)

        async def main() -> None:
            with RequestContext(App(SECRET_KEY="k"), make_request("/x")) as ctx:
                if via == "anyio":
                    result = await anyio.to_thread.run_sync(sync_handler)
                else:
                    result = await ThreadPool(2).run(sync_handler)
                assert result == 2
                assert g.user == "ada"
                assert ctx.session_opened
                assert session["cart"] == [1, 2]
                assert session.modified

        anyio.run(main)

    def test_threads_of_different_requests_are_isolated(self) -> None:
        results: list[str] = []

        def worker() -> str:
            return f"{request.path}:{g.get('tag')}"

        async def handle(n: int) -> None:
            with RequestContext(App(), make_request(f"/t{n}")):
                g.tag = n
                results.append(await anyio.to_thread.run_sync(worker))

        async def main() -> None:
            async with anyio.create_task_group() as tg:
                for n in range(10):
                    tg.start_soon(handle, n)

        anyio.run(main)
        assert sorted(results) == sorted(f"/t{n}:{n}" for n in range(10))

    def test_copy_current_request_context_for_a_bare_thread(self) -> None:
        out: list[str] = []
        with RequestContext(App(), make_request("/copied")):

            @copy_current_request_context
            def work() -> None:
                out.append(request.path)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        assert out == ["/copied"]

    def test_copy_current_request_context_outside_a_request(self) -> None:
        with pytest.raises(RuntimeError, match="request context"):
            copy_current_request_context(print)


@pytest.mark.parametrize("route_raises", [False, True])
def test_a_request_inside_a_pushed_app_context_leaves_its_teardown_to_it(
    route_raises: bool,
) -> None:
    from kettle import Kettle

    app = Kettle(__name__)
    seen: list[Any] = []
    app.teardown_appcontext(seen.append)

    @app.route("/")
    def index() -> str:
        if route_raises:
            raise ValueError("boom")
        return "ok"

    with app.app_context():
        app.test_client(raise_server_exceptions=False).get("/")
        assert seen == []
    assert seen == [None]


def test_custom_globals_and_config_classes() -> None:
    from kettle import Kettle
    from kettle.config import Config

    class MyConfig(Config):
        pass

    class Spam:
        spam = "eggs"

    class App(Kettle):
        config_class = MyConfig

    app = App(__name__)
    app.app_ctx_globals_class = Spam  # type: ignore[attr-defined]
    assert isinstance(app.config, MyConfig)
    with app.app_context():
        assert g.spam == "eggs"


def test_from_prefixed_env_reads_flask_and_kettle_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from kettle.config import Config

    monkeypatch.setenv("FLASK_BOTH", "1")
    monkeypatch.setenv("KETTLE_BOTH", "2")
    monkeypatch.setenv("FLASK_NEST__inner", '{"k": false}')
    config = Config()
    config.from_prefixed_env()
    assert config["BOTH"] == 2
    assert config["NEST"] == {"inner": {"k": False}}
