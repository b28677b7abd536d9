"""What ``Kettle`` gains from the openapi package: ``app.openapi()`` and the docs routes.

Importing this module is cheap: pydantic and the generator load when a document is first
built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kettle.openapi.models import JSONDict, OpenAPIConfig, PlanEntry

if TYPE_CHECKING:
    from kettle.routing.routes import Route


class OpenAPIMixin:
    """``app.openapi()``, the cached document, and the routes serving it with its pages."""

    # Provided by Kettle:
    title: str
    version: str
    description: str
    ensure_compiled: Callable[[], Any]

    def _init_openapi(self, config: OpenAPIConfig | None = None) -> None:
        self.openapi_config = config or OpenAPIConfig()
        self._openapi_built: tuple[object, JSONDict] | None = None
        self._openapi_served: tuple[object, dict[str, bytes]] = (None, {})

    def openapi(self) -> JSONDict:
        """The app's OpenAPI 3.1 document, built from the compiled routes on first use.

        The result is cached until the routes change (the app recompiles). Replace this
        method on the app (``app.openapi = my_function``) to serve another document.

        Raises:
            ConfigurationError: the app does not compile, or two routes share an
                ``operation_id``.

        Example:
            >>> from kettle import Kettle
            >>> app = Kettle(__name__, title="Tea", version="1.0")
            >>> @app.get("/pots/{pot_id:int}", tags=["pots"])
            ... async def get_pot(pot_id: int) -> dict[str, int]:
            ...     '''Find a teapot by its number.'''
            ...     return {"pot_id": pot_id}
            >>> op = app.openapi()["paths"]["/pots/{pot_id}"]["get"]
            >>> op["summary"], op["description"], op["tags"]
            ('Get Pot', 'Find a teapot by its number.', ['pots'])
            >>> app.openapi() is app.openapi()
            True
        """
        compiled = self.ensure_compiled()
        plans: tuple[PlanEntry, ...] = compiled.plans
        built = self._openapi_built
        if built is not None and built[0] is compiled:
            return built[1]
        from kettle.openapi.generate import build_document

        document = build_document(
            plans,
            title=self.title,
            version=self.version,
            description=self.description,
            config=self.openapi_config,
        )
        self._openapi_built = (compiled, document)
        return document

    def openapi_bytes(self, root_path: str = "") -> bytes:
        """The document as served: JSON bytes, with ``root_path`` as its server when the
        app names no servers of its own (cached per root path)."""
        from kettle.openapi.generate import merge_root_path
        from kettle.responses import dumps

        document = self.openapi()
        owner, served = self._openapi_served
        if owner is not document:
            served = {}
            self._openapi_served = (document, served)
        body = served.get(root_path)
        if body is None:
            shown = document
            config = self.openapi_config
            if root_path and config.root_path_in_servers and not config.servers:
                shown = merge_root_path(document, root_path)
            body = dumps(shown)
            if len(served) > 64:
                served.clear()
            served[root_path] = body
        return body

    def _openapi_routes(self, taken: Iterable[Route] = ()) -> list[Route]:
        """The routes of the document and the docs pages (added by ``compile``), except
        on URLs the app's own GET routes (``taken``) already answer."""
        from kettle.openapi.ui import docs_routes

        return docs_routes(self, self.openapi_config, taken)
