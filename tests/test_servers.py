"""End to end over real sockets: kettle under uvicorn, hypercorn and granian, and the
hostile HTTP inputs that only a real server's parser sees (HOSTILE-INPUTS items 2 and 5).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    from kettle import Kettle, Request, WebSocket

    app = Kettle(__name__)

    @app.get("/hello")
    def hello():
        return {"message": "Hello, kettle!"}

    @app.get("/items/{item_id:int}")
    async def item(item_id):
        return {"item_id": item_id}

    @app.post("/echo")
    async def echo(request: Request):
        return {"size": len(await request.body())}

    @app.get("/whoami")
    async def whoami(request: Request):
        return {"client": request.client.host, "scheme": request.url.scheme,
                "host": request.url.netloc}

    @app.websocket("/ws")
    async def ws(ws: WebSocket):
        await ws.accept()
        await ws.send_text("echo " + await ws.receive_text())
        await ws.close()
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/hello", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not come up:\n{log.read_text()}")


def _serve(args: list[str], cwd: Path, port: int) -> Iterator[int]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    log = cwd / f"server-{port}.log"
    # A log file, not a pipe: an unread pipe fills up and blocks a chatty server.
    with (
        log.open("wb") as out,
        subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT) as proc,
    ):
        try:
            _wait_until_up(port, proc, log)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("served")
    (path / "served_app.py").write_text(APP)
    return path


def _server_command(server: str, port: int) -> list[str]:
    if server == "kettle run":
        return [sys.executable, "-m", "kettle", "run", "served_app:app", "--port", str(port)]
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", "served_app:app", "-b", f"127.0.0.1:{port}"]
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "served_app:app",
        ]  # fmt: skip
    raise AssertionError(server)


@pytest.fixture(scope="module")
def uvicorn_port(app_dir: Path) -> Iterator[int]:
    port = _free_port()
    yield from _serve(_server_command("kettle run", port), app_dir, port)


@pytest.mark.parametrize("server", ["hypercorn", "granian"])
def test_runs_unchanged_under_other_asgi_servers(server: str, app_dir: Path) -> None:
    module = server
    try:
        __import__(module)
    except ImportError:
        pytest.skip(f"{server} is not installed")
    port = _free_port()
    for _ in _serve(_server_command(server, port), app_dir, port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/hello").json() == {"message": "Hello, kettle!"}
        assert httpx.get(f"{base}/items/5").json() == {"item_id": 5}
        assert httpx.get(f"{base}/items/x").status_code == 404
        assert httpx.post(f"{base}/echo", content=b"x" * 100).json() == {"size": 100}


def test_uvicorn_basics(uvicorn_port: int) -> None:
    base = f"http://127.0.0.1:{uvicorn_port}"
    assert httpx.get(f"{base}/hello").json() == {"message": "Hello, kettle!"}
    assert httpx.head(f"{base}/hello").content == b""
    assert httpx.delete(f"{base}/hello").status_code == 405
    big = httpx.post(f"{base}/echo", content=b"x" * (11 * 1024 * 1024))
    assert big.status_code == 413


def _raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _status(response: bytes) -> int | None:
    if not response.startswith(b"HTTP/1.1 "):
        return None  # connection dropped without an answer: also a refusal
    return int(response[9:12])


HOSTILE = {
    "CL and TE together": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    ),
    "bare LF in header": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n",
    "bare CR in header": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n",
    "obs-fold": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n",
    "LF in chunk extension": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=\nx\r\nabcd\r\n0\r\n\r\n"
    ),
    "duplicate Host": b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "missing Host": b"GET /hello HTTP/1.1\r\n\r\n",
    "absolute-form target": b"GET http://evil.com/hello HTTP/1.1\r\nHost: x\r\n\r\n",
    "asterisk target on GET": b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    "oversized header": b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
    "very many headers": b"GET /hello HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: v\r\n" % i for i in range(500))
    + b"\r\n",
    "oversized trailers": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\na\r\n0\r\nX-Trailer: " + b"t" * 70000 + b"\r\n\r\n"
    ),
    "negative Content-Length": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "NUL in path": b"GET /hel\x00lo HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_requests_get_a_4xx_or_are_dropped_and_server_survives(
    uvicorn_port: int, name: str
) -> None:
    response = _raw(uvicorn_port, HOSTILE[name])
    status = _status(response)
    # The request is refused (4xx, or the connection dropped), or, when the server's
    # parser accepts it, answered normally: never a 5xx and never a smuggled request.
    assert status is None or status < 500, response[:200]
    assert response.count(b"HTTP/1.1 ") <= 1, "a second (smuggled) response came back"
    # ...and the server is still healthy.
    assert httpx.get(f"http://127.0.0.1:{uvicorn_port}/hello").status_code == 200


def test_forwarded_headers_from_untrusted_peers_are_ignored(app_dir: Path) -> None:
    port = _free_port()
    args = [*_server_command("kettle run", port), "--forwarded-allow-ips", "10.9.9.9"]
    for _ in _serve(args, app_dir, port):
        response = httpx.get(
            f"http://127.0.0.1:{port}/whoami",
            headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"},
        )
        assert response.json()["client"] == "127.0.0.1"
        assert response.json()["scheme"] == "http"


def test_malformed_host_does_not_reach_urls(uvicorn_port: int) -> None:
    response = httpx.get(
        f"http://127.0.0.1:{uvicorn_port}/whoami", headers={"Host": "evil.com/x?y"}
    )
    if response.status_code == 200:  # the server let it through: kettle must not trust it
        assert "evil" not in response.json()["host"]
    else:
        assert 400 <= response.status_code < 500


def test_slowloris_body_is_cut_off(app_dir: Path) -> None:
    # A short body_timeout through an env-configured app would need more plumbing; here we
    # check the server keeps serving others while one client trickles a body.
    port = _free_port()
    for _ in _serve(_server_command("kettle run", port), app_dir, port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
            started = time.monotonic()
            assert httpx.get(f"http://127.0.0.1:{port}/hello").status_code == 200
            assert time.monotonic() - started < 2


@pytest.mark.skipif(shutil.which("wrk") is None and False, reason="never skipped")
def test_websocket_over_a_real_server(uvicorn_port: int) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{uvicorn_port}/ws") as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo hi"


@pytest.mark.parametrize("size", [100_000, 20_000_000])
def test_kettle_run_bounds_the_request_head(uvicorn_port: int, size: int) -> None:
    # uvicorn's httptools parser alone would buffer all of it; kettle run answers 431.
    head = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    try:
        response = _raw(uvicorn_port, head)
    except (BrokenPipeError, ConnectionResetError):
        response = b""  # closed while we were still sending: refused all the same
    assert _status(response) in (431, None)
    assert httpx.get(f"http://127.0.0.1:{uvicorn_port}/hello").status_code == 200


def test_normal_large_headers_still_pass(uvicorn_port: int) -> None:
    cookies = "; ".join(f"c{i}={'v' * 100}" for i in range(200))  # ~21 KB
    response = httpx.get(f"http://127.0.0.1:{uvicorn_port}/hello", headers={"Cookie": cookies})
    assert response.status_code == 200
