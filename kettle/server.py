"""How ``kettle run`` configures uvicorn: a bound on the request head.

uvicorn's fast parser (httptools) accepts request heads of any size: a client can send a
20 MB header and the server buffers all of it. ``kettle run`` uses this subclass of
uvicorn's httptools protocol instead, which answers 431 once the request line and headers
of one request pass ``MAX_HEAD_SIZE`` bytes. (uvicorn's h11 protocol has its own limit,
``h11_max_incomplete_event_size``, which ``kettle run`` sets to the same value.)
"""

from __future__ import annotations

from typing import Any

MAX_HEAD_SIZE = 64 * 1024

_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\n"
    b"connection: close\r\n\r\n"
    b"Request Header Fields Too Large"
)


def http_protocol() -> str:
    """The uvicorn ``http=`` setting kettle serves with (an import string, so workers can
    import it too)."""
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        return "h11"
    return "kettle.server:BoundedHttpToolsProtocol"


def _protocol_class() -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, refusing request heads over ``MAX_HEAD_SIZE``."""

        _head_bytes = 0
        _in_head = True

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head = True
            self._head_bytes = 0

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            # Bytes after this belong to the next request's head.
            self._in_head = True
            self._head_bytes = 0

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                # One read can hold the end of the head and the start of the body: count
                # up to the blank line that ends the head (a C-speed search per read).
                end = data.find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else end + 4
                if self._head_bytes > MAX_HEAD_SIZE:
                    self.logger.warning("Request head over %d bytes refused", MAX_HEAD_SIZE)
                    self.transport.write(_431)
                    self.transport.close()
                    return
            super().data_received(data)

    return BoundedHttpToolsProtocol


def __getattr__(name: str) -> Any:
    # Built on first use so importing kettle never imports uvicorn's protocol modules.
    if name == "BoundedHttpToolsProtocol":
        return _protocol_class()
    raise AttributeError(name)
