"""The small pieces the document builder (:mod:`kettle.openapi.generate`) is made of:
what a type or response class says about a response, names, ids and merges."""

from __future__ import annotations

import http
import inspect
import re
import typing
from collections.abc import Mapping
from typing import Any

from kettle.openapi.inputs import union_members
from kettle.openapi.models import SECURITY_ATTRIBUTES, JSONDict, PlanEntry, SecurityScheme
from kettle.openapi.schemas import REF_PREFIX
from kettle.signature import strip_annotated

if typing.TYPE_CHECKING:
    from kettle.routing.routes import Route


def _referenced(doc: JSONDict, definitions: JSONDict) -> JSONDict:
    """The definitions ``doc`` refers to, directly or through other definitions (a model
    whose fields were spread into parameters is not itself referred to)."""
    wanted: set[str] = set()
    pending: list[Any] = [doc]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX):
                name = ref[len(REF_PREFIX) :]
                if name not in wanted and name in definitions:
                    wanted.add(name)
                    pending.append(definitions[name])
            pending.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            pending.extend(v for v in node if isinstance(v, dict | list))
    return {name: value for name, value in definitions.items() if name in wanted}


def _media_type_of(tp: Any) -> str | None:
    from kettle.responses import Response

    tp = strip_annotated(tp)
    if isinstance(tp, type) and issubclass(tp, Response):
        media = tp.media_type
        return media if isinstance(media, str) else None
    return None


def _tag_name(tag: Any) -> str:
    """A tag as written; an enum member (``Tags.items``) is its value."""
    import enum

    return str(tag.value) if isinstance(tag, enum.Enum) else str(tag)


def _default_status(response_class: Any) -> int:
    """The status a response class answers with when given none (FastAPI reads it)."""
    try:
        parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    except (TypeError, ValueError):
        return 200
    default = getattr(parameter, "default", None)
    return default if isinstance(default, int) and not isinstance(default, bool) else 200


def _is_page(tp: Any) -> bool:
    """``str`` and ``bytes`` returns are sent as HTML, as in Flask."""
    members = union_members(tp)
    return bool(members) and all(m in (str, bytes) for m in members) and tp is not Any


def _is_json_container(tp: Any) -> bool:
    tp = strip_annotated(tp)
    return tp in (dict, list) or typing.get_origin(tp) in (dict, list)


def _scheme_of(dependency: Any) -> SecurityScheme | None:
    if dependency is None:
        return None
    for name in SECURITY_ATTRIBUTES:
        value = getattr(dependency, name, None)
        if isinstance(value, SecurityScheme):
            return value
    return None


_IDENT = re.compile(r"\W+")


def _identifier(name: str) -> str:
    """``auth.login`` → ``auth_login``: an id code generators can use as a name."""
    return _IDENT.sub("_", name).strip("_") or "operation"


def _default_summary(name: str) -> str:
    words = name.rsplit(".", 1)[-1].replace("_", " ").strip()
    return words.title() if words else name


def _docstring(route: Route) -> str | None:
    """The handler's docstring, up to a form feed (``\\f``) if it has one."""
    doc = inspect.getdoc(route.endpoint)
    if not doc:
        return None
    return doc.split("\f", 1)[0].strip() or None


def _phrase(key: str) -> str:
    try:
        return http.HTTPStatus(int(key)).phrase
    except ValueError:
        return "Additional Response" if key == "default" else f"{key} Response"


def _status_order(key: str) -> tuple[int, str]:
    return (1, key) if key == "default" else (0, key)


def _free_name(name: str, taken: Mapping[str, Any]) -> str:
    if name not in taken:
        return name
    name = f"Kettle{name}"
    count = 1
    candidate = name
    while candidate in taken:
        count += 1
        candidate = f"{name}{count}"
    return candidate


def _deep_merge(target: JSONDict, extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def merge_root_path(document: JSONDict, root_path: str) -> JSONDict:
    """``document`` with ``root_path`` first in its ``servers`` (a shallow copy).

    Example:
        >>> merge_root_path({"openapi": "3.1.0"}, "/api")["servers"]
        [{'url': '/api'}]
    """
    servers = list(document.get("servers", ()))
    if any(server.get("url") == root_path for server in servers):
        return document
    out: JSONDict = {}
    for key, value in document.items():
        if key != "servers":
            out[key] = value
        if key == "info":
            out["servers"] = [{"url": root_path}, *servers]
    out.setdefault("servers", [{"url": root_path}, *servers])
    return out


def uncompiled_entry(route: Route, pool: Any) -> PlanEntry:
    """A route read like a compiled one (parameters, body, response) that is never
    served: a webhook, or a callback. Its path is only a name: templated parts such as
    ``{$request.body.id}`` are not parameters."""
    from kettle.params import Depends
    from kettle.plan import RoutePlan
    from kettle.routing.patterns import parse_pattern
    from kettle.signature import analyze

    pattern = parse_pattern("/", {})
    depends = [d for d in route.dependencies if isinstance(d, Depends)]
    spec = analyze(route.endpoint, [], depends, {})
    return (route, pattern, RoutePlan(spec, pool, None), None)
