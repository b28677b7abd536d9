"""Declaring middleware: a class and its options, instantiated when the app compiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kettle.types import ASGIApp


class Middleware:
    """A pure-ASGI middleware class and the options to build it with.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.middleware import Middleware
        >>> class AddHeader:
        ...     def __init__(self, app, value: str) -> None:
        ...         self.app, self.value = app, value
        ...     async def __call__(self, scope, receive, send):
        ...         async def send_with_header(message):
        ...             if message["type"] == "http.response.start":
        ...                 extra = (b"x-kettle", self.value.encode())
        ...                 message["headers"] = [*message["headers"], extra]
        ...             await send(message)
        ...         await self.app(scope, receive, send_with_header)
        >>> app = Kettle(__name__, middleware=[Middleware(AddHeader, value="1")])
    """

    __slots__ = ("args", "cls", "options")

    def __init__(self, cls: Callable[..., ASGIApp], *args: Any, **options: Any) -> None:
        self.cls = cls
        self.args = args
        self.options = options

    def build(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, *self.args, **self.options)

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({name}, {self.options!r})"
