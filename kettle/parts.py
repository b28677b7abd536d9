"""How the app offers a part's methods and attributes under its own name.

``Kettle`` is composed: routing and registration live in ``app.router`` (the root
:class:`~kettle.scaffold.Scaffold`), Flask's application features in ``app.web``, the
OpenAPI document in ``app.openapi_document``. Users still write ``@app.get(...)`` and
``app.error_handlers``, as in FastAPI and Flask: one line per forwarded name, typed as the
part's own method, says where it lives.

Forwarding is resolved when code declares routes, not per request: nothing on the request
path reads through these descriptors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

__all__ = ["Attribute", "Method"]


class Method(Generic[P, R]):
    """``get = Method("router", Scaffold.get)``: ``app.get`` is ``app.router.get``.

    Example:
        >>> class Part:
        ...     def hello(self, name: str) -> str:
        ...         return f"hello {name}"
        >>> class Whole:
        ...     hello = Method("part", Part.hello)
        ...     def __init__(self) -> None:
        ...         self.part = Part()
        >>> Whole().hello("ada")
        'hello ada'
    """

    __slots__ = ("name", "part")

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self.part = part
        self.name = method.__name__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Method[P, R]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Callable[P, R]: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        bound: Callable[P, R] = getattr(getattr(obj, self.part), self.name)
        return bound


class Attribute(Generic[T]):
    """``routes: Attribute[list[Route]] = Attribute("router")``: ``app.routes`` reads and
    writes ``app.router.routes``.

    Example:
        >>> class Part:
        ...     def __init__(self) -> None:
        ...         self.size = 1
        >>> class Whole:
        ...     size: Attribute[int] = Attribute("part")
        ...     def __init__(self) -> None:
        ...         self.part = Part()
        >>> whole = Whole()
        >>> whole.size = 3
        >>> whole.part.size
        3
    """

    __slots__ = ("name", "part")

    def __init__(self, part: str, name: str = "") -> None:
        self.part = part
        #: the part's attribute, when it has another name than the app's
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Attribute[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.part), self.name)

    def __set__(self, obj: object, value: T) -> None:
        setattr(getattr(obj, self.part), self.name, value)
