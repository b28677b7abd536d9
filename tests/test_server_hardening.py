"""The server layer of ``kettle run`` over real sockets (HOSTILE-INPUTS item 10).

Each test starts ``kettle run`` in a subprocess on 127.0.0.1, with short timeouts passed as
options, and talks to it with raw sockets. The protocol's pure parts (the head counter
across split reads, trailers, the connection and request caps) are also driven directly,
with a stand-in transport, at the end of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import kettle
from kettle.server import (
    ServerSettings,
    default_connection_limit,
    protocol_class,
    raise_open_file_limit,
)

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    from kettle import Kettle, Request, Router, WebSocket

    app = Kettle(__name__)

    @app.get("/hello")
    def hello():
        return {"message": "Hello, kettle!"}

    @app.route("/url", methods=["GET", "POST"])
    async def url(request: Request):
        body = await request.body()
        return {
            "scheme": request.url.scheme,
            "hosts": request.headers.getlist("host"),
            "cookie": request.headers.get("cookie"),
            "trailer": request.headers.get("x-trailer"),
            "size": len(body),
        }

    @app.post("/echo")
    async def echo(request: Request):
        return {"size": len(await request.body())}

    @app.get("/slow")
    async def slow():
        import asyncio

        await asyncio.sleep(1.5)
        return {"slow": True}

    @app.post("/slow-reader")
    async def slow_reader(request: Request):
        import asyncio

        await asyncio.sleep(1.5)  # the app, not the client, holds the body back
        return {"size": len(await request.body())}

    @app.websocket("/ws")
    async def ws(ws: WebSocket):
        await ws.accept()
        while True:
            await ws.send_text(str(len(await ws.receive_text())))

    # One route allows bigger messages than the app's 1 MiB: the server's bound follows it.
    big = Router(limits={"max_websocket_message_size": 2 * 1024 * 1024})

    @big.websocket("/ws-big")
    async def ws_big(ws: WebSocket):
        await ws.accept()
        while True:
            await ws.send_text(str(len(await ws.receive_text())))

    app.include_router(big)
    """
)

HELLO = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A ``kettle run`` process on 127.0.0.1."""

    def __init__(self, app_dir: Path, *options: str) -> None:
        self.port = _free_port()
        self.log = app_dir / f"server-{self.port}.log"
        # The kettle under test, whatever is installed: its source root goes on the path.
        root = str(Path(kettle.__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(app_dir), root])}
        command = [sys.executable, "-m", "kettle", "run", "served_app:app"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*command, "--port", str(self.port), *options],
                cwd=app_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{self.url}/hello", timeout=1)
                return
            time.sleep(0.05)
        raise RuntimeError(f"server did not come up:\n{self.log.read_text()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def hello(self) -> int:
        return httpx.get(f"{self.url}/hello", timeout=5).status_code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hardened")
    (path / "served_app.py").write_text(APP)
    return path


@pytest.fixture(scope="module")
def server(app_dir: Path) -> Iterator[Server]:
    """One server with short timeouts, shared by the tests that do not stop it."""
    running = Server(
        app_dir,
        "--timeout-head", "1", "--timeout-body", "1", "--min-body-rate", "1000",
        "--timeout-keep-alive", "1",
    )  # fmt: skip
    yield running
    running.stop()


def _read_all(sock: socket.socket) -> bytes:
    """Read until the server closes (or the socket's timeout passes)."""
    chunks: list[bytes] = []
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _read_response(sock: socket.socket) -> bytes:
    """Read one response with a Content-Length (on a connection that stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )  # fmt: skip
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _exchange(server: Server, data: bytes) -> bytes:
    with server.connect() as sock:
        sock.sendall(data)
        return _read_all(sock)


def _json_body(response: bytes) -> Any:
    import json

    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response[:300]
    return json.loads(body)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``sock`` within ``seconds``, and what it sent first."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return False, data
    except ConnectionResetError:
        pass
    return True, data


# -- defect 1: trailers ------------------------------------------------------------------


def test_trailer_fields_never_become_request_headers(server: Server) -> None:
    response = _exchange(
        server,
        b"POST /url HTTP/1.1\r\nHost: good.com\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\nHost: evil.com\r\n"
        b"X-Forwarded-Proto: https\r\nCookie: session=stolen\r\nX-Trailer: 1\r\n\r\n",
    )
    assert _json_body(response) == {
        "scheme": "http", "hosts": ["good.com"], "cookie": None, "trailer": None, "size": 3,
    }  # fmt: skip


def test_a_late_trailer_is_not_injected_into_headers_the_handler_holds(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /url HTTP/1.1\r\nHost: good.com\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n"
        )
        time.sleep(0.2)  # the handler has the body, and its headers, by now
        sock.sendall(b"Host: evil.com\r\nX-Trailer: late\r\n\r\n")
        body = _json_body(_read_all(sock))
    assert body["hosts"] == ["good.com"]
    assert body["trailer"] is None


def test_oversized_trailers_are_refused_without_buffering_them(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"1\r\na\r\n0\r\nX-Trailer: "
        )
        sent = 0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 8 * 1024 * 1024:  # httptools alone would buffer all of it
                sock.sendall(b"t" * 65536)
                sent += 65536
        response = _read_all(sock)
    assert sent < 8 * 1024 * 1024
    assert response.startswith(b"HTTP/1.1 431 ") or response == b""
    assert server.hello() == 200


# -- defect 7: the end of the head split across reads -------------------------------------


@pytest.mark.parametrize("split", [1, 2, 3])
def test_head_end_split_across_reads_is_not_a_false_431(server: Server, split: int) -> None:
    body = b"x" * 100_000
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
    with server.connect() as sock:
        sock.sendall(head[:-split])
        time.sleep(0.2)
        sock.sendall(head[-split:] + body)
        assert _json_body(_read_all(sock)) == {"size": 100_000}


def test_an_oversized_head_sent_slowly_is_still_refused(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(4):
                sock.sendall(b"a" * 30_000)
                time.sleep(0.05)
        assert _read_all(sock).startswith(b"HTTP/1.1 431 ")


# -- defect 2: timeouts ------------------------------------------------------------------


def test_an_idle_connection_is_closed_by_the_head_deadline(server: Server) -> None:
    with server.connect() as sock:
        closed, data = _closed_within(sock, 3)
    assert closed
    assert data == b""  # nothing was asked: nothing is answered


def test_a_slow_head_is_answered_408_by_the_deadline(server: Server) -> None:
    with server.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET /hello HTTP/1.1\r\n")
        for _ in range(3):  # one header line every 0.4 s: never finishing in time
            time.sleep(0.4)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"X-Slow: 1\r\n")
        closed, data = _closed_within(sock, 3)
    assert closed
    assert data.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 3


def test_a_later_head_on_a_keep_alive_connection_has_its_own_deadline(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(HELLO)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /hello HTTP/1.1\r\n")  # and never the rest
        closed, data = _closed_within(sock, 3)
    assert closed
    assert data.startswith(b"HTTP/1.1 408 ")


def test_bytes_sent_ahead_do_not_cut_a_slow_response_short(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        sock.sendall(b"\r\n")  # a stray CRLF (or a pipelined head) while the app works
        assert _json_body(_read_response(sock)) == {"slow": True}  # after 1.5 s


def test_crlf_between_requests_does_not_keep_a_connection_open(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(HELLO)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - started < 2.5:
                sock.sendall(b"\r\n")  # each resets uvicorn's keep-alive timer
                time.sleep(0.3)
        closed, _ = _closed_within(sock, 2)
    assert closed


def test_an_idle_keep_alive_connection_is_closed(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(HELLO)
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
        closed, _ = _closed_within(sock, 3)
    assert closed


def test_a_dripped_body_is_answered_408(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        started = time.monotonic()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(8):  # ten bytes a second: well below --min-body-rate
                sock.sendall(b"x")
                time.sleep(0.1)
        closed, data = _closed_within(sock, 3)
    assert closed
    assert data.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 3


def test_a_body_at_a_decent_rate_earns_more_time(server: Server) -> None:
    # 20 KB at about 10 KB/s: twice --timeout-body, but earning a second per 1000 bytes.
    with server.connect() as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
        for _ in range(20):
            sock.sendall(b"x" * 1000)
            time.sleep(0.1)
        assert _json_body(_read_response(sock)) == {"size": 20_000}


def test_a_body_the_app_is_slow_to_read_is_not_the_clients_fault(app_dir: Path) -> None:
    import threading

    def send(data: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.sendall(data)

    # A rate no client reaches: what arrived before the server stopped reading earns no
    # time, so only noticing that the app holds the body back avoids a 408.
    running = Server(app_dir, "--timeout-body", "1", "--min-body-rate", "1e9")
    size = 4 * 1024 * 1024  # far more than the server buffers before it stops reading
    try:
        with running.connect(timeout=10) as sock:
            head = b"POST /slow-reader HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            sender = threading.Thread(target=send, args=(head % size + b"x" * size,))
            sender.start()
            response = _read_response(sock)
            sender.join(timeout=10)
        assert _json_body(response) == {"size": size}
    finally:
        running.stop()


def test_a_client_waiting_for_100_continue_is_not_timed_out(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /slow-reader HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        # The app asks for the body only after 1.5 s: past --timeout-body, not late.
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hello")
        assert _json_body(_read_response(sock)) == {"size": 5}


def test_a_bounded_slowloris_run(server: Server) -> None:
    socks = [server.connect() for _ in range(200)]
    try:
        for sock in socks:
            sock.sendall(b"GET /hello HTTP/1.1\r\n")
        started = time.monotonic()
        while time.monotonic() - started < 2:
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X")  # a byte of a header name, every so often
            assert server.hello() == 200  # the server still answers others
            time.sleep(0.25)
        # Past the head deadline every one of them has been closed.
        for sock in socks:
            closed, _ = _closed_within(sock, 1.5)
            assert closed
    finally:
        for sock in socks:
            sock.close()


# -- defect 2: connection and concurrency caps --------------------------------------------


def test_thousands_of_idle_sockets_get_503s_not_a_dead_server(app_dir: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2200
    if soft < wanted + 200:
        if hard != resource.RLIM_INFINITY and hard < wanted + 200:
            pytest.skip("the test process may not open enough sockets")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted + 200, hard))
    running = Server(app_dir, "--limit-connections", "100", "--timeout-head", "30")
    socks: list[socket.socket] = []
    try:
        for _ in range(wanted):
            with contextlib.suppress(OSError):
                socks.append(running.connect())
        statuses = set()
        for _ in range(20):
            try:
                statuses.add(running.hello())
            except httpx.TransportError as exc:  # a reset would mean the server died
                raise AssertionError(f"no answer: {exc!r}") from exc
        assert statuses <= {200, 503}
        assert 503 in statuses
        for sock in socks:
            sock.close()
        time.sleep(0.3)
        assert running.hello() == 200  # back to serving once the sockets are gone
    finally:
        for sock in socks:
            sock.close()
        running.stop()


def test_requests_past_the_concurrency_limit_get_503(app_dir: Path) -> None:
    running = Server(app_dir, "--limit-concurrency", "2", "--timeout-body", "30")
    held = [running.connect() for _ in range(2)]
    try:
        for sock in held:  # two requests in progress, waiting for their bodies
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        time.sleep(0.3)
        assert running.hello() == 503
        for sock in held:
            sock.sendall(b"x" * 10)
            assert _json_body(_read_response(sock)) == {"size": 10}
        time.sleep(0.1)
        assert running.hello() == 200
        # Idle keep-alive connections are not requests in progress.
        idle = [running.connect() for _ in range(5)]
        assert running.hello() == 200
        for sock in idle:
            sock.close()
    finally:
        for sock in held:
            sock.close()
        running.stop()


def test_open_file_limit_and_default_connection_cap() -> None:
    limit = raise_open_file_limit()
    assert limit == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert default_connection_limit(1024) == 768
    assert default_connection_limit(100) == 36
    assert default_connection_limit(10) == 1
    assert default_connection_limit(1 << 20) == 4096


# -- defect 3: graceful shutdown ---------------------------------------------------------


def test_sigterm_with_a_slow_body_client_exits_within_the_grace_period(app_dir: Path) -> None:
    running = Server(app_dir, "--timeout-graceful-shutdown", "1", "--timeout-body", "60")
    try:
        with running.connect() as slow:
            slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
            time.sleep(0.2)
            started = time.monotonic()
            running.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(OSError):
                for _ in range(10):
                    slow.sendall(b"x")  # still trickling while the server stops
                    time.sleep(0.1)
            running.proc.wait(timeout=10)
            elapsed = time.monotonic() - started
            closed, data = _closed_within(slow, 2)
        log = running.log.read_text()
        assert elapsed < 3, log
        assert closed
        # Not uvicorn's own way out (cancelling the app's task, which it logs as a crash
        # and answers 500): kettle closes the connection first, with a 503.
        assert data.startswith(b"HTTP/1.1 503 ") or data == b""
        assert "Traceback" not in log, log
    finally:
        running.stop()


# -- defect 5: WebSocket messages bounded before they are inflated ------------------------


def _deflate_bomb(size: int) -> bytes:
    """A text message of ``size`` spaces, compressed as permessage-deflate sends it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(b" " * size) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]  # the trailing 00 00 ff ff is implied (RFC 7692 7.2.1)


def _ws_connect(server: Server, path: str, compress: bool) -> socket.socket:
    import base64

    sock = server.connect()
    key = base64.b64encode(os.urandom(16))
    extension = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if compress else b""
    sock.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        + key + b"\r\n" + extension + b"\r\n"
    )  # fmt: skip
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101 "), head
    if compress:
        assert b"permessage-deflate" in head.lower(), head
    return sock


def _ws_frame(payload: bytes, compressed: bool) -> bytes:
    first = 0x81 | (0x40 if compressed else 0)  # FIN, text, RSV1 = compressed
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes([first, 0x80 | size])
    elif size < 1 << 16:
        header = bytes([first, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def _ws_close(sock: socket.socket) -> tuple[int, bytes] | None:
    """The code and reason of the close frame the server sends (None if it just drops us)."""
    data = _read_all(sock)
    while len(data) >= 2:
        opcode, size = data[0] & 0x0F, data[1] & 0x7F
        start = 2 if size < 126 else 4 if size == 126 else 10
        if size >= 126:
            size = int.from_bytes(data[2:start], "big")
        if opcode == 0x8:
            payload = data[start : start + size]
            return int.from_bytes(payload[:2], "big"), payload[2:]
        data = data[start + size :]
    return None


def test_websocket_compression_is_off_by_default(server: Server) -> None:
    import base64

    with server.connect() as sock:
        key = base64.b64encode(os.urandom(16))
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
        )
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"permessage-deflate" not in head.lower()


def test_an_inflated_message_over_the_limit_is_refused_before_inflating_it(
    app_dir: Path,
) -> None:
    running = Server(app_dir, "--ws-per-message-deflate")
    try:
        # 8 MiB of spaces in ~8 KB: under uvicorn's own 16 MiB bound, which would inflate
        # all of it and hand it to the app, over the largest message any route allows.
        bomb = _deflate_bomb(8 * 1024 * 1024)
        assert len(bomb) < 10_000
        with _ws_connect(running, "/ws", compress=True) as sock:
            sock.sendall(_ws_frame(_deflate_bomb(1000), compressed=True))
            assert sock.recv(4096)  # under the limit: answered
            sock.sendall(_ws_frame(bomb, compressed=True))
            close = _ws_close(sock)
        # Refused by the server (its reason names the bound: 2 MiB, the largest route
        # limit), which stops inflating there -- not by kettle after inflating it all.
        assert close is not None
        code, reason = close
        assert code == 1009
        assert b"2097152" in reason, reason
        assert "Traceback" not in running.log.read_text()
        assert running.hello() == 200
    finally:
        running.stop()


def test_a_route_allowing_bigger_messages_still_gets_them(app_dir: Path) -> None:
    from websockets.sync.client import connect

    running = Server(app_dir, "--ws-per-message-deflate")
    try:
        message = "x" * (1536 * 1024)  # over the app's 1 MiB, under the route's 2 MiB
        with connect(f"ws://127.0.0.1:{running.port}/ws-big", max_size=None) as ws:
            ws.send(message)
            assert ws.recv(timeout=5) == str(len(message))
        with connect(f"ws://127.0.0.1:{running.port}/ws", max_size=None) as ws:
            ws.send(message)  # kettle's own 1 MiB limit for this route
            with pytest.raises(Exception, match="1009"):
                ws.recv(timeout=5)
    finally:
        running.stop()


# -- the protocol, driven directly ---------------------------------------------------------


class FakeTransport:
    """Just enough of an asyncio transport for the protocol."""

    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    abort = close

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )


seen: list[Any] = []


async def _echo_app(scope: Any, receive: Any, send: Any) -> None:
    seen.append(scope)
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _protocol(settings: ServerSettings, state: Any = None) -> tuple[Any, FakeTransport]:
    """A connected protocol (inside a running loop) and its transport."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    config = Config(app=_echo_app, lifespan="off", proxy_headers=False, log_config=None)
    config.load()
    protocol = protocol_class(settings)(
        config=config,
        server_state=state or ServerState(),
        app_state={},
        _loop=asyncio.get_running_loop(),
    )
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


def test_the_protocol_class_is_built_lazily_and_once() -> None:
    code = "import kettle, kettle.server, kettle.cli, sys; print('uvicorn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert protocol_class(ServerSettings()) is protocol_class(ServerSettings())
    assert ServerSettings.from_env(ServerSettings(limit_concurrency=3).to_env()) == (
        ServerSettings(limit_concurrency=3)
    )
    assert ServerSettings.from_env(None) == ServerSettings()


@pytest.mark.parametrize("split", range(1, 5))
def test_split_head_end_counts_only_the_head(split: int) -> None:
    async def main() -> FakeTransport:
        protocol, transport = _protocol(ServerSettings(max_head_size=100))
        head = b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
        protocol.data_received(head[:-split])
        protocol.data_received(head[-split:] + b"x" * 1000)
        await asyncio.sleep(0.01)
        return transport

    transport = asyncio.run(main())
    assert transport.written.startswith(b"HTTP/1.1 200 "), transport.written
    assert not transport.closed


def test_a_head_over_the_bound_is_refused_whole_or_in_pieces() -> None:
    async def main() -> None:
        protocol, transport = _protocol(ServerSettings(max_head_size=100))
        protocol.data_received(b"GET / HTTP/1.1\r\nX: " + b"a" * 200 + b"\r\n\r\n")
        assert transport.written.startswith(b"HTTP/1.1 431 ")
        protocol, transport = _protocol(ServerSettings(max_head_size=100))
        protocol.data_received(b"GET / HTTP/1.1\r\n")
        while not transport.closed:
            protocol.data_received(b"a" * 30)
        assert transport.written.startswith(b"HTTP/1.1 431 ")

    asyncio.run(main())


def test_trailers_stay_out_of_the_scope() -> None:
    async def main() -> FakeTransport:
        protocol, transport = _protocol(ServerSettings())
        protocol.data_received(
            b"POST / HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
        )
        await asyncio.sleep(0.01)
        protocol.data_received(b"0\r\nHost: evil\r\nCookie: a=b\r\n\r\n")
        await asyncio.sleep(0.01)
        return transport

    seen.clear()
    transport = asyncio.run(main())
    assert transport.written.startswith(b"HTTP/1.1 200 ")
    assert [name for name, _ in seen[0]["headers"]] == [b"host", b"transfer-encoding"]


def test_the_connection_cap_answers_503_at_once() -> None:
    async def main() -> None:
        settings = ServerSettings(limit_connections=1)
        first, _ = _protocol(settings)
        state = first.server_state
        refused, transport = _protocol(settings, state)
        assert transport.written.startswith(b"HTTP/1.1 503 ")
        assert transport.closed
        assert state.connections == {first}
        refused.connection_lost(None)  # what the loop calls next: must not fail
        first.connection_lost(None)
        assert not state.connections

    asyncio.run(main())


# -- RFC 9112 3.2: Host ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /hello HTTP/1.1\r\n\r\n", b"400"),  # HTTP/1.1 must send Host
        (b"GET /hello HTTP/1.1\r\nX-Host: x\r\n\r\n", b"400"),
        (b"GET /hello HTTP/1.0\r\n\r\n", b"200"),  # HTTP/1.0 need not
        (b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", b"200"),
    ],
)
def test_an_http11_request_without_host_is_a_400(
    server: Server, head: bytes, status: bytes
) -> None:
    # Found by a hostile-input run: httptools served it (200).
    with server.connect() as sock:
        sock.sendall(head)
        response = _read_all(sock)
    assert response.startswith(b"HTTP/1.1 " + status + b" "), response[:60]
    assert server.hello() == 200
