"""Guards kettle applies itself, whichever ASGI server runs the app.

``kettle run`` adds server-level limits of its own (see ``tests/test_server_hardening.py``);
these checks live in the app, so they hold under ``uvicorn app:app``, hypercorn and granian
as well: duplicate ``Host`` headers are refused, and the debug page is shown only to a
loopback client that names a loopback host, however debug mode was switched on.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_servers import _free_port, _raw, _serve, _status

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    from kettle import Kettle, Request

    app = Kettle(__name__)

    @app.get("/hello")
    def hello():
        return "up"

    @app.get("/host")
    async def host(request: Request):
        return {"host": request.headers.getlist("host")}

    @app.get("/boom")
    def boom():
        raise ValueError("the secret is hunter2")
    """
)

SERVERS = {
    "kettle run": ["-m", "kettle", "run", "guarded:app"],
    "uvicorn": ["-m", "uvicorn", "guarded:app", "--forwarded-allow-ips", "127.0.0.1"],
    "hypercorn": ["-m", "hypercorn", "guarded:app"],
    "granian": ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "guarded:app"],
}


def _command(server: str, port: int) -> list[str]:
    args = [sys.executable, *SERVERS[server]]
    if server == "hypercorn":
        return [*args, "-b", f"127.0.0.1:{port}"]
    return [*args, "--port", str(port)]


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    server: str = request.param
    if server in ("hypercorn", "granian"):
        pytest.importorskip(server)
    folder = tmp_path_factory.mktemp("guarded")
    (folder / "guarded.py").write_text(APP)
    port = _free_port()
    # Debug mode from the environment, as `KETTLE_DEBUG=1 uvicorn app:app` would set it.
    os.environ["KETTLE_DEBUG"] = "1"
    try:
        yield from _serve(_command(server, port), folder, port)
    finally:
        os.environ.pop("KETTLE_DEBUG", None)


def test_duplicate_host_is_a_400(served: int) -> None:
    response = _raw(served, b"GET /host HTTP/1.1\r\nHost: good.com\r\nHost: evil.com\r\n\r\n")
    status = _status(response)
    # Refused by kettle (400), or by the server before kettle saw it.
    assert status is None or status == 400, response[:300]
    assert b"evil.com" not in response
    single = httpx.get(f"http://127.0.0.1:{served}/host", headers={"host": "good.com"})
    assert single.json() == {"host": ["good.com"]}


def test_debug_page_needs_a_loopback_client_and_host(served: int) -> None:
    url = f"http://127.0.0.1:{served}/boom"
    local_page = httpx.get(url, headers={"host": f"localhost:{served}"})
    assert "hunter2" in local_page.text  # debug mode is on, for the developer at the machine
    for headers in (
        {"host": "attacker.example"},  # DNS rebinding: the attacker's name for 127.0.0.1
        {"host": f"127.0.0.1.nip.io:{served}"},
    ):
        response = httpx.get(url, headers=headers)
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
        assert "hunter2" not in response.text
        assert "Traceback" not in response.text


def test_debug_page_refuses_a_forwarded_remote_client(tmp_path: Path) -> None:
    """Behind a proxy on loopback, the client is whoever the proxy says it is."""
    (tmp_path / "guarded.py").write_text(APP)
    port = _free_port()
    os.environ["KETTLE_DEBUG"] = "1"
    try:
        server = _serve(_command("uvicorn", port), tmp_path, port)
        next(server)
    finally:
        os.environ.pop("KETTLE_DEBUG", None)
    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/boom",
            headers={"host": f"localhost:{port}", "x-forwarded-for": "203.0.113.9"},
        )
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    finally:
        server.close()
