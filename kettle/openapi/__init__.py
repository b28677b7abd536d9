"""OpenAPI: every kettle app documents itself.

The app serves its OpenAPI 3.1 document at ``/openapi.json``, Swagger UI at ``/docs`` and
ReDoc at ``/redoc``, all without an internet connection. The document is written from the
compiled route plans (parameters, bodies, response models, dependencies) the first time it
is asked for, and cached.

- :class:`OpenAPIConfig`: URLs of the pages and what the document says about the app;
- :class:`SecurityScheme`: what a security dependency adds to the document;
- :func:`build_document`: the document of a list of compiled routes;
- :func:`get_openapi`: the document of an app's routes with ``info`` of your own;
- :func:`to_yaml`: a document as YAML.
"""

from typing import TYPE_CHECKING, Any

from kettle.openapi.models import OPENAPI_VERSION, OpenAPIConfig, SecurityScheme

if TYPE_CHECKING:
    from kettle.openapi.document import get_openapi
    from kettle.openapi.generate import build_document
    from kettle.openapi.yamldump import to_yaml

__all__ = [
    "OPENAPI_VERSION",
    "OpenAPIConfig",
    "SecurityScheme",
    "build_document",
    "get_openapi",
    "to_yaml",
]

# PERF: every app imports this package (for its settings); the generator loads when a
# document is first built (import kettle: ~1.5 ms less).
_LAZY = {
    "build_document": "kettle.openapi.generate",
    "get_openapi": "kettle.openapi.document",
    "to_yaml": "kettle.openapi.yamldump",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kettle.openapi' has no attribute {name!r}")
