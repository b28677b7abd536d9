"""The exceptions kettle raises.

Two families, never mixed: mistakes in how the app is *declared* are found at startup, and
problems with a *request* become an HTTP response::

    Exception
    ├── ConfigurationError        bad declaration: raised at compile time, never an HTTP 500
    └── HTTPException             a request error: becomes a response with its status code
        ├── RequestValidationError    (422) input did not match the handler's declared types
        └── ...                       (raised by parsers: 400, 408, 413, 415, 431)
    WebSocketDisconnect           the peer went away (raised by receive on a closed socket)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, NoReturn


class ConfigurationError(Exception):
    """A route, handler or setting was declared in a way kettle cannot serve.

    Raised while the app compiles (at startup or on the first request), naming the
    handler and where it was defined, so the mistake is fixed before any request fails.
    """


class HTTPException(Exception):
    """Stop handling the request and answer with ``status_code``.

    Example:
        >>> from kettle import HTTPException
        >>> def read_item(item_id: int) -> dict[str, int]:
        ...     if item_id != 1:
        ...         raise HTTPException(404, "Item not found", headers={"X-Error": "missing"})
        ...     return {"id": item_id}
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = _phrase(status_code)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(HTTPException):
    """The request's input did not match what the handler declared (HTTP 422).

    ``errors`` is a list of dicts shaped like pydantic's: ``type``, ``loc``, ``msg``,
    ``input`` and optionally ``ctx``; ``loc`` starts with where the value came from
    (``path``, ``query``, ``header``, ``cookie`` or ``body``).
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self._errors = [dict(e) for e in errors]
        super().__init__(422, self._errors)

    def errors(self) -> list[dict[str, Any]]:
        """The validation errors, one dict per problem."""
        return self._errors


class WebSocketDisconnect(Exception):
    """The WebSocket peer closed the connection (or it was lost)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)


def abort(
    status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None
) -> NoReturn:
    """Raise :class:`HTTPException`; the Flask spelling.

    Example:
        >>> from kettle import abort
        >>> def secret() -> str:
        ...     abort(403, "Not for you")
    """
    raise HTTPException(status_code, detail, headers)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
