"""Werkzeug's names for a response's state: ``response.data``, ``.status``,
``.mimetype``, ``.location``..., for Flask code and tests.

:class:`~kettle.responses.Response` inherits them; nothing on the hot path reads them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal, overload

import orjson

from kettle.datastructures import HeaderSet, MutableHeaders
from kettle.http import CacheControl, parse_cache_control_header

__all__ = ["ResponseNames"]


class ResponseNames:
    """What a response answers to under Werkzeug's names (mixed into ``Response``)."""

    body: bytes
    charset: str
    status_code: int

    @property
    def headers(self) -> MutableHeaders:
        raise NotImplementedError

    #: Werkzeug's flag for a body sent as it is from a file (:class:`FileResponse`)
    direct_passthrough: bool = False

    @overload
    def get_data(self, as_text: Literal[False] = False) -> bytes: ...
    @overload
    def get_data(self, as_text: Literal[True]) -> str: ...
    @overload
    def get_data(self, as_text: bool) -> bytes | str: ...

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The body, as bytes or (``as_text=True``) decoded with the response's charset.

        Example:
            >>> from kettle import Response
            >>> Response("héllo").get_data(as_text=True)
            'héllo'
        """
        body = self.body
        return body.decode(self.charset, "replace") if as_text else body

    def set_data(self, value: str | bytes) -> None:
        """Replace the body (a ``str`` is encoded); ``Content-Length`` follows.

        Example:
            >>> from kettle import Response
            >>> r = Response("old")
            >>> r.set_data("newer")
            >>> r.data, r.headers["content-length"]
            (b'newer', '5')
        """
        body = value.encode(self.charset) if isinstance(value, str) else bytes(value)
        self.body = body
        self.headers["content-length"] = str(len(body))

    @property
    def data(self) -> bytes:
        """The body as bytes (Werkzeug's ``response.data``); assigning calls :meth:`set_data`."""
        return self.get_data()

    @data.setter
    def data(self, value: str | bytes) -> None:
        self.set_data(value)

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as a number (``None`` when unset)."""
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    @property
    def is_json(self) -> bool:
        """The response declares a JSON body (``application/json``, ``+json``)."""
        from kettle.mediatypes import is_json

        return is_json((self.headers.get("content-type") or "").split(";")[0].strip())

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """The body parsed as JSON, for tests (Werkzeug's): ``None`` when the response
        is not JSON unless ``force``; malformed JSON raises unless ``silent``.

        Example:
            >>> from kettle import JSONResponse
            >>> JSONResponse({"ok": True}).get_json()
            {'ok': True}
        """
        if not (force or self.is_json):
            return None
        try:
            return orjson.loads(self.get_data())
        except orjson.JSONDecodeError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """:meth:`get_json`'s value (Werkzeug's ``response.json``)."""
        return self.get_json()

    @property
    def cache_control(self) -> CacheControl:
        """The ``Cache-Control`` header, parsed (``.max_age``, ``.no_cache``...); read-only.

        Example:
            >>> from kettle import Response
            >>> Response(headers={"cache-control": "public, max-age=60"}).cache_control.max_age
            60
        """
        return parse_cache_control_header(self.headers.get("cache-control"))

    @property
    def status(self) -> str:
        """The status line, ``"404 Not Found"``; assign a code or a line to change it.

        Example:
            >>> from kettle import Response
            >>> r = Response()
            >>> r.status = "201 CREATED"
            >>> r.status_code, r.status
            (201, '201 Created')
        """
        code = self.status_code
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{code} {phrase}"

    @status.setter
    def status(self, value: str | int) -> None:
        text = str(value).strip()
        code = text.split(None, 1)[0] if text else ""
        if not code.isdigit():
            raise ValueError(f"a status must start with its code, not {value!r}")
        self.status_code = int(code)

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, parameters included (``None`` when absent)."""
        value: str | None = self.headers.get("content-type")
        return value

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers["content-type"] = value

    @property
    def mimetype(self) -> str | None:
        """The media type without parameters (``"text/html"``); assigning one sets
        ``Content-Type`` (``text/*`` with the charset)."""
        value = self.content_type
        return None if value is None else value.split(";", 1)[0].strip().lower()

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        if value.startswith("text/") and "charset=" not in value:
            value = f"{value}; charset={self.charset}"
        self.headers["content-type"] = value

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The ``Content-Type`` parameters: ``{"charset": "utf-8"}``."""
        params: dict[str, str] = {}
        for part in (self.content_type or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip():
                params[key.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def location(self) -> str | None:
        """The ``Location`` header (``None`` when absent)."""
        value: str | None = self.headers.get("location")
        return value

    @location.setter
    def location(self, value: str) -> None:
        self.headers["location"] = value

    def close(self) -> None:
        """Nothing to release for a body in memory (Werkzeug's ``response.close()``)."""

    @property
    def vary(self) -> HeaderSet:
        """The ``Vary`` header as a set: ``response.vary.add("Cookie")``."""
        return HeaderSet(self.headers, "vary")
