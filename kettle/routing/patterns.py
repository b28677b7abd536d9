"""Route path templates: ``/items/{item_id:int}`` and Flask's ``/items/<int:item_id>``.

A template is parsed once into segments: a literal, one parameter filling the segment,
or a literal-and-parameters mix (``/{name}.{ext}``) compiled to a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# Defined with every other exception; still importable from here (the same class).
from kettle.exceptions import PatternError as PatternError
from kettle.routing.converters import Converter

# {name} {name:conv} <name> <conv:name>
_PARAM_RE = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}|<(?:([^<>:]*):)?([^<>:]*)>")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT_REGEX: dict[str, str] = {
    "int": r"[0-9]+",
    "float": r"[0-9]+(?:\.[0-9]+)?",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
}


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    converter_name: str
    converter: Converter


@dataclass(frozen=True, slots=True)
class Mixed:
    """A segment mixing literal text and parameters, such as ``{stem}.{ext}``."""

    regex: re.Pattern[str]
    parts: tuple[Literal | Param, ...]

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.parts if isinstance(p, Param))

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What makes two mixed segments the same: the regex they match with (their
        literal text and their converters' patterns, arguments included, as in
        ``any(a,b)``) and their parameters' names and converter names (converter
        *instances* differ from one parse to the next, so dataclass equality would never
        find a match)."""
        return self.regex.pattern, tuple((p.name, p.converter_name) for p in self.params)

    def match(self, segment: str) -> dict[str, Any]:
        m = self.regex.fullmatch(segment)
        if m is None:
            raise ValueError(segment)
        return {p.name: p.converter.convert(m[p.name]) for p in self.params}


Segment = Literal | Param | Mixed


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A parsed path template."""

    template: str
    segments: tuple[Segment, ...]

    @property
    def params(self) -> dict[str, Param]:
        found: dict[str, Param] = {}
        for seg in self.segments:
            if isinstance(seg, Param):
                found[seg.name] = seg
            elif isinstance(seg, Mixed):
                found.update((p.name, p) for p in seg.params)
        return found

    @property
    def is_static(self) -> bool:
        return all(isinstance(s, Literal) for s in self.segments)

    @property
    def openapi_path(self) -> str:
        """The template in OpenAPI form: ``/items/{item_id}``."""
        out: list[str] = []
        for seg in self.segments:
            if isinstance(seg, Literal):
                out.append(seg.text)
            elif isinstance(seg, Param):
                out.append("{" + seg.name + "}")
            else:
                out.append(
                    "".join(
                        p.text if isinstance(p, Literal) else "{" + p.name + "}" for p in seg.parts
                    )
                )
        return "/" + "/".join(out)

    def format(self, values: Mapping[str, Any]) -> str:
        """Build a path from parameter values; raises ``KeyError``/``ValueError`` on a misfit."""
        out: list[str] = []
        for seg in self.segments:
            if isinstance(seg, Literal):
                out.append(quote(seg.text, safe=_SAFE))
            elif isinstance(seg, Param):
                out.append(_format_param(seg, values))
            else:
                out.append(
                    "".join(
                        quote(p.text, safe=_SAFE)
                        if isinstance(p, Literal)
                        else _format_param(p, values)
                        for p in seg.parts
                    )
                )
        return "/" + "/".join(out)


_SAFE = "!$&'()*+,;=:@-._~"


def _format_param(param: Param, values: Mapping[str, Any]) -> str:
    text = param.converter.to_url(values[param.name])
    if param.converter.greedy:
        return quote(text, safe="/" + _SAFE)
    if not text:
        raise ValueError(f"empty value for path parameter {param.name!r}")
    return quote(text, safe=_SAFE)


def parse_pattern(template: str, converters: Mapping[str, type[Converter]]) -> PathPattern:
    """Parse ``template`` into segments, checking names and converters.

    Raises:
        PatternError: the template is malformed, uses an unknown converter, repeats a
            parameter name, or puts a ``path`` parameter anywhere but the last segment.
    """
    if not template.startswith("/"):
        raise PatternError(f"route path {template!r} must start with '/'")
    raw_segments = template[1:].split("/")
    segments: list[Segment] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_segments):
        last = index == len(raw_segments) - 1
        pieces: list[Literal | Param] = []
        pos = 0
        for m in _PARAM_RE.finditer(raw):
            if m.start() > pos:
                pieces.append(Literal(raw[pos : m.start()]))
            if m.group(0).startswith("{"):
                name, conv = m.group(1), m.group(2) or "str"
            else:
                name, conv = m.group(4), m.group(3) or "default"
            name, conv = name.strip(), conv.strip()
            if not _IDENT_RE.fullmatch(name):
                raise PatternError(f"invalid parameter name {name!r} in {template!r}")
            if name in seen:
                raise PatternError(f"parameter {name!r} appears twice in {template!r}")
            seen.add(name)
            conv, args, kwargs = _converter_arguments(conv, template)
            factory = converters.get(conv)
            if factory is None:
                known = ", ".join(sorted(converters))
                raise PatternError(f"unknown converter {conv!r} in {template!r} (known: {known})")
            pieces.append(Param(name, conv, _make_converter(factory, args, kwargs, template)))
            pos = m.end()
        if pos < len(raw):
            pieces.append(Literal(raw[pos:]))
        for piece in pieces:
            if isinstance(piece, Literal) and any(c in piece.text for c in "{}<>"):
                raise PatternError(f"unbalanced brackets in {template!r}")
        segments.append(_segment(pieces, template, last))
    return PathPattern(template, tuple(segments))


_CALL_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\((.*)\)", re.DOTALL)


def _converter_arguments(text: str, template: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """``any(xhr, fetch)`` → ``("any", ("xhr", "fetch"), {})``; ``int(min=1)`` → keywords.

    Werkzeug's syntax: comma-separated Python literals or bare words, ``name=value`` for
    keywords.

    Example:
        >>> _converter_arguments("string(length=2)", "/<string(length=2):code>")
        ('string', (), {'length': 2})
    """
    call = _CALL_RE.fullmatch(text)
    if call is None:
        return text, (), {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for item in (part.strip() for part in call.group(2).split(",")):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if equals and _IDENT_RE.fullmatch(key.strip()):
            kwargs[key.strip()] = _literal(value.strip())
        elif kwargs:
            raise PatternError(f"a positional converter argument after a keyword in {template!r}")
        else:
            args.append(_literal(item))
    return call.group(1), tuple(args), kwargs


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word: any(xhr, fetch)


def _make_converter(
    factory: type[Converter], args: tuple[Any, ...], kwargs: dict[str, Any], template: str
) -> Converter:
    try:
        if factory.takes_url_map:  # Werkzeug's converters take the URL map first
            return factory(None, *args, **kwargs)  # type: ignore[call-arg]
        return factory(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise PatternError(f"bad converter arguments in {template!r}: {exc}") from None


def _segment(pieces: list[Literal | Param], template: str, last: bool) -> Segment:
    if not pieces:
        return Literal("")
    if len(pieces) == 1:
        piece = pieces[0]
        if isinstance(piece, Param) and piece.converter.greedy and not last:
            raise PatternError(f"a path parameter must be the last segment in {template!r}")
        return piece
    regex = ""
    for piece in pieces:
        if isinstance(piece, Literal):
            regex += re.escape(piece.text)
        else:
            if piece.converter.greedy:
                raise PatternError(f"a path parameter must fill its segment in {template!r}")
            sub = getattr(piece.converter, "regex", None) or _SEGMENT_REGEX.get(
                piece.converter_name, r"[^/]+?"
            )
            regex += f"(?P<{piece.name}>{sub})"
    return Mixed(re.compile(regex), tuple(pieces))
