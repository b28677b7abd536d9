"""Building URLs from route names: the one map behind ``url_path_for`` and ``url_for``.

Filled once when the app compiles. Several routes may share a name: one Flask view under
two rules (a lookup picks the pattern that fits the values it is given), or two handlers
that happen to be called the same, in two routers (as FastAPI allows: names matter only
for building URLs). Looking such a name up is the mistake, so the lookup says which
handlers share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kettle.introspection import describe
from kettle.routing.patterns import PathPattern

__all__ = ["NoMatchFound", "URLMap"]


class NoMatchFound(LookupError):
    """``url_path_for`` was given an unknown route name or parameters that do not fit."""


class URLMap:
    """Route names to their path patterns.

    Example:
        >>> from kettle.routing.converters import DEFAULT_CONVERTERS
        >>> from kettle.routing.patterns import parse_pattern
        >>> urls = URLMap()
        >>> urls.add("user", parse_pattern("/users/{user_id:int}", DEFAULT_CONVERTERS))
        >>> urls.path_for("user", {"user_id": 3})
        '/users/3'
        >>> urls.build("user", {"user_id": 3, "tab": "posts"})
        ('/users/3', {'tab': 'posts'})
    """

    __slots__ = ("_handlers", "_methods", "_patterns")

    def __init__(self) -> None:
        self._patterns: dict[str, list[PathPattern]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        #: the methods each pattern answers (None: not known), for ``build(method=...)``
        self._methods: dict[int, frozenset[str]] = {}

    def add(
        self,
        name: str,
        pattern: PathPattern,
        handler: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Make ``pattern`` (served by ``handler`` for ``methods``) reachable under ``name``."""
        self._patterns.setdefault(name, []).append(pattern)
        if methods is not None:
            self._methods[id(pattern)] = frozenset(m.upper() for m in methods)
        handlers = self._handlers.setdefault(name, [])
        if handler is not None and not any(h is handler for h in handlers):
            handlers.append(handler)

    def _candidates(self, name: str) -> list[PathPattern]:
        handlers = self._handlers.get(name, ())
        if len(handlers) > 1:
            raise NoMatchFound(
                f"route name {name!r} is ambiguous: it is used by "
                f"{' and '.join(describe(h) for h in handlers)} (paths: "
                f"{', '.join(dict.fromkeys(p.template for p in self._patterns[name]))}); "
                "give the routes distinct names with name=..."
            )
        return self._patterns.get(name, [])

    def __contains__(self, name: object) -> bool:
        """Whether some route is named ``name``."""
        return name in self._patterns

    def names(self) -> Iterable[str]:
        """Every route name, in the order they were added."""
        return self._patterns.keys()

    def path_for(self, name: str, params: Mapping[str, Any]) -> str:
        """The path of the route ``name`` taking exactly ``params`` (Starlette's rule).

        Raises:
            NoMatchFound: no route has that name, none takes exactly these parameters, or
                the name is shared by different handlers.
        """
        for pattern in self._candidates(name):
            if set(pattern.params) == set(params):
                try:
                    return pattern.format(params)
                except (KeyError, ValueError, TypeError):
                    continue
        raise NoMatchFound(f"no route named {name!r} takes parameters {sorted(params)}")

    def build(
        self, name: str, values: Mapping[str, Any], method: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The path of route ``name`` and the values left over for the query string.

        Flask's rule: of the patterns whose parameters are all given (``None`` counts as
        not given), the one using the most of them; the rest become the query. With
        ``method``, only the patterns answering that method count.

        Raises:
            NoMatchFound: no route has that name, every pattern misses a parameter, or the
                name is shared by different handlers.
        """
        candidates = self._candidates(name)
        if method is not None:
            wanted = method.upper()
            candidates = [c for c in candidates if wanted in self._methods.get(id(c), (wanted,))]
        if not candidates:
            suffix = f" for method {method.upper()}" if method else ""
            raise NoMatchFound(f"no route named {name!r}{suffix}")
        given = {k: v for k, v in values.items() if v is not None}
        best: PathPattern | None = None
        for pattern in candidates:
            params = set(pattern.params)
            if params <= set(given) and (best is None or len(params) > len(best.params)):
                best = pattern
        if best is None:
            needed = sorted(set(candidates[0].params) - set(given))
            raise NoMatchFound(f"route {name!r} needs values for {', '.join(needed)}")
        path = best.format({k: given[k] for k in best.params})
        return path, {k: v for k, v in values.items() if k not in best.params}
