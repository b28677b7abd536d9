"""Raising HTTP errors by status code: ``abort()`` and the ``Aborter`` table behind it.

An app holds one :class:`Aborter` (``app.aborter``); :func:`abort` raises through the
current app's, so an app's own classes for its own codes are what its views raise.
Outside an app, kettle's table of named errors is used (as ``kettle.exceptions.abort``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from kettle.exceptions import NAMED_ERRORS, HTTPException, error_for
from kettle.globals import current_context

__all__ = ["Aborter", "abort"]


class Aborter:
    """``abort`` as an object: raises the named error of a code, from a table you extend
    (``extra``: classes for more codes, such as an app's own 9xx errors).

    Example:
        >>> from kettle.aborting import Aborter
        >>> from kettle.exceptions import Gone
        >>> Aborter(extra={599: Gone})(599)
        Traceback (most recent call last):
        kettle.exceptions.Gone: 410: Gone
    """

    def __init__(
        self,
        mapping: Mapping[int, type[HTTPException]] | None = None,
        extra: Mapping[int, type[HTTPException]] | None = None,
    ) -> None:
        self.mapping: dict[int, type[HTTPException]] = dict(
            NAMED_ERRORS if mapping is None else mapping
        )
        self.mapping.update(extra or {})

    def __call__(
        self,
        code: Any,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        description: Any = None,
        response: Any = None,
    ) -> NoReturn:
        raise error_for(code, self.mapping, detail, headers, description, response)


def abort(
    code: Any,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    *,
    description: Any = None,
    response: Any = None,
) -> NoReturn:
    """Raise the HTTP error for ``code`` through the current app's ``aborter`` (outside an
    app, kettle's own table), as Flask's ``abort`` does.

    ``description`` is Werkzeug's name for ``detail``; ``response`` (or a response given
    in place of the code) is sent as it is.

    Example:
        >>> from kettle import NotFound, abort
        >>> try:
        ...     abort(404, description="no such teapot")
        ... except NotFound as exc:
        ...     exc.status_code, exc.detail
        (404, 'no such teapot')
    """
    ctx = current_context()
    aborter = getattr(ctx.app, "aborter", None) if ctx is not None else None
    (aborter or Aborter())(code, detail, headers, description=description, response=response)
    raise AssertionError("an aborter always raises")  # pragma: no cover
