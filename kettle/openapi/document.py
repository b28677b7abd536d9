"""The app's OpenAPI document as a part of the app: built on first use from the compiled
app, cached until it recompiles, served as bytes, and the routes that serve it with its
docs pages.

``Kettle`` holds one :class:`OpenAPIDocument` (``app.openapi_document``) and forwards
``app.openapi()`` to it. Importing this module is cheap: pydantic and the generator load
when a document is first built.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Iterable, Mapping, Sequence
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
        #: routers whose routes are documented as ``webhooks`` (FastAPI's ``app.webhooks``)
        self.webhook_routers: list[Any] = []
        self._built: tuple[object, JSONDict] | None = None
        self._served: tuple[object, dict[str, bytes]] = (None, {})
        routes = getattr(app, "routes", None)
        if isinstance(routes, list):  # get_openapi(routes=app.routes) finds the app by it
            _BY_ROUTES[id(routes)] = self

    def build(self) -> JSONDict:
        """The document, built from the app's compiled routes on first use and cached until
        the app recompiles (``app.openapi()`` calls this).

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
            webhooks=self.webhook_entries(),
            default_response_class=getattr(app, "default_response_class", None),
        )
        self._built = (compiled, document)
        return document

    def served(self, root_path: str = "") -> bytes:
        """The document as served: JSON bytes, with ``root_path`` as its server when the
        app names no servers of its own (cached per root path). It is what ``app.openapi()``
        returns, so an app that replaces that method serves its own document."""
        from kettle.openapi.parts import merge_root_path
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

    def webhook_entries(self) -> list[tuple[str, PlanEntry]]:
        """The routes of :attr:`webhook_routers` as ``(name, entry)``: read like a
        handler (parameters, body, response) but never served, so never compiled."""
        from kettle.openapi.parts import uncompiled_entry

        pool = getattr(self.app, "thread_pool", None)
        return [
            (route.path, uncompiled_entry(route, pool))
            for router in self.webhook_routers
            for route in getattr(router, "routes", ())
        ]

    def entries(self, routes: Sequence[Route] | None = None) -> list[PlanEntry]:
        """The compiled routes: all of them, or those serving the endpoints of ``routes``."""
        plans: tuple[PlanEntry, ...] = self.app.ensure_compiled().plans
        if routes is None or routes is getattr(self.app, "routes", None):
            return list(plans)
        endpoints = {id(route.endpoint) for route in routes}
        return [entry for entry in plans if id(entry[0].endpoint) in endpoints]

    def routes(self, taken: Iterable[Route] = ()) -> list[Route]:
        """The routes of the document and the docs pages (added by ``compile``), except
        on URLs the app's own GET routes (``taken``) already answer."""
        from kettle.openapi.ui import docs_routes

        return docs_routes(self, taken)


#: Each app's document under the identity of its ``routes`` list (weakly).
_BY_ROUTES: weakref.WeakValueDictionary[int, OpenAPIDocument] = weakref.WeakValueDictionary()


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Sequence[Route],
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Mapping[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: Mapping[str, Any] | None = None,
) -> JSONDict:
    """A document for ``routes`` (``app.routes``: the whole app, its routers included),
    written with the app's conventions and the ``info`` given here: FastAPI's
    ``get_openapi``, for an app that replaces ``app.openapi`` with a function of its own.

    Raises:
        LookupError: ``routes`` belong to no app.

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> @app.get("/pots")
        ... async def list_pots() -> list[int]:
        ...     return []
        >>> doc = get_openapi(title="Pots", version="2.0", routes=app.routes)
        >>> doc["info"], list(doc["paths"])
        ({'title': 'Pots', 'version': '2.0'}, ['/pots'])
    """
    document = _BY_ROUTES.get(id(routes))
    if document is None or getattr(document.app, "routes", None) is not routes:
        owners = [d for d in list(_BY_ROUTES.values()) if _serves(d, routes)]
        if not owners:
            raise LookupError("get_openapi(routes=...): these routes belong to no app")
        document = owners[0]
    from kettle.openapi.generate import build_document

    config = dataclasses.replace(
        document.config,
        summary=summary,
        openapi_tags=tags,
        servers=servers,
        terms_of_service=terms_of_service,
        contact=contact,
        license_info=license_info,
        separate_input_output_schemas=separate_input_output_schemas,
        external_docs=external_docs,
        webhooks=None,
    )
    built = build_document(
        document.entries(routes),
        title=title,
        version=version,
        description=description or "",
        config=config,
        default_response_class=getattr(document.app, "default_response_class", None),
    )
    built["openapi"] = openapi_version
    return built


def _serves(document: OpenAPIDocument, routes: Sequence[Route]) -> bool:
    own = getattr(document.app, "routes", ())
    wanted = {id(route) for route in routes}
    return any(id(route) in wanted for route in own)
