"""FastAPI's import paths, served by kettle: change ``fastapi`` to ``kettle.fastapi``.

Everything here is kettle's own object under FastAPI's name; nothing is reimplemented.

Example:
    >>> from kettle.fastapi import FastAPI, Query
    >>> app = FastAPI(title="Inventory")
    >>> @app.get("/items/{item_id}")
    ... async def read_item(item_id: int, q: str | None = Query(None, max_length=50)):
    ...     return {"item_id": item_id, "q": q}
"""

from kettle import (
    BackgroundTasks,
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from kettle import Router as APIRouter
from kettle.exceptions import WebSocketException
from kettle.fastapi.applications import FastAPI

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "FastAPI",
    "File",
    "Form",
    "HTTPException",
    "Header",
    "Path",
    "Query",
    "Request",
    "Response",
    "Security",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
]
