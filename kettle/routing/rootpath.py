"""The path a request is routed on: ``scope["path"]`` without the ``root_path`` the app is
served under (ASGI puts both in the path), cut only at a segment boundary."""

from __future__ import annotations

__all__ = ["route_path"]


def route_path(path: str, root_path: str | None) -> str:
    """``path`` without ``root_path`` when it lies under it, else ``path`` as it is.

    Example:
        >>> route_path("/api/items", "/api"), route_path("/api", "/api/")
        ('/items', '/')
        >>> route_path("/apiary", "/api"), route_path("/items", "")
        ('/apiary', '/items')
    """
    if not root_path:
        return path
    root = root_path.rstrip("/")
    if not path.startswith(root):
        return path
    rest = path[len(root) :]
    if not rest:
        return "/"
    return rest if rest[0] == "/" else path
