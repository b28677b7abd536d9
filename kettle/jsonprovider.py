"""``app.json``: how an app turns values into JSON text and back, settings you can change.

kettle's own responses serialize with orjson (see :mod:`kettle.serialization`); the
provider is for code that wants the app's JSON settings as text: ``json.dumps`` in a
view, a template's ``tojson``, Flask code moved over. Set ``app.json.sort_keys``,
``ensure_ascii``, ``compact``, ``default`` on the app's provider, or give the app a
subclass (``app.json = MyProvider(app)``).

Example:
    >>> from kettle.jsonprovider import DefaultJSONProvider
    >>> from datetime import date
    >>> provider = DefaultJSONProvider(None)
    >>> provider.dumps({"b": 1, "a": date(2024, 2, 29)})
    '{"a": "Thu, 29 Feb 2024 00:00:00 GMT", "b": 1}'
    >>> provider.loads('{"x": [1, 2]}')
    {'x': [1, 2]}
"""

from __future__ import annotations

import dataclasses
import decimal
import json as _json
import uuid
from collections.abc import Mapping
from datetime import date
from typing import IO, Any

import orjson

from kettle.globals import current_app, has_app_context
from kettle.http import http_date

__all__ = ["DefaultJSONProvider", "JSONProvider", "dump", "dumps", "load", "loads"]


class JSONProvider:
    """The interface: ``dumps``/``loads`` plus file variants; subclass to change all four.

    Args:
        app: the app the provider belongs to (``None`` outside one).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """``obj`` as JSON text."""
        raise NotImplementedError

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """The value JSON text ``s`` holds."""
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        """Write ``obj`` as JSON to the text file ``fp``."""
        fp.write(self.dumps(obj, **kwargs))

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        """Read a JSON value from the file ``fp``."""
        return self.loads(fp.read(), **kwargs)

    def loads_request(self, body: bytes) -> Any:
        """A request body as JSON (``request.get_json()``): :meth:`loads`; a 400 if malformed.

        :class:`DefaultJSONProvider` decodes with orjson unless a subclass overrides
        ``loads``.
        """
        from kettle.exceptions import HTTPException
        from kettle.requests import decode_json

        if type(self).loads is DefaultJSONProvider.loads:
            return decode_json(body)  # the stock loads: orjson reads the same values, faster
        try:
            return self.loads(body)
        except ValueError as exc:  # json.JSONDecodeError is one
            raise HTTPException(400, f"Malformed JSON body: {exc}") from None


def _default(o: Any) -> Any:
    to_json = getattr(o, "__json__", None)  # request.json, request.form (kettle.jsonencode)
    if to_json is not None:
        return to_json()
    if isinstance(o, Mapping):  # a MultiDict: each key's first value
        return dict(o)
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """The standard library's ``json`` with the app's settings.

    Dates become HTTP dates, ``Decimal`` and ``UUID`` strings, dataclasses dicts, and
    objects with ``__html__`` (markup) their HTML.
    """

    #: called for values ``json`` cannot encode (a static method: ``Provider.default(o)``)
    default: Any = staticmethod(_default)
    #: escape non-ASCII characters as ``\\uXXXX``
    ensure_ascii = True
    #: sort the keys of every object
    sort_keys = True
    #: ``None``: indented in debug mode, compact otherwise; ``True``/``False`` force it
    compact: bool | None = None
    #: the media type of :meth:`response`
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return _json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return _json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """A JSON response of ``args`` (one value, or a list of them) or ``kwargs``.

        Compact (``{"a":1}``) unless ``compact`` is ``False``, or ``None`` in debug mode
        (then indented by 2), with a final newline, as :attr:`mimetype`.

        Example:
            >>> DefaultJSONProvider(None).response(b=1, a=[2]).body
            b'{"a":[2],"b":1}\\n'
        """
        from kettle.responses import Response

        if args and kwargs:
            raise TypeError("response() takes positional or keyword arguments, not both")
        data: Any = kwargs if not args else args[0] if len(args) == 1 else list(args)
        debug = bool(self.app is not None and getattr(self.app, "debug", False))
        pretty = self.compact is False or (self.compact is None and debug)
        body = None if pretty else self._fast(data)
        if body is None:
            layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
            body = f"{self.dumps(data, **layout)}\n".encode()
        return Response(body, media_type=self.mimetype)

    def _fast(self, data: Any) -> bytes | None:
        """orjson's compact output when it equals ``json``'s here, else ``None``.

        Only for the provider as shipped (no overridden ``dumps`` or ``default``): then
        the result is the standard library's JSON (floats may be spelled shorter, and
        NaN is ``null``), several times faster.
        """
        if type(self).dumps is not DefaultJSONProvider.dumps or self.default is not _default:
            return None
        option = _FAST_OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        try:
            body = orjson.dumps(data, default=_default, option=option)
        except (TypeError, orjson.JSONEncodeError):
            return None  # an int past 64 bits, keys that are not strings: json decides
        # json escapes non-ASCII as \uXXXX (ensure_ascii), orjson writes UTF-8
        return body if not self.ensure_ascii or body.isascii() else None


# Dates and dataclasses go through _default (HTTP dates, as json's path writes them),
# plus the final newline json's path adds.
_FAST_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE
)


def provider() -> Any:
    """The current app's provider, else a default one (``Any``: subclasses add methods)."""
    found = getattr(current_app, "json", None) if has_app_context() else None
    return found if isinstance(found, JSONProvider) else _DEFAULT


_DEFAULT = DefaultJSONProvider(None)


def dumps(obj: Any, **kwargs: Any) -> str:
    """``obj`` as JSON text, with the current app's provider (else the default one)."""
    text: str = provider().dumps(obj, **kwargs)
    return text


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """The value in JSON text ``s``, with the current app's provider."""
    return provider().loads(s, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """Write ``obj`` as JSON to ``fp``, with the current app's provider."""
    provider().dump(obj, fp, **kwargs)


def load(fp: IO[Any], **kwargs: Any) -> Any:
    """Read a JSON value from ``fp``, with the current app's provider."""
    return provider().load(fp, **kwargs)
