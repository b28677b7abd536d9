"""The server layer of ``kettle run`` over real sockets (HOSTILE-INPUTS item 10).

Each test starts ``kettle run`` in a subprocess on 127.0.0.1, with short timeouts passed as
options, and talks to it with raw sockets. The protocol's pure parts (the head counter
across split reads, trailers) are also driven directly, with a stand-in transport, at the
end of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import kettle
from kettle.server import protocol_class

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
    """One server, shared by the tests that do not stop it."""
    running = Server(app_dir)
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


def _protocol(max_head: int = 64 * 1024) -> tuple[Any, FakeTransport]:
    """A connected protocol (inside a running loop) and its transport."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    config = Config(app=_echo_app, lifespan="off", proxy_headers=False, log_config=None)
    config.load()
    protocol = protocol_class(max_head)(
        config=config,
        server_state=ServerState(),
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
    assert protocol_class() is protocol_class()


@pytest.mark.parametrize("split", range(1, 5))
def test_split_head_end_counts_only_the_head(split: int) -> None:
    async def main() -> FakeTransport:
        protocol, transport = _protocol(100)
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
        protocol, transport = _protocol(100)
        protocol.data_received(b"GET / HTTP/1.1\r\nX: " + b"a" * 200 + b"\r\n\r\n")
        assert transport.written.startswith(b"HTTP/1.1 431 ")
        protocol, transport = _protocol(100)
        protocol.data_received(b"GET / HTTP/1.1\r\n")
        while not transport.closed:
            protocol.data_received(b"a" * 30)
        assert transport.written.startswith(b"HTTP/1.1 431 ")

    asyncio.run(main())


def test_trailers_stay_out_of_the_scope() -> None:
    async def main() -> FakeTransport:
        protocol, transport = _protocol()
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
