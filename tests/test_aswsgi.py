"""A kettle app served by a real WSGI server (the standard library's ``wsgiref``) through
``kettle.aswsgi.WSGIBridge``: lifespan, bodies, limits, streaming, errors, bad environs."""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from kettle import Kettle, Request, StreamingResponse
from kettle.aswsgi import WSGIBridge, build_scope
from kettle.limits import Limits


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _app(events: list[str]) -> Kettle:
    app = Kettle(__name__, limits=Limits(max_body_size=1024))

    @app.on_startup
    async def started() -> None:
        events.append("startup")

    @app.on_shutdown
    async def stopped() -> None:
        events.append("shutdown")

    @app.get("/hello/{name}")
    def hello(name: str, q: str = "") -> dict[str, str]:
        return {"hello": name, "q": q}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"size": len(body), "type": request.headers.get("content-type")}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def parts() -> Iterator[bytes]:
            for number in range(3):
                yield f"part {number}\n".encode()

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/where")
    def where(request: Request) -> dict[str, Any]:
        return {"path": request.url.path, "root": request.scope["root_path"]}

    return app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str], WSGIBridge]]:
    events: list[str] = []
    bridge = WSGIBridge(_app(events))
    server = make_server(
        "127.0.0.1", 0, bridge, server_class=_ThreadingServer, handler_class=_Quiet
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", events, bridge
    finally:
        server.shutdown()
        server.server_close()


def test_requests_are_answered_and_the_lifespan_started_first(
    served: tuple[str, list[str], WSGIBridge],
) -> None:
    url, events, _ = served
    response = httpx.get(f"{url}/hello/ada", params={"q": "x y"})
    assert response.status_code == 200
    assert response.json() == {"hello": "ada", "q": "x y"}
    assert events[:1] == ["startup"]


def test_a_body_reaches_the_app_and_the_apps_limit_applies(
    served: tuple[str, list[str], WSGIBridge],
) -> None:
    url, _, _ = served
    response = httpx.post(f"{url}/echo", content=b"a" * 1000, headers={"content-type": "x/y"})
    assert response.json() == {"size": 1000, "type": "x/y"}
    assert httpx.post(f"{url}/echo", content=b"a" * 5000).status_code == 413


def test_a_streamed_answer_arrives_whole(served: tuple[str, list[str], WSGIBridge]) -> None:
    url, _, _ = served
    response = httpx.get(f"{url}/stream")
    assert response.text == "part 0\npart 1\npart 2\n"


def test_an_error_is_a_500_without_the_traceback(
    served: tuple[str, list[str], WSGIBridge],
) -> None:
    url, _, _ = served
    response = httpx.get(f"{url}/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert httpx.get(f"{url}/nowhere").status_code == 404


def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /hello/\xff\xfe HTTP/1.0\r\n\r\n",  # a path that is not UTF-8
        b"POST /echo HTTP/1.0\r\nContent-Length: 12abc\r\n\r\nhello",
        b"POST /echo HTTP/1.0\r\nContent-Length: -5\r\n\r\nhello",
    ],
    ids=["path-not-utf8", "length-not-a-number", "length-negative"],
)
def test_an_environ_that_cannot_be_a_request_is_a_400(
    served: tuple[str, list[str], WSGIBridge], request_bytes: bytes
) -> None:
    url, _, _ = served
    answer = _raw(url, request_bytes)
    assert answer.startswith(b"HTTP/1.0 400"), answer[:80]
    assert b"Traceback" not in answer


def test_a_client_that_leaves_mid_answer_does_not_wedge_the_server(
    served: tuple[str, list[str], WSGIBridge],
) -> None:
    url, _, _ = served
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", "/stream")
    connection.getresponse().read(3)
    connection.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/hello/again").status_code == 200:
            break
    else:
        raise AssertionError("the server stopped answering")


def test_root_path_comes_from_script_name() -> None:
    app = _app([])
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/mounted",
        "PATH_INFO": "/where",
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []
    bridge = WSGIBridge(app)
    try:
        body = b"".join(bridge(environ, lambda status, headers: statuses.append(status)))
    finally:
        bridge.close()
    assert statuses == ["200 OK"]
    assert httpx.Response(200, content=body).json() == {
        "path": "/mounted/where",
        "root": "/mounted",
    }


def test_close_runs_the_lifespan_shutdown() -> None:
    events: list[str] = []
    bridge = WSGIBridge(_app(events))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/hello/x",
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
    }
    b"".join(bridge(environ, lambda status, headers: None))
    bridge.close()
    assert events == ["startup", "shutdown"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HTTP_HOST": "a.example", "CONTENT_LENGTH": ""}, [(b"host", b"a.example")]),
        ({"HTTP_CONTENT_TYPE": "x/evil", "CONTENT_TYPE": "x/real"}, [(b"content-type", b"x/real")]),
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, [(b"x-forwarded-for", b"1.2.3.4")]),
    ],
)
def test_headers_come_from_the_environ(
    environ: dict[str, str], expected: list[tuple[bytes, bytes]]
) -> None:
    scope = build_scope({"REQUEST_METHOD": "GET", **environ})
    assert scope["headers"] == expected


def _environ(path: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
    }


def test_the_app_itself_is_a_wsgi_application_under_a_real_server() -> None:
    events: list[str] = []
    app = _app(events)
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/hello/wsgi")
    finally:
        server.shutdown()
        server.server_close()
        assert app._wsgi is not None
        app._wsgi.close()
    assert response.json() == {"hello": "wsgi", "q": ""}
    assert events == ["startup", "shutdown"]


def test_wsgi_middleware_wraps_app_wsgi_app_the_flask_way() -> None:
    app = _app([])
    inner = app.wsgi_app

    def tagging(environ: dict[str, Any], start_response: Any) -> Any:
        def tagged(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, ("x-wrapped", "yes")], *exc)

        return inner(environ, tagged)

    app.wsgi_app = tagging  # type: ignore[method-assign]
    seen: list[list[tuple[str, str]]] = []
    body = b"".join(app(_environ("/hello/x"), lambda status, headers: seen.append(headers)))
    assert app._wsgi is not None
    app._wsgi.close()
    assert ("x-wrapped", "yes") in seen[0]
    assert httpx.Response(200, content=body).json() == {"hello": "x", "q": ""}


@pytest.mark.parametrize("factory", ["kettle", "fastapi"])
def test_asgi_servers_still_detect_asgi3(factory: str) -> None:
    import uvicorn.config
    from hypercorn.utils import is_asgi

    from kettle.fastapi import FastAPI

    app = Kettle(__name__) if factory == "kettle" else FastAPI()
    config = uvicorn.config.Config(app)
    config.load()
    assert config.interface == "asgi3"
    assert is_asgi(app)  # hypercorn asks inspect, which on 3.11 knows no marker
