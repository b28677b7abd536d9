"""``fastapi.applications``: the ``FastAPI`` application class, served by kettle.

Example:
    >>> from kettle.fastapi.applications import FastAPI
    >>> app = FastAPI()
    >>> app.openapi()["info"]
    {'title': 'FastAPI', 'version': '0.1.0'}
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kettle import Kettle
from kettle.openapi import OpenAPIConfig

__all__ = ["FastAPI"]


class FastAPI(Kettle):
    """A :class:`kettle.Kettle` app with FastAPI's defaults: the title ``FastAPI``, the
    version ``0.1.0`` and a document written with FastAPI's conventions (operation ids
    such as ``read_item_items__item_id__get``; see :mod:`kettle.openapi.conventions`),
    so that clients generated from FastAPI's document keep working.

    FastAPI's keyword arguments that ``Kettle`` takes under ``openapi=`` are accepted
    here: ``root_path_in_servers`` and ``separate_input_output_schemas``.

    Example:
        >>> app = FastAPI(title="Inventory")
        >>> @app.get("/items/{item_id}")
        ... async def read_item(item_id: int):
        ...     return {"item_id": item_id}
        >>> app.openapi()["paths"]["/items/{item_id}"]["get"]["operationId"]
        'read_item_items__item_id__get'
    """

    def __init__(
        self,
        *,
        title: str = "FastAPI",
        version: str = "0.1.0",
        openapi: OpenAPIConfig | None = None,
        root_path_in_servers: bool = True,
        separate_input_output_schemas: bool = True,
        **options: Any,
    ) -> None:
        config = dataclasses.replace(
            openapi or OpenAPIConfig(),
            conventions="fastapi",
            root_path_in_servers=root_path_in_servers,
            separate_input_output_schemas=separate_input_output_schemas,
        )
        super().__init__(title=title, version=version, openapi=config, **options)
