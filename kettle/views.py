"""Class-based views, as in Flask: :class:`View` and :class:`MethodView`.

``as_view(name)`` turns the class into a route handler. Path values arrive as keyword
arguments of ``dispatch_request`` (or of ``get``, ``post``...). A view whose methods are
``async def`` gives an async handler; a sync one runs in the thread pool like any plain
``def`` handler.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from kettle.context import current as _current
from kettle.exceptions import HTTPException
from kettle.requests import Request
from kettle.routing.routes import HTTP_METHODS

__all__ = ["MethodView", "View"]

_METHOD_NAMES = tuple(method.lower() for method in HTTP_METHODS)


def is_async_callable(func: Any) -> bool:
    """True for ``async def`` functions and methods, through ``functools.partial``."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func)


class View:
    """Subclass and implement :meth:`dispatch_request`; register ``as_view(name)``.

    Class attributes: ``methods`` (what the route answers when registered without
    ``methods=``), ``decorators`` (applied to the handler ``as_view`` makes, first one
    innermost), ``init_every_request`` (a new instance per request, the default, or one
    shared instance, which must then keep no per-request state on ``self``).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.views import View
        >>> from kettle.testing import TestClient
        >>> class Greeting(View):
        ...     def __init__(self, greeting):
        ...         self.greeting = greeting
        ...     async def dispatch_request(self, name):
        ...         return f"{self.greeting}, {name}!"
        >>> app = Kettle(__name__)
        >>> _ = app.add_route("/hello/{name}", Greeting.as_view("hello", "Hi"))
        >>> TestClient(app).get("/hello/ada").text
        'Hi, ada!'
    """

    methods: ClassVar[Collection[str] | None] = None
    provide_automatic_options: ClassVar[bool | None] = None
    decorators: ClassVar[Sequence[Callable[..., Any]]] = ()
    init_every_request: ClassVar[bool] = True

    if TYPE_CHECKING:
        # Declared as a plain callable so subclasses may name their path values
        # (dispatch_request(self, item_id: int)) and be sync or async without mypy
        # calling the override incompatible.
        dispatch_request: Callable[..., Any]
    else:

        def dispatch_request(self, **kwargs: Any) -> Any:
            """Handle the request; ``kwargs`` are the path values. Sync or async."""
            raise NotImplementedError

    @classmethod
    def _view_function(cls, make: Callable[[], View]) -> Callable[..., Any]:
        if is_async_callable(cls.dispatch_request):

            async def view(**kwargs: Any) -> Any:
                return await make().dispatch_request(**kwargs)

            return view

        def sync_view(**kwargs: Any) -> Any:
            return make().dispatch_request(**kwargs)

        return sync_view

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """A route handler for this class; ``class_args`` go to the constructor.

        The handler has ``view_class``, ``methods`` and ``provide_automatic_options``
        attributes, and ``name`` as its ``__name__`` (so the route is called ``name``).
        """
        if cls.init_every_request:

            def make() -> View:
                # The class is read from the view at each request: code may patch
                # ``view.view_class`` after registering it, as in Flask.
                made: View = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return made

        else:
            instance = cls(*class_args, **class_kwargs)

            def make() -> View:
                return instance

        view = cls._view_function(make)
        view.__name__ = view.__qualname__ = name
        view.__module__ = cls.__module__
        view.__doc__ = cls.__doc__
        for decorator in cls.decorators:
            view = decorator(view)
        # Set on the decorated function: that is what the route holds.
        view.view_class = cls  # type: ignore[attr-defined]
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """Dispatch on the HTTP method to ``get``, ``post``, ``put``... methods.

    ``methods`` is inferred from the methods defined; HEAD falls back to ``get``.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.views import MethodView
        >>> from kettle.testing import TestClient
        >>> class Counter(MethodView):
        ...     init_every_request = False
        ...     def __init__(self):
        ...         self.count = 0
        ...     async def get(self):
        ...         return {"count": self.count}
        ...     async def post(self):
        ...         self.count += 1
        ...         return {"count": self.count}
        >>> sorted(Counter.methods)
        ['GET', 'POST']
        >>> app = Kettle(__name__)
        >>> _ = app.add_route("/count", Counter.as_view("count"), methods=Counter.methods)
        >>> client = TestClient(app)
        >>> client.post("/count").json(), client.get("/count").json()
        ({'count': 1}, {'count': 1})
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            # A base class's ``methods`` (an extension method such as PROPFIND, named
            # there) carry over, with the methods this class defines.
            found = {name.upper() for name in _METHOD_NAMES if callable(getattr(cls, name, None))}
            for base in cls.__mro__[1:]:
                found.update(m.upper() for m in base.__dict__.get("methods") or ())
            if found:
                cls.methods = frozenset(found)

    def _handler(self, method: str) -> Callable[..., Any]:
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            allowed = ", ".join(sorted(type(self).methods or ()))
            raise HTTPException(405, headers={"Allow": allowed} if allowed else None)
        return handler  # type: ignore[no-any-return]

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Call the method named after the request's method (needs a request context)."""
        from kettle.globals import request

        return self._handler(request.method)(**kwargs)

    @classmethod
    def _view_function(cls, make: Callable[[], View]) -> Callable[..., Any]:
        # The handler takes the Request itself (kettle passes it to a parameter annotated
        # Request), so dispatching on the method needs no context lookup.
        handlers = [getattr(cls, name) for name in _METHOD_NAMES if hasattr(cls, name)]
        if not any(is_async_callable(handler) for handler in handlers):

            def sync_view(request: Request, **kwargs: Any) -> Any:
                self: MethodView = make()  # type: ignore[assignment]
                return self._handler(request.method)(**kwargs)

            return sync_view

        async def view(**kwargs: Any) -> Any:
            # The request from the context rather than a Request parameter: as for any
            # async Flask view, the compile step then has the body read before an async
            # method runs (its request.form, get_json() cannot wait on the event loop).
            request = _current.get().request
            self: MethodView = make()  # type: ignore[assignment]
            handler = self._handler(request.method)
            if is_async_callable(handler):
                return await handler(**kwargs)
            # A sync method of a mixed view: off the event loop, in the app's pool.
            return await request.app.thread_pool.run(functools.partial(handler, **kwargs))

        return view
