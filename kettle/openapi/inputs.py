"""A handler's inputs in the document: parameters and request bodies.

Read from the compiled plan: each ``ParamSpec`` says where a value comes from (path,
query, header, cookie, JSON body, form, file), under which name, with which type and
which marker; the plan's body and form readers say how the body is shaped.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union

from kettle import params as p
from kettle.openapi.conventions import add_title
from kettle.openapi.models import JSONDict
from kettle.openapi.schemas import REF_PREFIX, SchemaRegistry, resolve
from kettle.routing import converters as conv
from kettle.routing.patterns import PathPattern
from kettle.signature import ParamSpec, aliased_keys, strip_annotated, union_arms

if typing.TYPE_CHECKING:
    from kettle.plan import RoutePlan

_BINARY: JSONDict = {"type": "string", "format": "binary"}
_OCTETS: JSONDict = {"type": "string", "contentMediaType": "application/octet-stream"}


class InputWriter:
    """Writes parameters and request bodies, requesting their schemas from ``schemas``."""

    def __init__(self, schemas: SchemaRegistry, *, fastapi: bool = False) -> None:
        self.schemas = schemas
        #: FastAPI's conventions: titled schemas, bodies as ``Body_{operation id}``
        self.fastapi = fastapi
        #: the body components written so far (FastAPI's conventions only)
        self.components: JSONDict = {}

    def parameters(self, pattern: PathPattern, plan: RoutePlan) -> list[Any]:
        """The operation's parameters (a model spread into several is filled in later
        by :func:`expand_groups`)."""
        found: list[Any] = []
        seen: set[tuple[str, str]] = set()
        inputs = _declaration_order(plan) if self.fastapi else plan.inputs
        for prm in inputs:
            if prm.location in ("body", "form", "file"):
                continue
            if prm.location == "path" and prm.alias not in pattern.params:
                continue  # a route default (Flask's defaults=): not the client's to send
            key = (prm.location, prm.alias)
            if key in seen:
                continue
            seen.add(key)
            if not prm.marker.include_in_schema:
                continue
            if prm.group:
                found.append(_Group(prm, self.schemas.request(prm.annotation, "validation")))
            else:
                found.append(self._parameter(prm, pattern, plan))
        # Every templated name must be declared, also those the handler takes in **kwargs.
        for name, param in pattern.params.items():
            if ("path", name) not in seen:
                found.append(
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": _converter_schema(param.converter),
                    }
                )
        # Path first, in the template's order; then query, header, cookie as declared.
        # (FastAPI's conventions: path ones as declared too.)
        order = {} if self.fastapi else {name: i for i, name in enumerate(pattern.params)}
        found.sort(key=lambda item: _parameter_order(item, order))
        return found

    def _parameter(self, prm: ParamSpec, pattern: PathPattern, plan: RoutePlan) -> JSONDict:
        location = prm.location
        marker = prm.marker
        param: JSONDict = {"name": prm.alias, "in": location}
        if marker.description:
            param["description"] = marker.description
        param["required"] = prm.required or location == "path"
        if marker.deprecated:
            param["deprecated"] = True
        converter = pattern.params.get(prm.alias) if location == "path" else None
        if self.fastapi:
            if converter is not None and prm.annotation is Any:
                # The converter made the value its type; the plan no longer says whether
                # the handler declared one (FastAPI documents an undeclared one as any value).
                declared = _declares_type(plan, prm)
                kind = converter.converter.python_type
                schema = self.schemas.request(kind, "validation") if declared else {}
            else:
                schema = self._schema_of(prm)
            self._title(schema, prm, described=True)
        elif converter is not None and prm.annotation is Any and not _has_schema_options(marker):
            schema = _converter_schema(converter.converter)
        else:
            schema = self._schema_of(prm)
            if converter is not None and isinstance(
                converter.converter, conv.IntConverter | conv.FloatConverter
            ):
                # The converter only matches digits: no sign, so no negative values.
                self.schemas.after(lambda _: _not_negative(schema))
        param["schema"] = schema
        if marker.openapi_examples:
            param["examples"] = copy.deepcopy(dict(marker.openapi_examples))
        return param

    def _title(self, schema: JSONDict, prm: ParamSpec, *, described: bool = False) -> None:
        """FastAPI's conventions: the schema names its field (once it is filled in)."""
        marker = prm.marker

        def fill(_: JSONDict) -> None:
            add_title(schema, prm.alias, marker.title)
            if described and marker.description and "$ref" not in schema:
                schema["description"] = marker.description
            if described and marker.deprecated and "$ref" not in schema:
                schema["deprecated"] = True

        self.schemas.after(fill)

    def _component(self, name: str, schema: JSONDict) -> JSONDict:
        """FastAPI's conventions: a body schema is a component, referred to."""
        self.components[name] = schema
        return {"$ref": REF_PREFIX + name}

    def _schema_of(self, prm: ParamSpec) -> JSONDict:
        """The validation schema of one parameter, with its marker's constraints."""
        marker = prm.marker
        if prm.annotation is Any and not _has_schema_options(marker):
            schema: JSONDict = {}
        else:
            schema = self.schemas.request(_with_field(prm), "validation")
        if not prm.required and marker.default_factory is None:
            default = _jsonable(prm.default)
            if default is not _NO_JSON:
                # After the schema is filled in, so that it reads type first, default last.
                self.schemas.after(lambda _: schema.__setitem__("default", default))
        return schema

    # -- request bodies ----------------------------------------------------------------

    def request_body(self, plan: RoutePlan, op_id: str) -> JSONDict | None:
        """The operation's JSON or form body, or ``None``."""
        if plan.body is not None:
            specs = [s for s in plan.body.specs if s.marker.include_in_schema]
            if not specs:
                return None
            single = bool(plan.body.single)
            return self._json_body(specs, single, op_id)
        if plan.form is not None:
            specs = [item[-1] for item in plan.form.specs]
            specs = [s for s in specs if s.marker.include_in_schema]
            if specs:
                return self._form_body(specs, op_id)
        return None

    def _json_body(self, specs: list[ParamSpec], single: bool, op_id: str) -> JSONDict:
        first = specs[0]
        media = getattr(first.marker, "media_type", None) or "application/json"
        body: JSONDict = {}
        if single:
            schema = self._schema_of(first)
            if self.fastapi:
                self._title(schema, first, described=True)
            if first.marker.description:
                body["description"] = first.marker.description
            required = first.required
        else:
            properties: JSONDict = {}
            needed: list[str] = []
            for spec in specs:
                if spec.alias in properties:
                    continue
                properties[spec.alias] = self._schema_of(spec)
                if self.fastapi:
                    self._title(properties[spec.alias], spec, described=True)
                if spec.required:
                    needed.append(spec.alias)
            schema = {"title": f"Body_{op_id}", "type": "object", "properties": properties}
            if needed:
                schema["required"] = needed
            required = bool(needed)
            if self.fastapi:
                schema = self._component(f"Body_{op_id}", schema)
        content: JSONDict = {"schema": schema}
        examples = _merged_examples(specs) if single else None
        if examples:
            content["examples"] = examples
        body["content"] = {media: content}
        if required:
            body["required"] = True
        return body

    def _form_body(self, specs: list[ParamSpec], op_id: str) -> JSONDict:
        multipart = any(
            s.location == "file"
            or getattr(s.marker, "media_type", "").startswith("multipart/")
            or _mentions_upload(s.annotation)
            for s in specs
        )
        media = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        if self.fastapi and len(specs) == 1 and specs[0].group:
            model = self.schemas.request(specs[0].annotation, "validation")
            return {"content": {media: {"schema": model}}, "required": True}
        properties: JSONDict = {}
        needed: list[str] = []
        schema: JSONDict = {"title": f"Body_{op_id}", "type": "object", "properties": properties}
        for spec in specs:
            if spec.group:
                model = self.schemas.request(spec.annotation, "validation")
                self.schemas.after(functools.partial(_merge_form_model, schema, model))
                continue
            if spec.alias in properties:
                continue
            if spec.location == "file" or _mentions_upload(spec.annotation):
                properties[spec.alias] = _file_schema(spec.annotation, fastapi=self.fastapi)
                if spec.marker.description:
                    properties[spec.alias]["description"] = spec.marker.description
            else:
                properties[spec.alias] = self._schema_of(spec)
            if self.fastapi:
                self._title(properties[spec.alias], spec, described=True)
            if spec.required:
                needed.append(spec.alias)
        if needed:
            schema["required"] = needed
        shown = self._component(f"Body_{op_id}", schema) if self.fastapi else schema
        body: JSONDict = {"content": {media: {"schema": shown}}}
        if needed or any(s.group for s in specs):
            body["required"] = True
        return body


class _Group:
    """A model read field by field from the query, headers or cookies: its fields become
    parameters once the model's schema is known."""

    def __init__(self, prm: ParamSpec, schema: JSONDict) -> None:
        self.prm = prm
        self.schema = schema

    def parameters(self, definitions: JSONDict) -> list[JSONDict]:
        model = resolve(self.schema, definitions)
        required = set(model.get("required", ()))
        location = self.prm.location
        convert = location == "header" and getattr(self.prm.marker, "convert_underscores", True)
        aliased = aliased_keys(self.prm.annotation)
        out: list[JSONDict] = []
        for name, prop in dict(model.get("properties", {})).items():
            wire = name.replace("_", "-").lower() if convert and name not in aliased else name
            param: JSONDict = {"name": wire, "in": location, "required": name in required}
            if isinstance(prop, dict) and prop.get("description"):
                param["description"] = prop["description"]
            if isinstance(prop, dict) and prop.get("deprecated"):
                param["deprecated"] = True
            param["schema"] = prop
            out.append(param)
        return out


_LOCATIONS = {"path": 0, "query": 1, "header": 2, "cookie": 3}


def _parameter_order(item: Any, path_order: Mapping[str, int]) -> tuple[int, int]:
    if isinstance(item, _Group):
        return (_LOCATIONS.get(item.prm.location, 4), 0)
    location = item["in"]
    rank = path_order.get(item["name"], 0) if location == "path" else 0
    return (_LOCATIONS.get(location, 4), rank)


def expand_groups(op: JSONDict, definitions: JSONDict) -> None:
    items: list[Any] = op["parameters"]
    if not any(isinstance(item, _Group) for item in items):
        return
    flat: list[JSONDict] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        for param in item.parameters(definitions) if isinstance(item, _Group) else [item]:
            key = (param["in"], param["name"])
            if key not in seen:
                seen.add(key)
                flat.append(param)
    items[:] = flat
    if not items:
        del op["parameters"]


def _merge_form_model(schema: JSONDict, model: JSONDict, definitions: JSONDict) -> None:
    resolved = resolve(model, definitions)
    properties = schema["properties"]
    for name, prop in dict(resolved.get("properties", {})).items():
        properties.setdefault(name, prop)
    needed = [n for n in resolved.get("required", ()) if n not in schema.get("required", ())]
    if needed:
        schema["required"] = [*schema.get("required", ()), *needed]


def _declaration_order(plan: RoutePlan) -> list[ParamSpec]:
    """The plan's inputs as FastAPI lists them: the handler's own first, then each
    dependency's (the app's and routers' first), depth first."""
    out: list[ParamSpec] = []
    seen: set[int] = set()
    visited: set[int] = set()

    def visit(spec: Any) -> None:
        if id(spec) in visited:
            return
        visited.add(id(spec))
        for prm in spec.params:
            if id(prm) not in seen:
                seen.add(id(prm))
                out.append(prm)
        for dep in spec.dependencies:
            visit(dep.call)

    visit(plan.spec)
    out.extend(prm for prm in plan.inputs if id(prm) not in seen)
    return out


def _declares_type(plan: RoutePlan, prm: ParamSpec) -> bool:
    """Whether the function taking ``prm`` annotates it (read from its signature)."""
    import inspect

    for step in plan.steps:
        if any(other is prm for other in step.spec.params):
            try:
                parameter = inspect.signature(step.spec.func).parameters.get(prm.name)
            except (TypeError, ValueError):
                return True
            return parameter is None or parameter.annotation is not inspect.Parameter.empty
    return True


def _converter_schema(converter: conv.Converter) -> JSONDict:
    """What a path converter accepts, as a schema."""
    if isinstance(converter, conv.IntConverter):
        return {"type": "integer", "minimum": 0}
    if isinstance(converter, conv.FloatConverter):
        return {"type": "number", "minimum": 0}
    if isinstance(converter, conv.UUIDConverter):
        return {"type": "string", "format": "uuid"}
    if isinstance(converter, conv.PathConverter):
        return {"type": "string"}
    custom = getattr(converter, "openapi_schema", None)
    if isinstance(custom, Mapping):
        return dict(custom)
    kind = type(converter).python_type
    if kind is int:
        return {"type": "integer"}
    if kind is float:
        return {"type": "number"}
    if isinstance(converter, conv.StringConverter):
        return {"type": "string", "pattern": "^[^/]+$"}
    return {"type": "string"}


def _not_negative(schema: JSONDict) -> None:
    if schema.get("type") in ("integer", "number") and not (
        {"minimum", "exclusiveMinimum"} & schema.keys()
    ):
        schema["minimum"] = 0


def _has_schema_options(marker: p.Param) -> bool:
    return bool(
        marker.constraints()
        or marker.title
        or marker.examples
        or marker.json_schema_extra
        or marker.discriminator
    )


def _with_field(prm: ParamSpec) -> Any:
    """The parameter's type with its marker's constraints, title and examples."""
    marker = prm.marker
    if prm.group or not _has_schema_options(marker):
        return prm.annotation
    import pydantic

    constraints = {k: v for k, v in marker.constraints().items() if k != "strict"}
    field = pydantic.Field(
        title=marker.title,
        examples=marker.examples,
        json_schema_extra=marker.json_schema_extra,
        discriminator=marker.discriminator,
        **constraints,
    )
    return Annotated[prm.annotation, field]


_NO_JSON: Any = object()


def _jsonable(value: Any) -> Any:
    try:
        from pydantic_core import to_jsonable_python

        return to_jsonable_python(value)
    except Exception:
        return _NO_JSON


def _merged_examples(specs: list[ParamSpec]) -> JSONDict | None:
    examples: JSONDict = {}
    for spec in specs:
        if spec.marker.openapi_examples:
            examples.update(copy.deepcopy(dict(spec.marker.openapi_examples)))
    return examples or None


def union_members(tp: Any) -> tuple[Any, ...]:
    """The non-``None`` members of a union, or ``(tp,)`` for any other type."""
    tp = strip_annotated(tp)
    arms = union_arms(tp)
    return (tp,) if arms is None else arms


def _mentions_upload(tp: Any) -> bool:
    from kettle.forms import UploadFile

    for member in union_members(tp):
        origin = typing.get_origin(member)
        if origin is not None and origin is not Union:
            if any(_mentions_upload(a) for a in typing.get_args(member)):
                return True
        elif isinstance(member, type) and issubclass(member, UploadFile):
            return True
    return False


def _file_schema(tp: Any, *, fastapi: bool = False) -> JSONDict:
    """An uploaded file (``UploadFile`` or ``bytes``), or a list of them (FastAPI's
    conventions: a ``contentMediaType``, and ``null`` when it is optional)."""
    members = union_members(tp)
    member = members[0] if len(members) == 1 else None
    origin = typing.get_origin(member)
    if origin in (list, tuple, set, frozenset, Sequence):
        args = [a for a in typing.get_args(member) if a is not Ellipsis]
        items = _file_schema(args[0] if args else bytes, fastapi=fastapi)
        schema: JSONDict = {"type": "array", "items": items}
    else:
        schema = dict(_OCTETS if fastapi else _BINARY)
    if fastapi and union_arms(strip_annotated(tp)) is not None and _takes_none(tp):
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _takes_none(tp: Any) -> bool:
    return type(None) in typing.get_args(strip_annotated(tp))


def can_fail(plan: RoutePlan) -> bool:
    """Whether a request can be refused with a 422: a JSON body (always: it may not
    parse), an input that is validated or that is required."""
    if plan.body is not None:
        return True
    if any(step.validator is not None for step in plan.steps):
        return True
    return any(prm.required and prm.location != "path" for prm in plan.inputs)
