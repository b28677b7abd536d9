"""The debug error page, and the guards around debug mode (HOSTILE-INPUTS default 7).

The page exists only in debug mode; it is static (no console, nothing runs from the
browser), escapes everything it shows, and ``kettle run --debug`` binds only to loopback
and refuses to run where ``KETTLE_ENV`` says production.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner, Result

from kettle import HTTPException, Kettle, Middleware, abort
from kettle.cli import cli
from kettle.testing import TestClient
from kettle.types import Receive, Scope, Send

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOSTILE = "<script>alert('owned')</script>"


class Exploding:
    """Middleware that fails before the app runs (handled by ServerErrorMiddleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/middleware":
            raise RuntimeError(f"middleware failed: {HOSTILE}")
        await self.app(scope, receive, send)


def local(app: Kettle) -> TestClient:
    """A test client that looks like a browser on the developer's machine."""
    return TestClient(app, base_url="http://localhost:8000", client=("127.0.0.1", 50000))


def make_app(debug: bool) -> Kettle:
    app = Kettle(__name__, debug=debug, middleware=[Middleware(Exploding)])

    def load_user(name: str) -> None:
        token = "s3" + "cr3t"  # a local value: its name may show, never its value
        raise ValueError(f"no user {name} {HOSTILE}")
        return token  # type: ignore[unreachable]

    @app.get("/sync/{name}")
    def sync_view(name: str) -> str:
        load_user(name)
        return "unreachable"

    @app.get("/async/{name}")
    async def async_view(name: str) -> str:
        load_user(name)
        return "unreachable"

    @app.get("/chained")
    def chained() -> str:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError(f"while loading {HOSTILE}") from exc
        return "unreachable"

    @app.get("/not-found")
    def not_found() -> str:
        abort(404, "no such page")

    @app.get("/hook")
    def hooked() -> str:
        return "ok"

    @app.after_request
    def failing_hook(response: Any) -> Any:
        if response.status_code == 200:
            raise LookupError(f"after_request failed {HOSTILE}")
        return response

    return app


ERRORS = {
    "/sync/ada": "ValueError",
    "/async/ada": "ValueError",
    "/chained": "RuntimeError",
    "/hook": "LookupError",
    "/middleware": "RuntimeError",
}


class TestInDebugMode:
    @pytest.mark.parametrize("path", list(ERRORS))
    def test_browsers_get_an_html_traceback(self, path: str) -> None:
        response = local(make_app(debug=True)).get(path, headers={"accept": BROWSER})
        assert response.status_code == 500
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = response.text
        assert page.startswith("<!doctype html>")
        assert ERRORS[path] in page
        assert "test_debug_page.py" in page  # frames of the app's own files
        assert 'class="line current"' in page  # the failing line, with lines around it
        assert "never run this in production" in page

    def test_source_context_of_the_failing_frame(self) -> None:
        page = local(make_app(debug=True)).get("/sync/ada", headers={"accept": BROWSER}).text
        assert "<b>load_user</b>" in page
        assert "<b>sync_view</b>" in page
        # the raise line, escaped, and the line before it
        assert "raise ValueError(f&quot;no user {name} {HOSTILE}&quot;)" in page
        assert "token = &quot;s3&quot; + &quot;cr3t&quot;" in page
        assert "s3cr3t" not in page  # values of locals are never shown

    def test_chained_exceptions_are_shown(self) -> None:
        page = local(make_app(debug=True)).get("/chained", headers={"accept": BROWSER}).text
        assert "<h2>KeyError: &#x27;missing&#x27;</h2>" in page

    @pytest.mark.parametrize("path", [*ERRORS, "/sync/%3Cscript%3Ealert(1)"])
    def test_everything_is_escaped(self, path: str) -> None:
        page = local(make_app(debug=True)).get(path, headers={"accept": BROWSER}).text
        assert "<script" not in page.lower()
        assert "&lt;script&gt;" in page
        # A static page: nothing in it can send code back to the server.
        for active in ("<form", "<input", "<iframe", "javascript:", "onerror=", "onclick="):
            assert active not in page.lower()

    @pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/plain"])
    def test_other_clients_get_text(self, accept: str | None) -> None:
        headers = {"accept": accept} if accept else {}
        response = local(make_app(debug=True)).get("/sync/ada", headers=headers)
        assert response.status_code == 500
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        text = response.text
        assert text.startswith("Traceback (most recent call last):")
        assert 'in load_user\n    raise ValueError(f"no user {name} {HOSTILE}")' in text
        assert text.rstrip().endswith(f"ValueError: no user ada {HOSTILE}")

    def test_no_console_and_no_debugger_urls(self, tmp_path: Path) -> None:
        marker = tmp_path / "pwned"
        command = f"open({str(marker)!r}, 'w').write('x')"
        client = local(make_app(debug=True))
        for url in (
            f"/sync/ada?__debugger__=yes&cmd={command}&frm=0&s=x",
            f"/?__debugger__=yes&cmd={command}&frm=0&s=x",
            "/console",
            "/__debugger__",
        ):
            response = client.get(url, headers={"accept": BROWSER})
            assert response.status_code in (404, 500)
        assert not marker.exists()

    def test_http_errors_are_not_tracebacks(self) -> None:
        response = local(make_app(debug=True)).get("/not-found", headers={"accept": BROWSER})
        assert (response.status_code, response.json()) == (404, {"detail": "no such page"})

    def test_the_apps_own_handler_wins(self) -> None:
        app = make_app(debug=True)

        @app.errorhandler(ValueError)
        def handled(exc: ValueError) -> tuple[str, int]:
            return "handled", 400

        response = local(app).get("/sync/ada", headers={"accept": BROWSER})
        assert (response.status_code, response.text) == (400, "handled")

    def test_switched_on_after_the_first_request(self) -> None:
        app = make_app(debug=False)
        client = local(app)
        assert client.get("/sync/ada", headers={"accept": BROWSER}).json() == {
            "detail": "Internal Server Error"
        }
        app.debug = True
        page = client.get("/sync/ada", headers={"accept": BROWSER})
        assert page.headers["content-type"] == "text/html; charset=utf-8"


class TestWithoutDebug:
    @pytest.mark.parametrize("accept", [BROWSER, "*/*", "text/plain"])
    @pytest.mark.parametrize("path", list(ERRORS))
    def test_plain_500_reveals_nothing(self, path: str, accept: str) -> None:
        response = TestClient(make_app(debug=False)).get(path, headers={"accept": accept})
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"detail": "Internal Server Error"}
        for leak in ("Traceback", "test_debug_page", ERRORS[path], "script", "load_user"):
            assert leak not in response.text

    def test_off_by_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("KETTLE_DEBUG", raising=False)
        assert Kettle(__name__).debug is False
        assert Kettle(__name__).config["DEBUG"] is False

    @pytest.mark.parametrize(
        ("value", "debug"),
        [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
    )
    def test_kettle_debug_variable(
        self, monkeypatch: pytest.MonkeyPatch, value: str, debug: bool
    ) -> None:
        monkeypatch.setenv("KETTLE_DEBUG", value)
        assert Kettle(__name__).debug is debug
        assert Kettle(__name__, debug=False).debug is False  # an explicit argument wins

    def test_http_exception_class_is_still_json(self) -> None:
        app = Kettle(__name__)

        @app.get("/")
        def index() -> str:
            raise HTTPException(418, "teapot")

        response = TestClient(app).get("/", headers={"accept": BROWSER})
        assert (response.status_code, response.json()) == (418, {"detail": "teapot"})


# -- the per-request check (issue: debug page through a foreign Host or client) -------------

LOCAL_HOSTS = ["localhost", "localhost:8000", "app.localhost:5000", "127.0.0.1", "127.0.0.9:80",
               "[::1]", "[::1]:8000", "LOCALHOST"]  # fmt: skip
FOREIGN_HOSTS = ["attacker.example", "attacker.example:8000", "localhost.attacker.example",
                 "127.0.0.1.nip.io", "10.0.0.1", "[2001:db8::1]", "", "localhost:8000 x",
                 "999.1.1.1"]  # fmt: skip


class TestOnlyForLocalRequests:
    @pytest.mark.parametrize("host", LOCAL_HOSTS)
    def test_loopback_client_and_host_see_the_page(self, host: str) -> None:
        client = TestClient(make_app(debug=True), client=("127.0.0.1", 50000))
        response = client.get("/sync/ada", headers={"accept": BROWSER, "host": host})
        assert response.headers["content-type"] == "text/html; charset=utf-8"

    @pytest.mark.parametrize("host", FOREIGN_HOSTS)
    def test_a_foreign_host_gets_the_plain_500(self, host: str) -> None:
        # DNS rebinding: the attacker's page reaches the loopback server under its own name.
        client = TestClient(make_app(debug=True), client=("127.0.0.1", 50000))
        response = client.get("/sync/ada", headers={"accept": BROWSER, "host": host})
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
        assert "Traceback" not in response.text
        assert HOSTILE not in response.text

    @pytest.mark.parametrize(
        "peer", [("192.0.2.7", 1234), ("10.0.0.1", 1), ("::ffff:192.0.2.7", 1), ("testclient", 1)]
    )
    def test_a_remote_client_gets_the_plain_500(self, peer: tuple[str, int]) -> None:
        client = TestClient(make_app(debug=True), base_url="http://localhost", client=peer)
        response = client.get("/sync/ada", headers={"accept": BROWSER})
        assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})

    def test_duplicate_hosts_get_the_plain_500(self) -> None:
        client = TestClient(make_app(debug=True), client=("127.0.0.1", 50000))
        response = client.get(
            "/sync/ada", headers=[("accept", BROWSER), ("host", "localhost"), ("host", "evil")]
        )
        assert response.status_code in (400, 500)
        assert "Traceback" not in response.text

    def test_the_apps_500_handler_answers_the_others(self) -> None:
        app = make_app(debug=True)

        @app.errorhandler(500)
        def oops(exc: Exception) -> tuple[str, int]:
            return "our own 500 page", 500

        remote = TestClient(app, client=("192.0.2.7", 1)).get("/sync/ada")
        assert (remote.status_code, remote.text) == (500, "our own 500 page")
        assert (
            "text/html"
            in local(app).get("/sync/ada", headers={"accept": BROWSER}).headers["content-type"]
        )


# -- kettle run --debug ------------------------------------------------------------------------


class ServeCalls:
    """Stands in for ``uvicorn.run`` and records what it would have served."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **options: Any) -> None:
        self.calls.append((app, options))


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> ServeCalls:
    calls = ServeCalls()
    monkeypatch.setattr(uvicorn, "run", calls)
    return calls


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty directory holding the app module, and a clean environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("KETTLE_APP", "KETTLE_ENV"):
        monkeypatch.delenv(name, raising=False)
    # `kettle run --debug` sets KETTLE_DEBUG for the server's processes: record the
    # variable's state so it is restored, whatever the test does.
    monkeypatch.setenv("KETTLE_DEBUG", "")
    path = sys.path[:]
    yield tmp_path
    sys.path[:] = path
    # A copy made in one step: iterating the live dict lets a finalizer that runs meanwhile
    # (a leaked socket's ResourceWarning imports) change it under the loop.
    for name, module in sys.modules.copy().items():
        file = getattr(module, "__file__", None)
        if file and Path(file).is_relative_to(tmp_path):
            del sys.modules[name]


def write_app(debug: str = "None") -> None:
    source = f"""
        from kettle import Kettle

        app = Kettle(__name__, debug={debug})

        @app.get("/")
        def index() -> str:
            return "ok"
    """
    Path("web.py").write_text(textwrap.dedent(source))


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


class TestRunDebug:
    @pytest.mark.parametrize(
        "host",
        ["0.0.0.0", "::", "[::]", "192.168.1.20", "10.0.0.1", "example.com", "::ffff:1.2.3.4"],
    )
    def test_refuses_non_loopback_hosts(self, served: ServeCalls, host: str) -> None:
        write_app()
        result = invoke("run", "web:app", "--debug", "--host", host)
        assert result.exit_code == 2, result.output
        assert "debug mode" in result.output
        assert "loopback" in result.output
        assert served.calls == []

    @pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
    def test_serves_on_loopback_in_debug_mode(self, served: ServeCalls, host: str) -> None:
        write_app()
        result = invoke("run", "web:app", "--debug", "--host", host)
        assert result.exit_code == 0, result.output
        [(app, options)] = served.calls
        assert app.debug is True
        assert app.jinja_env.auto_reload is True  # templates reload in debug mode
        assert options["host"] == host
        assert os.environ["KETTLE_DEBUG"] == "1"  # reload and worker processes see it too

    def test_default_host_is_loopback(self, served: ServeCalls) -> None:
        write_app()
        result = invoke("run", "web:app", "--debug")
        assert result.exit_code == 0, result.output
        assert served.calls[0][1]["host"] == "127.0.0.1"

    def test_remote_debugging_needs_its_own_flag(self, served: ServeCalls) -> None:
        write_app()
        result = invoke("run", "web:app", "--debug", "--host", "0.0.0.0", "--unsafe-remote-debug")
        assert result.exit_code == 0, result.output
        assert served.calls[0][0].debug is True

    def test_without_the_flag_the_app_is_not_in_debug_mode(self, served: ServeCalls) -> None:
        write_app()
        result = invoke("run", "web:app", "--host", "0.0.0.0")
        assert result.exit_code == 0, result.output
        assert served.calls[0][0].debug is False

    @pytest.mark.parametrize("env", ["production", "Production", "PRODUCTION"])
    @pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
    def test_production_refuses_debug(self, served: ServeCalls, env: str, host: str) -> None:
        write_app()
        result = invoke(
            "run", "web:app", "--debug", "--host", host, "--unsafe-remote-debug",
            env={"KETTLE_ENV": env},
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "production" in result.output
        assert served.calls == []
        assert os.environ["KETTLE_DEBUG"] == ""  # refused before turning anything on

    @pytest.mark.parametrize("env", ["development", "staging", ""])
    def test_other_environments_allow_debug(self, served: ServeCalls, env: str) -> None:
        write_app()
        result = invoke("run", "web:app", "--debug", env={"KETTLE_ENV": env})
        assert result.exit_code == 0, result.output

    @pytest.mark.parametrize(("debug", "variable"), [("True", ""), ("None", "1")])
    def test_production_refuses_an_app_in_debug_mode(
        self, served: ServeCalls, debug: str, variable: str
    ) -> None:
        write_app(debug)
        result = invoke(
            "run", "web:app", env={"KETTLE_ENV": "production", "KETTLE_DEBUG": variable}
        )
        assert result.exit_code == 2, result.output
        assert served.calls == []
