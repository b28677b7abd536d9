"""Type aliases for what views, hooks and template functions take and return.

They are the shapes kettle accepts (a handler may also return a pydantic model or any
JSON-able value when it declares a return type); ``kettle.flask.typing`` offers them
under Flask's names, so annotated Flask code type-checks unchanged.

Example:
    >>> from kettle.viewtypes import ResponseReturnValue
    >>> def index() -> ResponseReturnValue:
    ...     return "Hello", 200, {"X-Greeting": "yes"}
    >>> index()[1]
    200
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, TypeAlias, TypeVar

from kettle.datastructures import Headers
from kettle.responses import Response

__all__ = [
    "AfterRequestCallable",
    "AppOrBlueprintKey",
    "BeforeFirstRequestCallable",
    "BeforeRequestCallable",
    "ErrorHandlerCallable",
    "HeaderValue",
    "HeadersValue",
    "ResponseClass",
    "ResponseReturnValue",
    "ResponseValue",
    "RouteCallable",
    "ShellContextProcessorCallable",
    "StatusCode",
    "TeardownCallable",
    "TemplateContextProcessorCallable",
    "TemplateFilterCallable",
    "TemplateGlobalCallable",
    "TemplateTestCallable",
    "URLDefaultCallable",
    "URLValuePreprocessorCallable",
]

#: a body: a response, text (HTML), bytes, JSON (a dict or list), or a stream of chunks
ResponseValue: TypeAlias = (
    Response
    | str
    | bytes
    | list[Any]
    | Mapping[str, Any]
    | Iterable[str]
    | Iterable[bytes]
    | AsyncIterable[str]
    | AsyncIterable[bytes]
)
#: one header's value: a string, or several for a repeated header
HeaderValue: TypeAlias = str | list[str] | tuple[str, ...]
#: headers as a mapping or a list of pairs
HeadersValue: TypeAlias = Headers | Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]]
#: a status: ``404``, ``"404 NOT FOUND"`` or ``HTTPStatus.NOT_FOUND``
StatusCode: TypeAlias = int | str | HTTPStatus
#: what a view may return: a body, alone or with a status and/or headers
ResponseReturnValue: TypeAlias = (
    ResponseValue
    | tuple[ResponseValue, HeadersValue]
    | tuple[ResponseValue, StatusCode]
    | tuple[ResponseValue, StatusCode, HeadersValue]
)
#: the app's response class (a ``Response`` subclass)
ResponseClass = TypeVar("ResponseClass", bound=Response)
#: a blueprint's name, or ``None`` for the app (the keys of per-blueprint registries)
AppOrBlueprintKey: TypeAlias = str | None

AfterRequestCallable: TypeAlias = (
    Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]
)  # takes the response, returns it (or a replacement)
BeforeFirstRequestCallable: TypeAlias = Callable[[], None] | Callable[[], Awaitable[None]]
BeforeRequestCallable: TypeAlias = (
    Callable[[], ResponseReturnValue | None] | Callable[[], Awaitable[ResponseReturnValue | None]]
)
ShellContextProcessorCallable: TypeAlias = Callable[[], dict[str, Any]]
TeardownCallable: TypeAlias = (
    Callable[[BaseException | None], None] | Callable[[BaseException | None], Awaitable[None]]
)
TemplateContextProcessorCallable: TypeAlias = (
    Callable[[], dict[str, Any]] | Callable[[], Awaitable[dict[str, Any]]]
)
TemplateFilterCallable: TypeAlias = Callable[..., Any]
TemplateGlobalCallable: TypeAlias = Callable[..., Any]
TemplateTestCallable: TypeAlias = Callable[..., bool]
#: ``url_defaults``: fills ``values`` in place for ``endpoint``
URLDefaultCallable: TypeAlias = Callable[[str, dict[str, Any]], None]
#: ``url_value_preprocessor``: reads (and may pop) the matched ``values``
URLValuePreprocessorCallable: TypeAlias = Callable[[str | None, dict[str, Any] | None], None]
ErrorHandlerCallable: TypeAlias = (
    Callable[[Any], ResponseReturnValue] | Callable[[Any], Awaitable[ResponseReturnValue]]
)
RouteCallable: TypeAlias = (
    Callable[..., ResponseReturnValue] | Callable[..., Awaitable[ResponseReturnValue]]
)
