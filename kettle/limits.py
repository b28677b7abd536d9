"""Input limits: every parser kettle runs is bounded, on by default.

Each breach is answered with a precise status (413 for size, 400 for malformed or too many
parts, 408 for a body that arrives too slowly, 431 for too many headers) before the input
is buffered past the limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

KiB = 1024
MiB = 1024 * KiB


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied to every request; set app-wide or per route.

    Example:
        >>> from kettle import Kettle, Limits
        >>> app = Kettle(__name__, limits=Limits(max_body_size=2 * 1024 * 1024))
        >>> @app.post("/upload", limits={"max_body_size": 100 * 1024 * 1024})
        ... async def upload() -> dict[str, bool]:
        ...     return {"ok": True}

    Attributes:
        max_body_size: bytes of request body read by ``body()``, ``json()``, ``form()``
            and ``stream()`` (413 past it; a ``Content-Length`` above it is refused unread).
        body_timeout: seconds allowed between two chunks of a body (408 past it), so a
            client trickling a body cannot hold a worker; ``None`` disables it.
        max_headers: request header lines (431 past it).
        max_query_params: query-string fields (400 past it).
        max_cookies: cookies parsed from the ``Cookie`` header (the rest are ignored).
        max_form_fields: non-file form fields, urlencoded or multipart (400 past it).
        max_form_files: files in one multipart body (400 past it).
        max_part_size: bytes of one non-file form field (413 past it).
        max_part_headers: header lines of one multipart part (400 past it).
        max_part_header_size: bytes of one multipart part header line (400 past it).
        spool_max_size: bytes of an upload kept in memory before it is spooled to disk.
        max_websocket_message_size: bytes of one WebSocket message (closed with 1009).
    """

    max_body_size: int = 10 * MiB
    body_timeout: float | None = 30.0
    max_headers: int = 100
    max_query_params: int = 1000
    max_cookies: int = 100
    max_form_fields: int = 1000
    max_form_files: int = 100
    max_part_size: int = 1 * MiB
    max_part_headers: int = 16
    max_part_header_size: int = 8 * KiB
    spool_max_size: int = 1 * MiB
    max_websocket_message_size: int = 1 * MiB

    def replace(self, **changes: Any) -> Limits:
        """A copy with some limits changed."""
        return dataclasses.replace(self, **changes)

    def merged(self, override: Limits | Mapping[str, Any] | None) -> Limits:
        """These limits overridden by a route's: a full ``Limits`` or a mapping of changes."""
        if override is None:
            return self
        if isinstance(override, Limits):
            return override
        return self.replace(**override)


def merge_limits(
    outer: Limits | Mapping[str, Any] | None, inner: Limits | Mapping[str, Any] | None
) -> Limits | Mapping[str, Any] | None:
    """A router's limits under its parent's (or a route's under its router's): a full
    ``Limits`` replaces, a mapping of changes adds to what is outside it.

    Example:
        >>> merge_limits({"max_headers": 10}, {"max_body_size": 1})
        {'max_headers': 10, 'max_body_size': 1}
    """
    if inner is None:
        return outer
    if outer is None or isinstance(inner, Limits):
        return inner
    if isinstance(outer, Limits):
        return outer.replace(**inner)
    return {**outer, **inner}
