"""``fastapi.applications``: the ``FastAPI`` application class, served by kettle.

Example:
    >>> from kettle.fastapi.applications import FastAPI
    >>> app = FastAPI()
    >>> app.openapi()["info"]
    {'title': 'FastAPI', 'version': '0.1.0'}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kettle import Kettle, Router
from kettle.introspection import mark_coroutine_function
from kettle.openapi import OPENAPI_VERSION, OpenAPIConfig
from kettle.routing import Route
from kettle.routing.inherit import route_defaults

__all__ = ["FastAPI"]


class FastAPI(Kettle):
    """A :class:`kettle.Kettle` app with FastAPI's defaults: the title ``FastAPI``, the
    version ``0.1.0`` and a document written with FastAPI's conventions (operation ids
    such as ``read_item_items__item_id__get``; see :mod:`kettle.openapi.conventions`),
    so that clients generated from FastAPI's document keep working.

    FastAPI's keyword arguments that ``Kettle`` takes under ``openapi=`` are accepted
    here: ``root_path_in_servers``, ``separate_input_output_schemas`` and
    ``openapi_external_docs``; so are the app-wide route defaults ``responses``,
    ``deprecated`` and ``include_in_schema`` (the root router's), ``webhooks`` (a router
    documented, never served), ``routes`` (a list of routes, served as if added),
    ``callbacks`` (documented under every operation) and the deprecated ``openapi_prefix``
    (``root_path``); an empty ``openapi_url``, ``docs_url`` or ``redoc_url`` turns that
    page off, as ``None`` does.

    Example:
        >>> app = FastAPI(title="Inventory")
        >>> @app.get("/items/{item_id}")
        ... async def read_item(item_id: int):
        ...     return {"item_id": item_id}
        >>> app.openapi()["paths"]["/items/{item_id}"]["get"]["operationId"]
        'read_item_items__item_id__get'
    """

    #: everything a handler returns is JSON (a ``str`` too), as in FastAPI
    returns_pages = False
    #: a second handler for a routed method and path is ignored (the first answers)
    allow_shadowed_routes = True
    #: the trailing-slash redirect is a 307, as in FastAPI (kettle's own: 308)
    slash_redirect_status = 307
    #: FastAPI's answers on error paths: a plain-text 500, unhandled errors raised in
    #: the test client, a yield dependency that swallows the handler's error a FastAPIError
    conventions = "fastapi"

    def __init__(
        self,
        *,
        title: str = "FastAPI",
        version: str = "0.1.0",
        openapi: OpenAPIConfig | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        separate_input_output_schemas: bool = True,
        openapi_external_docs: Mapping[str, Any] | None = None,
        openapi_prefix: str = "",
        responses: Mapping[int | str, Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        webhooks: Router | None = None,
        routes: Sequence[Route] | None = None,
        callbacks: Sequence[Route] | None = None,
        static_folder: str | None = None,
        template_folder: str | None = None,
        **options: Any,
    ) -> None:
        # FastAPI's root_path is the URL prefix a proxy strips (kettle's, Flask's, is the
        # app's folder): it is the requests' ASGI root_path, and the document's server.
        # FastAPI apps serve no static/ or templates/ folder by themselves: they mount.
        # openapi_prefix is FastAPI's old, deprecated name of root_path (FastAPI logs it).
        self.root_path_prefix = (root_path or openapi_prefix).rstrip("/")
        options.update(static_folder=static_folder, template_folder=template_folder)
        for name in ("openapi_url", "docs_url", "redoc_url"):
            if options.get(name) == "":  # FastAPI turns a page off with "" too
                options[name] = None
        config = dataclasses.replace(
            openapi or OpenAPIConfig(),
            conventions="fastapi",
            root_path_in_servers=root_path_in_servers,
            separate_input_output_schemas=separate_input_output_schemas,
        )
        if openapi_external_docs is not None:
            config = dataclasses.replace(config, external_docs=openapi_external_docs)
        super().__init__(title=title, version=version, openapi=config, **options)
        #: the document once built; FastAPI apps read it, or set their own (``openapi()``)
        self.openapi_schema: dict[str, Any] | None = None
        self.openapi_version = OPENAPI_VERSION
        #: a router whose routes are documented as the document's ``webhooks``, never served
        self.webhooks = webhooks if webhooks is not None else Router()
        self.openapi_document.webhook_routers.append(self.webhooks)
        # FastAPI's app-wide route defaults are the root router's (kettle.Router has them).
        self.router.responses = dict(responses or {})
        self.router.deprecated = bool(deprecated)
        self.router.include_in_schema = include_in_schema
        self.router.route_defaults.update(route_defaults(callbacks=callbacks))
        self.router.routes.extend(routes or ())

    def __call__(self, scope: Any, receive: Any, send: Any = None) -> Any:
        if send is not None and self.root_path_prefix:
            scope["root_path"] = self.root_path_prefix
        return super().__call__(scope, receive, send)

    mark_coroutine_function(__call__)

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Route:
        """FastAPI's name of :meth:`kettle.Kettle.add_route` (GET unless ``methods`` says)."""
        return self.add_route(path, endpoint, methods, name, **options)

    def add_api_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None, **options: Any
    ) -> Route:
        """FastAPI's name of :meth:`kettle.Kettle.add_websocket_route`."""
        return self.add_websocket_route(path, endpoint, name, **options)

    def websocket_route(
        self, path: str, name: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Starlette's name of :meth:`kettle.Kettle.websocket`."""
        return self.websocket(path, name)

    def openapi(self) -> dict[str, Any]:
        """The document: ``openapi_schema`` once built (as in FastAPI, it is kept there)."""
        if self.openapi_schema is None:
            self.openapi_schema = super().openapi()
        return self.openapi_schema

    # FastAPI's attributes for what kettle keeps in ``openapi_config``.
    @property
    def openapi_url(self) -> str | None:
        return self.openapi_config.openapi_url

    @property
    def docs_url(self) -> str | None:
        return self.openapi_config.docs_url

    @property
    def redoc_url(self) -> str | None:
        return self.openapi_config.redoc_url

    @property
    def swagger_ui_oauth2_redirect_url(self) -> str | None:
        return self.openapi_config.swagger_ui_oauth2_redirect_url

    @property
    def swagger_ui_init_oauth(self) -> Mapping[str, Any] | None:
        return self.openapi_config.swagger_ui_init_oauth

    @property
    def swagger_ui_parameters(self) -> Mapping[str, Any] | None:
        return self.openapi_config.swagger_ui_parameters

    @property
    def openapi_tags(self) -> Sequence[Mapping[str, Any]] | None:
        return self.openapi_config.openapi_tags

    @property
    def servers(self) -> Sequence[Mapping[str, Any]] | None:
        return self.openapi_config.servers

    @property
    def summary(self) -> str | None:
        return self.openapi_config.summary

    @property
    def terms_of_service(self) -> str | None:
        return self.openapi_config.terms_of_service

    @property
    def contact(self) -> Mapping[str, Any] | None:
        return self.openapi_config.contact

    @property
    def license_info(self) -> Mapping[str, Any] | None:
        return self.openapi_config.license_info

    @property
    def root_path_in_servers(self) -> bool:
        return self.openapi_config.root_path_in_servers

    @property
    def separate_input_output_schemas(self) -> bool:
        return self.openapi_config.separate_input_output_schemas
