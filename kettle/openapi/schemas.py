"""JSON Schemas for the document, from pydantic, with shared ``components/schemas``.

Every schema the document needs is *requested* while the operations are written: the
request returns an empty dict that is put where the schema belongs. When every
operation is written, one pydantic generator turns all the requests into schemas at once
and fills those dicts in place. Generating them together is what lets pydantic share each
model as one ``$ref``d component, name two models called ``Item`` from different modules
apart (``shop__models__Item``), and split a model whose accepted and sent forms differ
into ``Item-Input`` and ``Item-Output``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Literal

from kettle.openapi.models import JSONDict

Mode = Literal["validation", "serialization"]
REF_PREFIX = "#/components/schemas/"


def _generator_class(fastapi: bool = False) -> type[Any]:
    from pydantic.json_schema import GenerateJsonSchema

    class DocumentSchemas(GenerateJsonSchema):
        """pydantic's generator, lenient: a type it cannot describe is "any value"."""

        def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JSONDict:
            return {}

        def emit_warning(self, kind: Any, detail: str) -> None:
            return None  # a default that is not JSON is left out; that is no error

    if not fastapi:
        return DocumentSchemas

    class FastAPISchemas(DocumentSchemas):
        """FastAPI's conventions: bytes are octets (base64 when the model says so)."""

        def bytes_schema(self, schema: Any) -> JSONDict:
            out: JSONDict = {"type": "string", "contentMediaType": "application/octet-stream"}
            config = self._config
            mode = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
            if mode == "base64":
                out["contentEncoding"] = "base64"
            self.update_with_validations(out, schema, self.ValidationsMapping.bytes)
            return out

    return FastAPISchemas


class SchemaRegistry:
    """Collects schema requests, then generates them all in one pass.

    Example:
        >>> registry = SchemaRegistry()
        >>> slot = registry.request(int, "validation")
        >>> registry.generate()
        {}
        >>> slot
        {'type': 'integer'}
    """

    def __init__(self, separate_input_output: bool = True, *, fastapi: bool = False) -> None:
        self.separate = separate_input_output
        self.fastapi = fastapi
        self._keys: dict[Any, int | None] = {}  # annotation -> key (None: no schema)
        self._cores: dict[int, Any] = {}
        self._inputs: list[tuple[int, Mode, Any]] = []
        self._targets: dict[tuple[int, Mode], list[JSONDict]] = {}
        self._after: list[Callable[[JSONDict], None]] = []
        self._adapter: Any = None

    def _core_schema(self, annotation: Any) -> Any:
        if self._adapter is None:
            from pydantic import TypeAdapter

            self._adapter = TypeAdapter
        try:
            return self._adapter(annotation).core_schema
        except Exception:
            # A type pydantic cannot build a validator for on its own (an arbitrary class
            # the handler accepts through ``arbitrary_types_allowed``): any value.
            return None

    def request(self, annotation: Any, mode: Mode) -> JSONDict:
        """An empty dict that :meth:`generate` fills with ``annotation``'s schema."""
        if not self.separate:
            mode = "validation"
        target: JSONDict = {}
        key = self._key(annotation)
        if key is None:
            return target
        slots = self._targets.get((key, mode))
        if slots is None:
            self._inputs.append((key, mode, self._cores[key]))
            self._targets[(key, mode)] = [target]
        else:
            slots.append(target)
        return target

    def _key(self, annotation: Any) -> int | None:
        try:
            key = self._keys.get(annotation, -1)
            hashable = True
        except TypeError:  # unhashable metadata inside Annotated[...]
            key, hashable = -1, False
        if key is None or key >= 0:
            return key
        core = self._core_schema(annotation)
        key = None if core is None else len(self._cores)
        if key is not None:
            self._cores[key] = core
        if hashable:
            self._keys[annotation] = key
        return key

    def after(self, callback: Callable[[JSONDict], None]) -> None:
        """Call ``callback(definitions)`` once the schemas are filled in (to read the
        fields of a model, say)."""
        self._after.append(callback)

    def generate(self) -> JSONDict:
        """Fill every requested schema; returns the shared definitions, sorted by name."""
        if not self._inputs:
            for callback in self._after:
                callback({})
            return {}
        generator = _generator_class(self.fastapi)(ref_template=REF_PREFIX + "{model}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results, definitions = generator.generate_definitions(self._inputs)
        for key, targets in self._targets.items():
            schema = results[key]
            for target in targets:
                target.update(schema)
        shared = {name: definitions[name] for name in sorted(definitions)}
        for callback in self._after:
            callback(shared)
        return shared


def resolve(schema: JSONDict, definitions: JSONDict) -> JSONDict:
    """``schema`` itself, or the component its ``$ref`` points at.

    Example:
        >>> resolve({"$ref": "#/components/schemas/A"}, {"A": {"type": "object"}})
        {'type': 'object'}
    """
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
            break
        schema = definitions.get(ref[len(REF_PREFIX) :], {})
        seen += 1
    return schema
