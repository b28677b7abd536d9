"""The responses of kettle's test clients: httpx responses that also answer to Flask's
(Werkzeug's) test-response names, ``response.data``, ``.get_json()``, ``.status``..."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from kettle.datastructures import HeaderSet

__all__ = ["ResponseHeaders", "TestResponse"]


class TestResponse(httpx.Response):
    """An httpx response that also answers to Flask's test-response names.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.testing import TestClient
        >>> app = Kettle(__name__)
        >>> @app.get("/")
        ... def index() -> dict[str, int]:
        ...     return {"n": 1}
        >>> response = TestClient(app).get("/")
        >>> response.data, response.get_json(), response.status
        (b'{"n":1}', {'n': 1}, '200 OK')
    """

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = ResponseHeaders(self.headers)

    @property
    def data(self) -> bytes:
        """The body as bytes (Flask's ``response.data``)."""
        return self.content

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.text if as_text else self.content

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """The body parsed as JSON; None if it is not JSON and ``silent``."""
        if not force and "json" not in self.headers.get("content-type", ""):
            if silent:
                return None
            raise ValueError("the response is not JSON (pass force=True to parse anyway)")
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            if silent:
                return None
            raise

    @property
    def status(self) -> str:
        """``"200 OK"``: the status line, as Flask's test responses give it."""
        return f"{self.status_code} {self.reason_phrase}"

    @property
    def mimetype(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip()

    @property
    def location(self) -> str | None:
        value = self.headers.get("location")
        return None if value is None else str(value)

    @property
    def content_type(self) -> str:
        """The whole ``Content-Type`` header, parameters included (Flask's name)."""
        return str(self.headers.get("content-type", ""))

    @property
    def is_json(self) -> bool:
        """Whether the body is declared JSON (``application/json`` or ``+json``)."""
        mimetype = self.mimetype
        return mimetype == "application/json" or mimetype.endswith("+json")

    @property
    def allow(self) -> HeaderSet:
        """The methods of the ``Allow`` header (``sorted(r.allow)``, ``"GET" in r.allow``)."""
        return HeaderSet(self.headers, "allow")

    @property
    def vary(self) -> HeaderSet:
        """The header names of ``Vary``, compared case-insensitively (``"cookie" in r.vary``)."""
        return HeaderSet(self.headers, "vary")


class ResponseHeaders(httpx.Headers):
    """httpx's headers with Werkzeug's names for every value of one header.

    Example:
        >>> headers = ResponseHeaders([("Vary", "Cookie"), ("Vary", "Accept")])
        >>> headers.getlist("vary"), headers.get_all("Vary")
        (['Cookie', 'Accept'], ['Cookie', 'Accept'])
    """

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in the order received."""
        return self.get_list(key)

    get_all = getlist
