"""The compiled route table: a dict for static paths, a segment tree for the rest.

Matching cost depends on the depth of the path, not on how many routes exist. A miss
still knows which methods the path allows, so the caller can answer 405 with ``Allow``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kettle.routing.patterns import Literal, Mixed, Param, PathPattern

E = TypeVar("E")


class _Node(Generic[E]):
    __slots__ = ("endpoints", "greedy", "params", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[E]] = {}
        # (segment, name or None for a mixed segment, convert function, child); the
        # convert function is looked up once here, not per request.
        self.params: list[tuple[Param | Mixed, str | None, Callable[[str], Any], _Node[E]]] = []
        self.greedy: list[tuple[Param, dict[str, E]]] = []
        self.endpoints: dict[str, E] | None = None


def _priority(matcher: Param | Mixed) -> int:
    if isinstance(matcher, Param):
        return matcher.converter.priority
    return 0  # a segment with literal text around its parameters is the most specific


class Matcher(Generic[E]):
    """Maps ``(path, method)`` to an endpoint and its converted path parameters."""

    __slots__ = ("_root", "static")

    def __init__(self) -> None:
        #: the static paths' endpoints, ``{path: {method: endpoint}}``: dispatch looks a
        #: request up here first, then calls :meth:`match_pattern` (read it, do not
        #: change it: :meth:`add` keeps it)
        self.static: dict[str, dict[str, E]] = {}
        self._root: _Node[E] = _Node()

    def add(self, pattern: PathPattern, method: str, endpoint: E) -> bool:
        """Register ``endpoint`` for ``method`` on ``pattern``; False if already taken."""
        if pattern.is_static:
            methods = self.static.setdefault(pattern.template, {})
            return methods.setdefault(method, endpoint) is endpoint
        node = self._root
        segments = pattern.segments
        for index, seg in enumerate(segments):
            if isinstance(seg, Literal):
                node = node.static.setdefault(seg.text, _Node())
            elif isinstance(seg, Param) and seg.converter.greedy and index == len(segments) - 1:
                for existing, eps in node.greedy:
                    if existing.name == seg.name and existing.converter_name == seg.converter_name:
                        return eps.setdefault(method, endpoint) is endpoint
                node.greedy.append((seg, {method: endpoint}))
                return True
            else:
                node = self._param_child(node, seg)
        if node.endpoints is None:
            node.endpoints = {}
        return node.endpoints.setdefault(method, endpoint) is endpoint

    @staticmethod
    def _param_child(node: _Node[E], seg: Param | Mixed) -> _Node[E]:
        for existing, _, _, child in node.params:
            if isinstance(existing, Param) and isinstance(seg, Param):
                same = (existing.name, existing.converter_name) == (seg.name, seg.converter_name)
            elif isinstance(existing, Mixed) and isinstance(seg, Mixed):
                same = existing.key == seg.key
            else:
                same = False
            if same:
                return child
        child = _Node[E]()
        if isinstance(seg, Param):
            node.params.append((seg, seg.name, seg.converter.convert, child))
        else:
            node.params.append((seg, None, seg.match, child))
        node.params.sort(key=lambda item: _priority(item[0]))
        return child

    def match(self, path: str, method: str) -> tuple[E, dict[str, Any]] | None:
        """The endpoint for ``method`` on ``path`` and the converted path values, or None."""
        methods = self.static.get(path)
        if methods is not None:
            endpoint = methods.get(method)
            if endpoint is not None:
                return endpoint, {}
        # PERF: match_pattern's four lines again rather than a call of it (~25 ns of a
        # 404, whose trailing-slash check matches the path again).
        params: dict[str, Any] = {}
        segments = path[1:].split("/")
        endpoint = _walk(self._root, segments, 0, len(segments), method, params)
        return None if endpoint is None else (endpoint, params)

    def match_pattern(self, path: str, method: str) -> tuple[E, dict[str, Any]] | None:
        """:meth:`match` for the paths with parameters only (the static ones not looked
        up): for a caller that has looked ``path`` up in :attr:`static` already."""
        params: dict[str, Any] = {}
        segments = path[1:].split("/")
        endpoint = _walk(self._root, segments, 0, len(segments), method, params)
        if endpoint is None:
            return None
        return endpoint, params

    def allowed_methods(self, path: str) -> set[str]:
        """Every method some route accepts for ``path`` (the slow path, for 404/405)."""
        allowed: set[str] = set(self.static.get(path, ()))
        segments = path[1:].split("/")
        _collect(self._root, segments, 0, allowed)
        return allowed


def _walk(
    node: _Node[E], segments: list[str], index: int, count: int, method: str, params: dict[str, Any]
) -> E | None:
    if index == count:
        endpoints = node.endpoints
        return None if endpoints is None else endpoints.get(method)
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        endpoint = _walk(child, segments, index + 1, count, method, params)
        if endpoint is not None:
            return endpoint
    for _, name, convert, child in node.params:
        try:
            value = convert(segment)
        except ValueError:
            continue
        endpoint = _walk(child, segments, index + 1, count, method, params)
        if endpoint is not None:
            if name is None:
                params.update(value)
            else:
                params[name] = value
            return endpoint
    if node.greedy:
        rest = "/".join(segments[index:])
        for param, endpoints in node.greedy:
            endpoint = endpoints.get(method)
            if endpoint is None:
                continue
            try:
                params[param.name] = param.converter.convert(rest)
            except ValueError:
                continue
            return endpoint
    return None


def _collect(node: _Node[E], segments: list[str], index: int, allowed: set[str]) -> None:
    if index == len(segments):
        if node.endpoints:
            allowed.update(node.endpoints)
        return
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        _collect(child, segments, index + 1, allowed)
    for _, _, convert, child in node.params:
        try:
            convert(segment)
        except ValueError:
            continue
        _collect(child, segments, index + 1, allowed)
    if not node.greedy:
        return
    rest = "/".join(segments[index:])
    for param, endpoints in node.greedy:
        try:
            param.converter.convert(rest)
        except ValueError:
            continue
        allowed.update(endpoints)
