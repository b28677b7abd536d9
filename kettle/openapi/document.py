"""The app's OpenAPI document as a part of the app: built on first use from the compiled
app, cached until it recompiles, served as bytes, and the routes that serve it with its
docs pages.

``Kettle`` holds one :class:`OpenAPIDocument` (``app.openapi_document``) and forwards
``app.openapi()`` to it. Importing this module is cheap: pydantic and the generator load
when a document is first built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from kettle.openapi.models import JSONDict, OpenAPIConfig, PlanEntry

if TYPE_CHECKING:
    from kettle.routing.routes import Route


class DocumentedApp(Protocol):
    """What the document needs of the app it describes."""

    title: str
    version: str
    description: str

    def ensure_compiled(self) -> Any: ...
    def openapi(self) -> JSONDict: ...


class OpenAPIDocument:
    """The document of one app, its settings, and the routes serving it with its pages."""

    def __init__(self, app: DocumentedApp, config: OpenAPIConfig | None = None) -> None:
        self.app = app
        self.config = config or OpenAPIConfig()
        self._built: tuple[object, JSONDict] | None = None
        self._served: tuple[object, dict[str, bytes]] = (None, {})

    def build(self) -> JSONDict:
        """The document, built from the app's compiled routes on first use and cached until
        the app recompiles (``app.openapi()`` calls this)."""
        app = self.app
        compiled = app.ensure_compiled()
        plans: tuple[PlanEntry, ...] = compiled.plans
        built = self._built
        if built is not None and built[0] is compiled:
            return built[1]
        from kettle.openapi.generate import build_document

        document = build_document(
            plans,
            title=app.title,
            version=app.version,
            description=app.description,
            config=self.config,
        )
        self._built = (compiled, document)
        return document

    def served(self, root_path: str = "") -> bytes:
        """The document as served: JSON bytes, with ``root_path`` as its server when the
        app names no servers of its own (cached per root path). It is what ``app.openapi()``
        returns, so an app that replaces that method serves its own document."""
        from kettle.openapi.generate import merge_root_path
        from kettle.responses import dumps

        document = self.app.openapi()
        owner, served = self._served
        if owner is not document:
            served = {}
            self._served = (document, served)
        body = served.get(root_path)
        if body is None:
            shown = document
            config = self.config
            # FastAPI names the prefix first even beside servers of the app's own.
            fastapi = config.conventions == "fastapi"
            if root_path and config.root_path_in_servers and (fastapi or not config.servers):
                shown = merge_root_path(document, root_path)
            body = dumps(shown)
            if len(served) > 64:
                served.clear()
            served[root_path] = body
        return body

    def routes(self, taken: Iterable[Route] = ()) -> list[Route]:
        """The routes of the document and the docs pages (added by ``compile``), except
        on URLs the app's own GET routes (``taken``) already answer."""
        from kettle.openapi.ui import docs_routes

        return docs_routes(self, taken)
