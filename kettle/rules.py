"""Werkzeug's routing vocabulary over kettle's router: converters and ``app.url_map``.

``app.url_map`` is a view of the app's routes, not a second table: its ``converters`` is
the app's own dict of converters (a converter added there is used by routes compiled
afterwards), and its rules are the compiled routes.

Example:
    >>> from kettle import Kettle
    >>> from kettle.rules import BaseConverter
    >>> class ListConverter(BaseConverter):
    ...     def to_python(self, value):
    ...         return value.split(",")
    ...     def to_url(self, value):
    ...         return ",".join(super(ListConverter, self).to_url(v) for v in value)
    >>> app = Kettle(__name__)
    >>> app.url_map.converters["list"] = ListConverter
    >>> @app.route("/sum/<list:numbers>")
    ... def total(numbers):
    ...     return str(sum(map(int, numbers)))
    >>> app.url_path_for("total", numbers=[1, 2])
    '/sum/1,2'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from kettle.routing.converters import Converter
from kettle.routing.routes import Route

__all__ = ["BaseConverter", "Map", "Rule", "RuleFactory", "Submount", "URLMap"]


class BaseConverter(Converter):
    """A converter written the Werkzeug way: ``to_python`` and ``to_url``, ``regex``.

    ``to_python`` raising ``ValueError`` makes the route not match (404 when no other
    does); ``to_url`` gives the segment's text (URL building quotes it afterwards).
    """

    #: what a segment must look like (a segment is never empty and has no ``/``)
    regex = "[^/]+"
    #: made as ``Converter(url_map, *args, **kwargs)``, as Werkzeug makes its converters
    takes_url_map = True

    def __init__(self, map: Any = None, *args: Any, **kwargs: Any) -> None:
        self.map = map
        self.args = args
        self.kwargs = kwargs

    def to_python(self, value: str) -> Any:
        """The value a matched segment stands for."""
        return value

    def convert(self, value: str) -> Any:
        if not value:
            raise ValueError("empty segment")
        return self.to_python(value)

    def to_url(self, value: Any) -> str:
        return str(value)


class RuleFactory:
    """Something that gives rules: a :class:`Rule` itself, or a group of them."""

    def get_rules(self, map: Any) -> Iterable[Rule]:
        raise NotImplementedError


class Rule(RuleFactory):
    """A URL rule written the Werkzeug way, added with ``app.url_map.add(rule)``.

    It becomes an ``add_url_rule(string, endpoint=...)`` of the app: the view is the
    one registered under ``endpoint`` (``@app.endpoint(name)``).

    Example:
        >>> from kettle import Kettle
        >>> from kettle.rules import Rule
        >>> app = Kettle(__name__)
        >>> app.url_map.add(Rule("/about", endpoint="about"))
        >>> @app.endpoint("about")
        ... def about() -> str:
        ...     return "about us"
        >>> from kettle.testing import TestClient
        >>> TestClient(app).get("/about").text
        'about us'
    """

    def __init__(
        self,
        string: str,
        *,
        endpoint: str | None = None,
        methods: Iterable[str] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        if not string.startswith("/"):
            raise ValueError(f"a rule must start with a slash: {string!r}")
        self.rule = string
        self.endpoint = endpoint
        self.methods = None if methods is None else {m.upper() for m in methods}
        self.defaults = dict(defaults) if defaults else None

    def get_rules(self, map: Any) -> Iterable[Rule]:
        yield self

    def __repr__(self) -> str:
        return f"<Rule {self.rule!r} -> {self.endpoint}>"


class Submount(RuleFactory):
    """Rules under a common path prefix: ``Submount("/api", [Rule("/x", ...)])``."""

    def __init__(self, path: str, rules: Iterable[RuleFactory]) -> None:
        self.path = path.rstrip("/")
        self.rules = list(rules)

    def get_rules(self, map: Any) -> Iterable[Rule]:
        for factory in self.rules:
            for rule in factory.get_rules(map):
                yield Rule(
                    self.path + rule.rule,
                    endpoint=rule.endpoint,
                    methods=rule.methods,
                    defaults=rule.defaults,
                )


class Map(RuleFactory):
    """A list of rules (Werkzeug's ``Map``), added to an app with ``url_map.add(Map(...))``."""

    def __init__(self, rules: Iterable[RuleFactory] = ()) -> None:
        self.rules = list(rules)

    def get_rules(self, map: Any) -> Iterable[Rule]:
        for factory in self.rules:
            yield from factory.get_rules(map)


class _App(Protocol):
    converters: dict[str, type[Converter]]

    def add_url_rule(
        self,
        /,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> None: ...

    @property
    def compiled_routes(self) -> list[Route]: ...


class URLMap:
    """``app.url_map``: the app's converters and compiled routes, under Werkzeug's names."""

    def __init__(self, app: _App) -> None:
        self._app = app

    @property
    def converters(self) -> dict[str, type[Converter]]:
        """The app's converters by name (add one before declaring the routes using it)."""
        return self._app.converters

    def add(self, factory: RuleFactory) -> None:
        """Add the rules of ``factory`` (a :class:`Rule`, :class:`Submount`...) to the app."""
        for rule in factory.get_rules(self):
            options: dict[str, Any] = {"defaults": rule.defaults} if rule.defaults else {}
            self._app.add_url_rule(
                rule.rule, endpoint=rule.endpoint, methods=rule.methods, **options
            )

    def iter_rules(self, endpoint: str | None = None) -> Iterator[Route]:
        """The routes (all, or those named ``endpoint``)."""
        for route in self._app.compiled_routes:
            if endpoint is None or route.name == endpoint:
                yield route

    def is_endpoint_expecting(self, endpoint: str, *arguments: str) -> bool:
        """Whether a route named ``endpoint`` takes all of ``arguments`` in its path."""
        wanted = set(arguments)
        return any(wanted <= _path_params(route.path) for route in self.iter_rules(endpoint))

    def __iter__(self) -> Iterator[Route]:
        return self.iter_rules()


def _path_params(path: str) -> set[str]:
    import re

    found = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>|\{([^}:]+)(?::[^}]*)?\}", path)
    return {(a or b).strip() for a, b in found}
