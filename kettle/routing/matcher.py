"""The compiled route table: a dict for static paths, a segment tree for the rest.

Matching cost depends on the depth of the path, not on how many routes exist. A miss
still knows which methods the path allows, so the caller can answer 405 with ``Allow``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from kettle.routing.patterns import Literal, Mixed, Param, PathPattern

E = TypeVar("E")


class _Node(Generic[E]):
    __slots__ = ("endpoints", "greedy", "params", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[E]] = {}
        self.params: list[tuple[Param | Mixed, _Node[E]]] = []
        self.greedy: list[tuple[Param, dict[str, E]]] = []
        self.endpoints: dict[str, E] | None = None


def _priority(matcher: Param | Mixed) -> int:
    if isinstance(matcher, Param):
        return matcher.converter.priority
    return 0  # a segment with literal text around its parameters is the most specific


class Matcher(Generic[E]):
    """Maps ``(path, method)`` to an endpoint and its converted path parameters."""

    __slots__ = ("_root", "_static")

    def __init__(self) -> None:
        self._static: dict[str, dict[str, E]] = {}
        self._root: _Node[E] = _Node()

    def add(self, pattern: PathPattern, method: str, endpoint: E) -> bool:
        """Register ``endpoint`` for ``method`` on ``pattern``; False if already taken."""
        if pattern.is_static:
            methods = self._static.setdefault(pattern.template, {})
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
        for existing, child in node.params:
            if existing == seg or (
                isinstance(existing, Param)
                and isinstance(seg, Param)
                and (existing.name, existing.converter_name) == (seg.name, seg.converter_name)
            ):
                return child
        child = _Node[E]()
        node.params.append((seg, child))
        node.params.sort(key=lambda item: _priority(item[0]))
        return child

    def match(self, path: str, method: str) -> tuple[E | None, dict[str, Any], set[str]]:
        """Find the endpoint for ``method`` on ``path``.

        Returns ``(endpoint, params, allowed)``: on a hit ``allowed`` is empty; on a miss
        ``endpoint`` is None and ``allowed`` lists the methods other routes accept for
        this path (empty: no route has the path at all, so 404).
        """
        allowed: set[str] = set()
        methods = self._static.get(path)
        if methods is not None:
            endpoint = methods.get(method)
            if endpoint is not None:
                return endpoint, {}, allowed
            allowed.update(methods)
        params: dict[str, Any] = {}
        segments = path[1:].split("/")
        endpoint = self._walk(self._root, segments, 0, method, params, allowed)
        return endpoint, params, allowed

    def _walk(
        self,
        node: _Node[E],
        segments: list[str],
        index: int,
        method: str,
        params: dict[str, Any],
        allowed: set[str],
    ) -> E | None:
        if index == len(segments):
            endpoints = node.endpoints
            if endpoints is not None:
                endpoint = endpoints.get(method)
                if endpoint is not None:
                    return endpoint
                allowed.update(endpoints)
            return None
        segment = segments[index]
        child = node.static.get(segment)
        if child is not None:
            endpoint = self._walk(child, segments, index + 1, method, params, allowed)
            if endpoint is not None:
                return endpoint
        for matcher, child in node.params:
            try:
                if type(matcher) is Param:
                    values = {matcher.name: matcher.converter.convert(segment)}
                else:
                    values = matcher.match(segment)  # type: ignore[union-attr]
            except ValueError:
                continue
            endpoint = self._walk(child, segments, index + 1, method, params, allowed)
            if endpoint is not None:
                params.update(values)
                return endpoint
        if node.greedy:
            rest = "/".join(segments[index:])
            for param, endpoints in node.greedy:
                try:
                    value = param.converter.convert(rest)
                except ValueError:
                    continue
                endpoint = endpoints.get(method)
                if endpoint is not None:
                    params[param.name] = value
                    return endpoint
                allowed.update(endpoints)
        return None
