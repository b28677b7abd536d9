"""The conventions a document is written with: kettle's own, or FastAPI's.

``OpenAPIConfig(conventions="fastapi")`` (what ``kettle.fastapi.FastAPI`` sets) writes the
document FastAPI writes for the same app, key for key, so that client SDKs generated from
it keep their method names after a migration:

- operation ids are ``{name}{path}_{method}`` with every non-word character turned into
  ``_`` (``read_item_items__item_id__get``);
- every parameter's schema and every field of a body model carries a ``title``
  (``item_id`` → ``"Item Id"``);
- a JSON response without a model documents an empty schema (``{}``), and a handler
  returning ``None`` still answers ``200``;
- several body parameters, or a form, are one component named ``Body_{operation id}``;
- any declared input (path parameters too) can answer ``422``, and the validation error
  components are FastAPI's;
- no key holds ``null`` (FastAPI drops them all, ``"default": null`` included).

kettle's own conventions (the default) keep shorter ids (the handler's name), document
what a handler really returns (``204`` for ``None``, the schema of a ``dict[str, int]``)
and leave out a ``422`` that no request can cause.
"""

from __future__ import annotations

import collections.abc
import re
import typing
from typing import Any

from kettle.openapi.models import Conventions, JSONDict

__all__ = ["Conventions", "add_title", "drop_nulls", "fastapi_operation_id", "field_title"]

_NON_WORD = re.compile(r"\W")

_REF = "#/components/schemas/"


def fastapi_operation_id(name: str, path: str, method: str) -> str:
    """FastAPI's generated ``operationId`` of a route.

    Example:
        >>> fastapi_operation_id("read_item", "/items/{item_id}", "GET")
        'read_item_items__item_id__get'
    """
    return f"{_NON_WORD.sub('_', name + path)}_{method.lower()}"


def field_title(name: str) -> str:
    """The title pydantic and FastAPI give a field or parameter called ``name``.

    Example:
        >>> field_title("item_id"), field_title("x-token")
        ('Item Id', 'X-Token')
    """
    return name.title().replace("_", " ")


def add_title(schema: JSONDict, name: str, title: str | None = None) -> None:
    """Give ``schema`` its field title, unless it is a reference."""
    if "$ref" not in schema:
        schema["title"] = title or field_title(name)


def fastapi_validation_errors() -> dict[str, JSONDict]:
    """FastAPI's ``ValidationError`` and ``HTTPValidationError`` components."""
    return {
        "ValidationError": {
            "title": "ValidationError",
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"title": "Message", "type": "string"},
                "type": {"title": "Error Type", "type": "string"},
                "input": {"title": "Input"},
                "ctx": {"title": "Context", "type": "object"},
            },
            "required": ["loc", "msg", "type"],
        },
        "HTTPValidationError": {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": {"$ref": _REF + "ValidationError"},
                }
            },
        },
    }


_STREAMS = (
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.Generator,
)


def stream_item(annotation: Any) -> Any:
    """The item type of a stream annotation (``AsyncIterable[Item]`` → ``Item``), or
    ``None``.

    Example:
        >>> from collections.abc import AsyncIterable
        >>> stream_item(AsyncIterable[int]), stream_item(int)
        (<class 'int'>, None)
    """
    if typing.get_origin(annotation) in _STREAMS:
        args = typing.get_args(annotation)
        return args[0] if args else None
    return None


def sse_event_schema() -> JSONDict:
    """The schema of one Server-Sent Event, as FastAPI documents it."""
    return {
        "type": "object",
        "properties": {
            "data": {"type": "string"},
            "event": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
        },
    }


def drop_nulls(node: Any) -> Any:
    """``node`` without any object key whose value is ``None`` (at any depth).

    Example:
        >>> drop_nulls({"a": None, "b": [None, {"c": None, "d": 1}]})
        {'b': [None, {'d': 1}]}
    """
    if isinstance(node, dict):
        return {k: drop_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [drop_nulls(v) for v in node]
    return node
