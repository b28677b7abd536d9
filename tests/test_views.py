"""Class-based views through the app: View and MethodView."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from kettle import Kettle
from kettle.globals import RequestContext
from kettle.requests import Request
from kettle.testing import TestClient
from kettle.views import MethodView, View, is_async_callable


def on_event_loop() -> bool:
    """False in a worker thread: where a sync handler must run."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def serve(view: Callable[..., Any], path: str = "/x", methods: Any = None) -> TestClient:
    app = Kettle(__name__)
    app.add_route(path, view, methods=methods)
    return TestClient(app)


class TestView:
    @pytest.mark.parametrize("is_async", [False, True])
    def test_path_values_arrive_as_keywords(self, is_async: bool) -> None:
        if is_async:

            class Item(View):
                async def dispatch_request(self, item_id: int, tag: str) -> dict[str, Any]:
                    return {"id": item_id, "tag": tag, "loop": on_event_loop()}

        else:

            class Item(View):  # type: ignore[no-redef]
                def dispatch_request(self, item_id: int, tag: str) -> dict[str, Any]:
                    return {"id": item_id, "tag": tag, "loop": on_event_loop()}

        view = Item.as_view("item")
        assert is_async_callable(view) is is_async
        data = serve(view, "/items/{item_id:int}/{tag}").get("/items/7/red").json()
        # A sync view runs in the thread pool, never on the event loop's thread.
        assert data == {"id": 7, "tag": "red", "loop": is_async}

    def test_constructor_arguments_and_attributes(self) -> None:
        class Greeting(View):
            """Says hello."""

            methods = ("GET", "POST")

            def __init__(self, greeting: str, *, punct: str = ".") -> None:
                self.greeting = greeting
                self.punct = punct

            async def dispatch_request(self) -> str:
                return f"{self.greeting}{self.punct}"

        view = Greeting.as_view("greet", "Hi", punct="!")
        assert view.__name__ == "greet"
        assert view.__doc__ == "Says hello."
        assert view.view_class is Greeting  # type: ignore[attr-defined]
        assert view.methods == ("GET", "POST")  # type: ignore[attr-defined]
        assert view.provide_automatic_options is None  # type: ignore[attr-defined]
        client = serve(view, methods=view.methods)  # type: ignore[attr-defined]
        assert client.get("/x").text == "Hi!"
        assert client.post("/x").text == "Hi!"

    def test_route_is_named_after_the_view(self) -> None:
        class Page(View):
            async def dispatch_request(self, slug: str) -> str:
                return slug

        app = Kettle(__name__)
        app.add_route("/pages/{slug}", Page.as_view("page"))
        assert app.url_path_for("page", slug="about") == "/pages/about"

    @pytest.mark.parametrize(("every", "expected"), [(True, [1, 1, 1]), (False, [1, 2, 3])])
    def test_init_every_request(self, every: bool, expected: list[int]) -> None:
        class Counter(View):
            init_every_request = every

            def __init__(self) -> None:
                self.count = 0

            async def dispatch_request(self) -> dict[str, int]:
                self.count += 1
                return {"n": self.count}

        client = serve(Counter.as_view("counter"))
        assert [client.get("/x").json()["n"] for _ in range(3)] == expected

    def test_decorators_wrap_in_order(self) -> None:
        def tag(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(func)
                async def wrapper(**kwargs: Any) -> str:
                    return f"{label}({await func(**kwargs)})"

                return wrapper

            return decorator

        class Wrapped(View):
            decorators = (tag("inner"), tag("outer"))

            async def dispatch_request(self, name: str) -> str:
                return name

        view = Wrapped.as_view("wrapped")
        assert view.view_class is Wrapped  # type: ignore[attr-defined]
        assert serve(view, "/w/{name}").get("/w/x").text == "outer(inner(x))"

    def test_base_class_is_abstract(self) -> None:
        with pytest.raises(NotImplementedError):
            View().dispatch_request()


class Items(MethodView):
    def get(self, item_id: int) -> dict[str, Any]:
        return {"get": item_id}

    async def post(self, item_id: int) -> dict[str, Any]:
        return {"post": item_id}

    def delete(self, item_id: int) -> dict[str, Any]:
        return {"delete": item_id, "loop": on_event_loop()}


class TestMethodView:
    def test_methods_are_inferred(self) -> None:
        assert Items.methods == {"GET", "POST", "DELETE"}

        class Sub(Items):
            async def put(self, item_id: int) -> dict[str, Any]:
                return {"put": item_id}

        assert Sub.methods == {"GET", "POST", "DELETE", "PUT"}

        class Explicit(MethodView):
            methods = ("GET",)

            async def get(self) -> str:
                return "x"

            async def post(self) -> str:
                return "y"

        assert Explicit.methods == ("GET",)
        assert MethodView.methods is None

    def test_dispatch_on_method_with_mixed_sync_and_async(self) -> None:
        view = Items.as_view("items")
        assert is_async_callable(view)
        client = serve(view, "/items/{item_id:int}", methods=view.methods)  # type: ignore[attr-defined]
        assert client.get("/items/1").json() == {"get": 1}
        assert client.post("/items/2").json() == {"post": 2}
        # The sync method of a mixed view runs in a worker thread.
        assert client.delete("/items/3").json() == {"delete": 3, "loop": False}

    def test_head_falls_back_to_get(self) -> None:
        view = Items.as_view("items")
        client = serve(view, "/items/{item_id:int}", methods=["GET", "HEAD"])
        r = client.head("/items/5")
        assert r.status_code == 200
        assert r.content == b""

    @pytest.mark.parametrize("is_async", [False, True])
    def test_routed_method_without_handler_is_405(self, is_async: bool) -> None:
        if is_async:

            class Only(MethodView):
                async def get(self) -> str:
                    return "got"

        else:

            class Only(MethodView):  # type: ignore[no-redef]
                def get(self) -> str:
                    return "got"

        client = serve(Only.as_view("only"), methods=["GET", "PUT"])
        r = client.put("/x")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET"
        assert client.get("/x").text == "got"

    def test_sync_only_view_runs_in_the_pool(self) -> None:
        class Sync(MethodView):
            def get(self) -> dict[str, bool]:
                return {"loop": on_event_loop()}

        view = Sync.as_view("sync")
        assert not is_async_callable(view)
        assert serve(view).get("/x").json() == {"loop": False}

    def test_dispatch_request_uses_the_context_request(self) -> None:
        class App:
            config: ClassVar[dict[str, Any]] = {}

        scope = {"type": "http", "method": "DELETE", "path": "/", "headers": []}
        with RequestContext(App(), Request(scope)):
            assert Items().dispatch_request(item_id=9)["delete"] == 9


def test_method_view_inherits_its_bases_methods() -> None:
    class Base(MethodView):
        methods: ClassVar[Any] = ["GET", "PROPFIND"]

    class Child(Base):
        def get(self) -> str:
            return "GET"

        def propfind(self) -> str:
            return "PROPFIND"

    assert Child.methods == {"GET", "PROPFIND"}
    client = serve(Child.as_view("child"), methods=Child.methods)
    assert [client.request(m, "/x").text for m in ("GET", "PROPFIND")] == ["GET", "PROPFIND"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_patched_view_class_serves_the_requests(method: str) -> None:
    class Broken(MethodView):
        def get(self) -> str:
            raise ZeroDivisionError

        def post(self) -> str:
            raise ZeroDivisionError

    class Fixed(Broken):
        def get(self) -> str:
            return "GET"

        def post(self) -> str:
            return "POST"

    view = Broken.as_view("index")
    view.view_class = Fixed  # type: ignore[attr-defined]
    assert serve(view, methods=["GET", "POST"]).request(method, "/x").text == method
