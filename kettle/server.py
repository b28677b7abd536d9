"""The server layer of ``kettle run``: uvicorn, driving a hardened httptools protocol.

uvicorn's httptools protocol trusts the client more than a server facing the internet
can. ``kettle run`` serves with :class:`BoundedHttpToolsProtocol`, a subclass that adds:

- a bound on the request head (431 past ``MAX_HEAD_SIZE``, checked per read, so the end
  of a head split across two reads is still found) and on a chunked body's trailer
  section, which httptools would otherwise buffer without limit;
- trailer fields dropped: llhttp reports them through the same ``on_header`` callback as
  the head, and uvicorn appends them to the list that is ``scope["headers"]``, so a
  trailer ``Host``, ``Cookie`` or ``X-Forwarded-Proto`` would reach the app.

(uvicorn's h11 protocol has its own head limit, ``h11_max_incomplete_event_size``, which
``kettle run`` sets to the same value.) Importing this module imports nothing from
uvicorn: the protocol class is built on first use of
``kettle.server.BoundedHttpToolsProtocol``, the import string uvicorn is given.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

KiB = 1024
MAX_HEAD_SIZE = 64 * KiB


def http_protocol() -> str:
    """The uvicorn ``http=`` setting kettle serves with (an import string, so workers can
    import it too)."""
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        return "h11"
    return "kettle.server:BoundedHttpToolsProtocol"


def _response(status: bytes, reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b" " + reason + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(reason)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + reason
    )


_431 = _response(b"431", b"Request Header Fields Too Large")


@functools.cache
def protocol_class(max_head: int = MAX_HEAD_SIZE) -> type[Any]:
    """uvicorn's httptools protocol with kettle's bounds (built once per bound)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    # PERF: the per-request overrides call these directly; super() costs twice as much
    # (0.29 against 0.13 us a call on the 2-core benchmark machine).
    parent_data_received = HttpToolsProtocol.data_received
    parent_on_headers_complete = HttpToolsProtocol.on_headers_complete
    parent_on_message_complete = HttpToolsProtocol.on_message_complete

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with kettle's bounds (see :mod:`kettle.server`)."""

        _in_head = True  # the next bytes received belong to a request head
        _in_chunk = False  # between a chunk's header and its end (or the trailers' end)
        _head_bytes = 0
        _trailer_bytes = 0

        def data_received(self, data: bytes) -> None:
            # PERF: per read, a few attribute operations and one C-speed find while in a
            # head.
            if self._in_head:
                # Count up to the blank line that ends the head when this read holds it
                # (the rest is body), else the whole read.
                end = data.find(b"\r\n\r\n")
                self._head_bytes += len(data) if end < 0 else end + 4
                if end >= 0 and self._head_bytes > max_head:
                    self._refuse_head()
                    return
                parent_data_received(self, data)
                # Still in the same head and over the bound. Judged after parsing, not
                # before: when the blank line is split across two reads ("\r\n\r" then
                # "\n" and a body), find() sees no end, yet the parser ends the head in
                # this read's first bytes and the rest is body. (The bound can be passed
                # by at most one read before this triggers.)
                if self._in_head and self._head_bytes > max_head:
                    if not self.transport.is_closing():
                        self._refuse_head()
                    return
            elif self._in_chunk:
                # Inside a chunk: its data, or -- after the last, empty chunk -- the
                # trailer section, which httptools buffers field by field without limit.
                # A read that adds no body while a chunk is open is trailer bytes.
                body = self.cycle.body
                size = len(body)
                parent_data_received(self, data)
                if self._in_chunk and len(body) == size:
                    self._trailer_bytes += len(data)
                    if self._trailer_bytes > max_head and not self.transport.is_closing():
                        self.logger.warning("Chunked trailers over %d bytes refused", max_head)
                        self._fail(_431 if self._can_answer_request() else None)
                else:
                    self._trailer_bytes = 0
            else:
                parent_data_received(self, data)

        def _refuse_head(self) -> None:
            self.logger.warning("Request head over %d bytes refused", max_head)
            self._fail(_431 if self._can_answer_head() else None)

        # -- parser callbacks ---------------------------------------------------------------

        def on_headers_complete(self) -> None:
            self._in_head = False
            parent_on_headers_complete(self)

        def on_chunk_header(self) -> None:
            self._in_chunk = True
            self._trailer_bytes = 0
            if self.headers is self.scope["headers"]:
                # Trailers: llhttp reports them through on_header too, which appends to
                # self.headers -- the very list scope["headers"] holds. Before the first
                # chunk (so before any trailer) it becomes a private copy: no trailer
                # field ever reaches the app.
                self.headers = self.headers.copy()

        def on_chunk_complete(self) -> None:
            self._in_chunk = False

        def on_message_complete(self) -> None:
            parent_on_message_complete(self)
            # Whatever follows belongs to the next request's head.
            self._in_head = True
            self._head_bytes = 0

        # -- giving up on a connection -----------------------------------------------------

        def _can_answer_head(self) -> bool:
            """No response is being written: the previous one (if any) is complete."""
            cycle: RequestResponseCycle | None = self.cycle
            return not self.pipeline and (cycle is None or cycle.response_complete)

        def _can_answer_request(self) -> bool:
            """The current request's response has not started."""
            cycle: RequestResponseCycle | None = self.cycle
            return not self.pipeline and cycle is not None and not cycle.response_started

        def _fail(self, response: bytes | None) -> None:
            """Answer ``response`` (when given), stop the request's app and close."""
            transport = self.transport
            if response is not None:
                transport.write(response)
            cycle: RequestResponseCycle | None = self.cycle
            if cycle is not None and not cycle.response_complete:
                # What connection_lost would do, done now: the app's sends become no-ops
                # (nothing can follow the answer above) and a receive() returns
                # http.disconnect.
                cycle.disconnected = True
                cycle.message_event.set()
            if transport.get_write_buffer_size():
                transport.abort()  # a client that does not read gets no graceful close
            else:
                transport.close()

    return BoundedHttpToolsProtocol


def __getattr__(name: str) -> Any:
    # Built on first use so importing kettle never imports uvicorn's protocol modules.
    if name == "BoundedHttpToolsProtocol":
        return protocol_class()
    raise AttributeError(name)
