"""The OpenAPI 3.1 document of an app, written from its compiled route plans.

``Kettle.compile()`` has already read every handler's signature into a ``RoutePlan``
(its parameters with their locations, markers and types; its dependencies; the JSON body
and form readers) and chosen each route's response model. This module only reads those
plans: it never inspects a signature again.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kettle import params as p
from kettle.exceptions import ConfigurationError
from kettle.introspection import describe
from kettle.openapi import conventions as cv
from kettle.openapi.inputs import InputWriter, can_fail, expand_groups
from kettle.openapi.models import (
    OPENAPI_VERSION,
    JSONDict,
    OpenAPIConfig,
    PlanEntry,
    SecurityScheme,
)
from kettle.openapi.parts import (
    _deep_merge,
    _default_status,
    _default_summary,
    _docstring,
    _free_name,
    _identifier,
    _is_json_container,
    _is_page,
    _media_type_of,
    _phrase,
    _referenced,
    _scheme_of,
    _status_order,
    _tag_name,
    merge_root_path,
    uncompiled_entry,
)
from kettle.openapi.schemas import REF_PREFIX, SchemaRegistry
from kettle.routing.patterns import PathPattern
from kettle.routing.routes import HTTP_METHODS, UNSET, Route
from kettle.serialization import model_for
from kettle.signature import CallSpec

if typing.TYPE_CHECKING:
    from kettle.plan import RoutePlan

__all__ = ["build_document", "merge_root_path"]

#: Path item keys in the order the specification lists them.
_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "PUT", "POST", "DELETE", *HTTP_METHODS))}


def build_document(
    entries: Iterable[PlanEntry],
    *,
    title: str,
    version: str,
    description: str = "",
    config: OpenAPIConfig | None = None,
    webhooks: Iterable[tuple[str, PlanEntry]] = (),
    default_response_class: type | None = None,
) -> JSONDict:
    """The OpenAPI document of the compiled routes ``entries`` (and of the ``webhooks``:
    ``(name, entry)`` pairs, documented under ``webhooks``); routes naming no response
    class are documented with ``default_response_class``.

    Raises:
        ConfigurationError: two routes declare the same ``operation_id``, or two
            security dependencies declare different schemes under one name.

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__, title="Shop", version="2.0")
        >>> @app.get("/items/{item_id:int}")
        ... async def read_item(item_id: int) -> dict[str, int]:
        ...     return {"item_id": item_id}
        >>> doc = app.openapi()
        >>> doc["info"]
        {'title': 'Shop', 'version': '2.0'}
        >>> doc["paths"]["/items/{item_id}"]["get"]["operationId"]
        'read_item'
    """
    builder = _Builder(config or OpenAPIConfig())
    builder.default_response_class = default_response_class
    return builder.document(list(entries), title, version, description, list(webhooks))


class _Builder:
    def __init__(self, config: OpenAPIConfig) -> None:
        self.config = config
        self.schemas = SchemaRegistry(
            config.separate_input_output_schemas, fastapi=config.conventions == "fastapi"
        )
        self.fastapi = config.conventions == "fastapi"
        self.inputs = InputWriter(self.schemas, fastapi=self.fastapi)
        self.security_schemes: dict[str, SecurityScheme] = {}
        self.error_refs: list[JSONDict] = []  # the 422 schemas, pointed at the end
        self.unique_ids: dict[tuple[int, str], str] = {}  # FastAPI's: (route, method) -> id
        self.webhook_names: dict[int, str] = {}  # route -> its webhook's name
        self.default_response_class: Any = None  # the app's, for routes naming none

    # -- the document ------------------------------------------------------------------

    def document(
        self,
        entries: list[PlanEntry],
        title: str,
        version: str,
        description: str,
        webhooks: list[tuple[str, PlanEntry]],
    ) -> JSONDict:
        config = self.config
        info: JSONDict = {"title": title}
        if config.summary:
            info["summary"] = config.summary
        if description:
            info["description"] = description
        if config.terms_of_service:
            info["termsOfService"] = config.terms_of_service
        if config.contact:
            info["contact"] = dict(config.contact)
        if config.license_info:
            info["license"] = dict(config.license_info)
        info["version"] = version
        doc: JSONDict = {"openapi": OPENAPI_VERSION, "info": info}
        if config.servers:
            doc["servers"] = [dict(server) for server in config.servers]
        named = [(None, entry) for entry in entries] + [(n, e) for n, e in webhooks]
        documented = [
            (route, pattern, plan, method, name)
            for name, (route, pattern, plan, _) in named
            if route.include_in_schema and not route.is_websocket
            for method in sorted(route.methods, key=_METHOD_ORDER.__getitem__)
        ]
        for route, _, _, _, name in documented:
            if name is not None:
                self.webhook_names[id(route)] = name
        ids = self._operation_ids(
            [(route, pattern, method) for route, pattern, _, method, _ in documented]
        )
        paths: JSONDict = {}
        hooks: JSONDict = copy.deepcopy(dict(config.webhooks or {}))
        for (route, pattern, plan, method, name), op_id in zip(documented, ids, strict=True):
            item = (paths if name is None else hooks).setdefault(name or pattern.openapi_path, {})
            key = method.lower()
            if key not in item:  # /a/{x:int} and /a/{x} share one OpenAPI path: first wins
                item[key] = self._operation(route, pattern, plan, op_id, method)
        doc["paths"] = paths
        if hooks:
            doc["webhooks"] = hooks
        definitions = self.schemas.generate()
        if self.inputs.components:
            definitions = dict(sorted({**definitions, **self.inputs.components}.items()))
        components: JSONDict = {}
        if self.error_refs:
            definitions = self._validation_error_schemas(definitions)
        definitions = _referenced(doc, definitions)
        if definitions:
            components["schemas"] = definitions
        if self.security_schemes:
            components["securitySchemes"] = {
                name: dict(scheme.scheme) for name, scheme in self.security_schemes.items()
            }
        if components:
            doc["components"] = components
        if config.openapi_tags:
            doc["tags"] = [dict(tag) for tag in config.openapi_tags]
        if config.external_docs:
            doc["externalDocs"] = dict(config.external_docs)
        return cv.drop_nulls(doc) if self.fastapi else doc

    def _operation_ids(self, documented: Sequence[tuple[Route, PathPattern, str]]) -> list[str]:
        """Unique operation ids: explicit ones as given (a repeat is an error), generated
        ones readable and numbered on a repeat."""
        if self.fastapi:
            return self._fastapi_operation_ids(documented)
        methods: dict[int, int] = {}
        for route, _, _ in documented:
            methods[id(route)] = methods.get(id(route), 0) + 1
        wanted: list[tuple[str, bool]] = []
        generate = self.config.generate_unique_id_function
        for route, _, method in documented:
            explicit = route.operation_id is not None
            own = route.options.get("generate_unique_id_function") or generate
            if explicit:
                base = str(route.operation_id)
            elif own is not None:
                base = str(own(route))
            else:
                base = _identifier(route.name)
            if methods[id(route)] > 1:
                base = f"{base}_{method.lower()}"
            wanted.append((base, explicit))
        taken: dict[str, Route] = {}
        result = [""] * len(wanted)
        for index, ((base, explicit), (route, _, _)) in enumerate(
            zip(wanted, documented, strict=True)
        ):
            if not explicit:
                continue
            if base in taken:
                raise ConfigurationError(
                    f"operation_id {base!r} is used by both {describe(taken[base].endpoint)} "
                    f"and {describe(route.endpoint)}: operation ids must be unique"
                )
            taken[base] = route
            result[index] = base
        for index, ((base, explicit), (route, _, _)) in enumerate(
            zip(wanted, documented, strict=True)
        ):
            if explicit:
                continue
            name, count = base, 1
            while name in taken:
                count += 1
                name = f"{base}_{count}"
            taken[name] = route
            result[index] = name
        return result

    def _fastapi_operation_ids(
        self, documented: Sequence[tuple[Route, PathPattern, str]]
    ) -> list[str]:
        """FastAPI's ids: ``{name}{path}_{method}``; a repeat is only warned about."""
        generate = self.config.generate_unique_id_function
        result: list[str] = []
        for route, pattern, method in documented:
            # the route's (or its routers') function wins over the app's
            own = route.options.get("generate_unique_id_function") or generate
            if own is not None:
                unique = str(own(route))
            else:
                name = route.name.rsplit(".", 1)[-1]
                path = self.webhook_names.get(id(route), pattern.openapi_path)
                unique = cv.fastapi_operation_id(name, path, method)
            self.unique_ids[(id(route), method)] = unique
            op_id = unique if route.operation_id is None else str(route.operation_id)
            if op_id in result:
                warnings.warn(
                    f"Duplicate Operation ID {op_id} for {describe(route.endpoint)}",
                    stacklevel=2,
                )
            result.append(op_id)
        return result

    # -- one operation -----------------------------------------------------------------

    def _operation(
        self, route: Route, pattern: PathPattern, plan: RoutePlan, op_id: str, method: str
    ) -> JSONDict:
        op: JSONDict = {}
        tags = [_tag_name(tag) for tag in route.tags] or (
            [route.blueprint] if route.blueprint else []
        )
        if tags:
            op["tags"] = tags
        if self.fastapi:
            op["summary"] = route.summary or cv.field_title(route.name.rsplit(".", 1)[-1])
        else:
            op["summary"] = route.summary or _default_summary(route.name)
        text = route.description if route.description is not None else _docstring(route)
        if text:
            op["description"] = text
        op["operationId"] = op_id
        parameters = self.inputs.parameters(pattern, plan)
        if parameters:
            op["parameters"] = parameters
            self.schemas.after(functools.partial(expand_groups, op))
        # FastAPI's conventions name a body after the route's unique id, not its operation id.
        body = self.inputs.request_body(plan, self.unique_ids.get((id(route), method), op_id))
        if body is not None:
            op["requestBody"] = body
        op["responses"] = self._responses(route, plan, self.unique_ids.get((id(route), method)))
        if route.deprecated:
            op["deprecated"] = True
        security = self._security(plan.spec)
        if security:
            op["security"] = security
        callbacks = route.options.get("callbacks")
        if callbacks:
            op["callbacks"] = self._callbacks(callbacks)
        extra = route.options.get("openapi_extra")
        if extra:
            _deep_merge(op, copy.deepcopy(dict(extra)))
        return op

    def _callbacks(self, routes: Iterable[Route]) -> JSONDict:
        """``callbacks=``: the requests the API sends back, each read like a handler."""
        out: JSONDict = {}
        for route in routes:
            _, pattern, plan, _ = uncompiled_entry(route, None)
            for method in sorted(route.methods, key=_METHOD_ORDER.__getitem__):
                self.webhook_names[id(route)] = route.path
                [op_id] = self._operation_ids([(route, pattern, method)])
                operation = self._operation(route, pattern, plan, op_id, method)
                path_item = out.setdefault(route.name, {}).setdefault(route.path, {})
                path_item[method.lower()] = operation
        return out

    # -- responses -----------------------------------------------------------------------

    def _responses(self, route: Route, plan: RoutePlan, unique_id: str | None) -> JSONDict:
        spec = plan.spec
        annotation = spec.return_annotation
        model = model_for(annotation, route.response_model, UNSET)
        returns_none = annotation is None or annotation is type(None)
        status = route.status_code or (204 if returns_none and model is None else 200)
        if self.fastapi:
            status = route.status_code or _default_status(self._response_class(route))
        responses: dict[str, JSONDict] = {}
        success: JSONDict = {
            "description": str(route.options.get("response_description", "Successful Response"))
        }
        if status not in (204, 304) and status >= 200:
            if self.fastapi:
                content = self._fastapi_stream_content(route, annotation)
                if content is None:
                    name = f"Response_{unique_id}"
                    content = self._fastapi_success_content(route, model, name)
            else:
                content = self._success_content(route, annotation, model)
            if content:
                success["content"] = content
        responses[str(status)] = success
        for code, declared in (route.responses or {}).items():
            title = f"Response_{code}_{unique_id}" if self.fastapi else None
            self._declared_response(responses, code, declared, title)
        fails = can_fail(plan)
        if self.fastapi:
            fails = bool(plan.inputs) and not {"422", "4XX", "default"} & responses.keys()
        if fails and "422" not in responses:
            ref: JSONDict = {}
            self.error_refs.append(ref)
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": ref}},
            }
        return {key: responses[key] for key in sorted(responses, key=_status_order)}

    def _success_content(self, route: Route, annotation: Any, model: Any) -> JSONDict | None:
        if model is not None:
            return {"application/json": {"schema": self.schemas.request(model, "serialization")}}
        media = _media_type_of(self._response_class(route)) or _media_type_of(annotation)
        if media is not None:
            schema: JSONDict = {"type": "string"} if media.startswith("text/") else {}
            return {media: {"schema": schema}}
        if _is_page(annotation):
            return {"text/html": {"schema": {"type": "string"}}}
        if _is_json_container(annotation):
            return {
                "application/json": {
                    "schema": self.schemas.request(annotation, "serialization"),
                }
            }
        return None

    def _response_class(self, route: Route) -> Any:
        """The route's response class, or the app's default one."""
        return route.response_class or self.default_response_class

    def _fastapi_stream_content(self, route: Route, annotation: Any) -> JSONDict | None:
        """A generator handler's stream: Server-Sent Events, or JSON lines (FastAPI's)."""
        from kettle.responses import JSONResponse
        from kettle.sse import EventSourceResponse, ServerSentEvent

        endpoint = route.endpoint
        if not (inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint)):
            return None
        item = cv.stream_item(annotation)
        if item is ServerSentEvent:
            item = None
        response_class = self._response_class(route)
        if isinstance(response_class, type) and issubclass(response_class, EventSourceResponse):
            event = cv.sse_event_schema()
            if item is not None:
                data: JSONDict = {"type": "string", "contentMediaType": "application/json"}
                data["contentSchema"] = self.schemas.request(item, "serialization")
                event["properties"]["data"] = data
                event["required"] = ["data"]
            return {"text/event-stream": {"itemSchema": event}}
        if response_class is None or (
            isinstance(response_class, type) and issubclass(response_class, JSONResponse)
        ):
            schema = {} if item is None else self.schemas.request(item, "serialization")
            return {"application/jsonl": {"itemSchema": schema}}
        return None

    def _fastapi_success_content(self, route: Route, model: Any, name: str) -> JSONDict | None:
        from kettle.responses import JSONResponse

        response_class = self._response_class(route) or JSONResponse
        media = _media_type_of(response_class)
        if media is None:
            return None
        schema: JSONDict = {"type": "string"}
        if isinstance(response_class, type) and issubclass(response_class, JSONResponse):
            schema = {} if model is None else self._titled(model, name)
        return {media: {"schema": schema}}

    def _titled(self, model: Any, name: str) -> JSONDict:
        """A response schema with FastAPI's title (``Response_{id}`` as words)."""
        schema = self.schemas.request(model, "serialization")
        self.schemas.after(lambda _: cv.add_title(schema, name))
        return schema

    def _declared_response(
        self, responses: dict[str, JSONDict], code: Any, declared: Any, title: str | None
    ) -> None:
        key = str(code).upper() if isinstance(code, str) else str(code)
        if key == "DEFAULT":
            key = "default"
        entry = responses.setdefault(key, {})
        if not isinstance(declared, Mapping):
            declared = {"description": str(declared)}
        declared = dict(declared)
        model = declared.pop("model", None)
        description = declared.pop("description", None)
        entry["description"] = description or entry.get("description") or _phrase(key)
        content = declared.pop("content", None)
        if content is not None or model is not None:
            merged: JSONDict = entry.setdefault("content", {})
            for media, value in dict(content or {}).items():
                merged[media] = {**merged.get(media, {}), **copy.deepcopy(dict(value))}
            if model is not None:
                json_content = merged.setdefault("application/json", {})
                if title is None:
                    json_content["schema"] = self.schemas.request(model, "serialization")
                else:
                    json_content["schema"] = self._titled(model, title)
        for name, value in declared.items():
            entry[name] = copy.deepcopy(value)

    def _validation_error_schemas(self, definitions: JSONDict) -> JSONDict:
        if self.fastapi:
            for ref in self.error_refs:
                ref["$ref"] = REF_PREFIX + "HTTPValidationError"
            merged = {**definitions, **cv.fastapi_validation_errors()}
            return {name: merged[name] for name in sorted(merged)}
        item_name = _free_name("ValidationError", definitions)
        error_name = _free_name("HTTPValidationError", {**definitions, item_name: None})
        definitions = dict(definitions)
        definitions[item_name] = {
            "title": "ValidationError",
            "type": "object",
            "properties": {
                "type": {"title": "Error Type", "type": "string"},
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"title": "Message", "type": "string"},
                "input": {"title": "Input"},
                "ctx": {"title": "Context", "type": "object"},
            },
            "required": ["type", "loc", "msg"],
        }
        definitions[error_name] = {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": {"$ref": REF_PREFIX + item_name},
                }
            },
            "required": ["detail"],
        }
        for ref in self.error_refs:
            ref["$ref"] = REF_PREFIX + error_name
        return {name: definitions[name] for name in sorted(definitions)}

    # -- security ------------------------------------------------------------------------

    def _security(self, spec: CallSpec) -> list[JSONDict]:
        required: dict[str, list[str]] = {}
        optional: list[bool] = []
        self._collect_security(spec, [], required, optional)
        if not required:
            return []
        requirement = {name: list(dict.fromkeys(scopes)) for name, scopes in required.items()}
        if self.fastapi:
            # FastAPI lists each scheme as a requirement of its own, optional or not.
            return [{name: scopes} for name, scopes in requirement.items()]
        return [requirement, {}] if all(optional) else [requirement]

    def _collect_security(
        self,
        spec: CallSpec,
        scopes: list[str],
        required: dict[str, list[str]],
        optional: list[bool],
    ) -> None:
        for dep in spec.dependencies:
            depends = dep.depends
            own = list(depends.scopes) if isinstance(depends, p.Security) else []
            chain = scopes + own
            scheme = _scheme_of(depends.dependency) or _scheme_of(dep.call.func)
            if scheme is not None:
                known = self.security_schemes.get(scheme.name)
                if known is not None and dict(known.scheme) != dict(scheme.scheme):
                    raise ConfigurationError(
                        f"two different security schemes are named {scheme.name!r}"
                    )
                self.security_schemes[scheme.name] = scheme
                required.setdefault(scheme.name, []).extend(chain)
                optional.append(scheme.optional)
            self._collect_security(dep.call, chain, required, optional)
