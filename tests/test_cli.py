"""The ``kettle`` command line: finding apps, ``kettle routes``, ``kettle run``."""

from __future__ import annotations

import importlib
import json
import os
import runpy
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import uvicorn
from click.testing import CliRunner, Result

from kettle import Kettle
from kettle.cli import AppLoadError, AppSpec, cli, load_app, main, resolve_spec
from kettle.loading import _error_inside
from kettle.reloading import RELOAD_ENV
from kettle.server import (
    SETTINGS_ENV,
    ServerSettings,
    default_connection_limit,
    raise_open_file_limit,
)

APP = """
from kettle import Kettle, Router, WebSocket

app = Kettle(__name__)

@app.get("/")
async def index() -> str:
    return "index"

@app.route("/users/<int:user_id>", methods=["PUT", "POST"])
def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}

@app.websocket("/ws")
async def socket(ws: WebSocket) -> None:
    await ws.accept()
    await ws.close()

api = Router(prefix="/api", name="api")

@api.delete("/items/{item_id:int}")
async def zap(item_id: int) -> None:
    return None

app.include_router(api)
"""


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run each test in an empty directory and forget the modules it imported."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KETTLE_APP", raising=False)
    path = sys.path[:]
    yield tmp_path
    sys.path[:] = path
    # A copy made in one step: iterating the live dict lets a finalizer that runs meanwhile
    # (a leaked socket's ResourceWarning imports) change it under the loop.
    for name, module in sys.modules.copy().items():
        file = getattr(module, "__file__", None)
        if file and Path(file).is_relative_to(tmp_path):
            del sys.modules[name]


def write(path: str | Path, source: str) -> Path:
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(textwrap.dedent(source))
    return file


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


class ServeCalls:
    """Stands in for ``uvicorn.run`` and records how it was called."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **options: Any) -> None:
        self.calls.append((app, options))

    @property
    def target(self) -> Any:
        assert len(self.calls) == 1
        return self.calls[0][0]

    @property
    def options(self) -> dict[str, Any]:
        assert len(self.calls) == 1
        return self.calls[0][1]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> ServeCalls:
    calls = ServeCalls()
    monkeypatch.setattr(uvicorn, "run", calls)
    monkeypatch.setenv(SETTINGS_ENV, "")  # kettle run sets it: restored afterwards
    monkeypatch.setenv(RELOAD_ENV, "")  # as --reload does
    return calls


# -- app specs ----------------------------------------------------------------------------


class TestResolveSpec:
    @pytest.mark.parametrize(
        ("text", "module", "attr"),
        [
            ("web", "web", None),
            ("web:app", "web", "app"),
            ("pkg.web:api.app", "pkg.web", "api.app"),
        ],
    )
    def test_module_specs(self, text: str, module: str, attr: str | None) -> None:
        assert resolve_spec(text) == AppSpec(text, module, attr)

    def test_file_outside_a_package(self, workdir: Path) -> None:
        file = write("src/web.py", "")
        spec = resolve_spec("src/web.py:app")
        assert (spec.module, spec.attr) == ("web", "app")
        assert spec.app_dir == str(workdir / "src")
        assert spec.file == file.resolve()

    def test_file_inside_packages_is_imported_as_part_of_them(self, workdir: Path) -> None:
        write("proj/pkg/__init__.py", "")
        write("proj/pkg/sub/__init__.py", "")
        write("proj/pkg/sub/web.py", "")
        spec = resolve_spec("proj/pkg/sub/web.py")
        assert (spec.module, spec.attr) == ("pkg.sub.web", None)
        assert spec.app_dir == str(workdir / "proj")

    @pytest.mark.parametrize("text", ["proj/pkg", "proj/pkg/__init__.py:app"])
    def test_package_directory(self, workdir: Path, text: str) -> None:
        write("proj/pkg/__init__.py", "")
        spec = resolve_spec(text)
        assert spec.module == "pkg"
        assert spec.app_dir == str(workdir / "proj")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (":app", "invalid app spec"),
            ("web:", "invalid app spec"),
            ("missing.py:app", "no such file or directory"),
            ("./notes.txt", "is not a Python file"),
            ("./plain", "is not a Python package"),
        ],
    )
    def test_bad_specs(self, text: str, message: str) -> None:
        write("notes.txt", "")
        Path("plain").mkdir()
        with pytest.raises(AppLoadError, match=message) as info:
            resolve_spec(text)
        assert info.value.exit_code == 2


class TestLoadApp:
    def test_module_and_attr(self) -> None:
        write("web.py", APP)
        app = load_app("web:app")
        assert isinstance(app, Kettle)

    @pytest.mark.parametrize("name", ["app", "application", "site"])
    def test_module_alone_finds_the_app(self, name: str) -> None:
        write("web.py", f"from kettle import Kettle\n{name} = Kettle(__name__)\nother = 1\n")
        assert load_app("web") is sys.modules["web"].__dict__[name]

    def test_module_alone_prefers_app_over_other_instances(self) -> None:
        write("web.py", "from kettle import Kettle\nadmin = Kettle()\napp = Kettle()\n")
        assert load_app("web") is sys.modules["web"].app

    def test_dotted_attribute(self) -> None:
        write("web.py", "from kettle import Kettle\nclass Config:\n    app = Kettle()\n")
        assert load_app("web:Config.app") is sys.modules["web"].Config.app

    def test_current_directory_is_importable(self, workdir: Path) -> None:
        write("web.py", APP)
        sys.path[:] = [p for p in sys.path if p not in ("", ".", str(workdir))]
        load_app("web:app")
        assert sys.path[0] == str(workdir)

    def test_file_path_with_relative_imports(self) -> None:
        write("proj/pkg/__init__.py", "")
        write("proj/pkg/views.py", "from kettle import Kettle\napp = Kettle(__name__)\n")
        write("proj/pkg/main.py", "from .views import app\n")
        assert load_app("proj/pkg/main.py:app") is sys.modules["pkg.views"].app

    def test_factory(self) -> None:
        write("web.py", "from kettle import Kettle\ndef create_app():\n    return Kettle()\n")
        assert isinstance(load_app("web:create_app", factory=True), Kettle)
        assert isinstance(load_app("web", factory=True), Kettle)


# -- errors: one line, exit status 2, no traceback ---------------------------------------

ERROR_CASES = [
    pytest.param("nosuchmodule:app", {}, "no module named 'nosuchmodule'", id="no-module"),
    pytest.param("nosuchpkg.web:app", {}, "no module named 'nosuchpkg'", id="no-package"),
    pytest.param(
        "web:ap",
        {"web.py": "from kettle import Kettle\napp = Kettle()\n"},
        "module 'web' has no attribute 'ap' (Kettle apps in it: app)",
        id="no-attribute",
    ),
    pytest.param(
        "web:Config.ap",
        {"web.py": "class Config:\n    pass\n"},
        "'web:Config' has no attribute 'ap'",
        id="no-dotted-attribute",
    ),
    pytest.param(
        "web:app", {"web.py": "app = 42\n"}, "'web:app' is not a Kettle app: found int", id="int"
    ),
    pytest.param(
        "web:app",
        {"web.py": "def app():\n    pass\n"},
        "the app factory returned NoneType",  # a function is called, as Flask's --app does
        id="function",
    ),
    pytest.param(
        "web", {"web.py": "x = 1\n"}, "could not find a Kettle app in 'web'", id="no-app-found"
    ),
    pytest.param(
        "web",
        {"web.py": "from kettle import Kettle\nfront = Kettle()\nback = Kettle()\n"},
        "'web' defines several apps (front, back)",
        id="several-apps",
    ),
    pytest.param(
        "web:app",
        {"web.py": "import os\nimport not_installed_dependency\n"},
        "ModuleNotFoundError: No module named 'not_installed_dependency' (",
        id="import-error-inside",
    ),
    pytest.param(
        "web:app",
        {"web.py": "from os import not_a_name\n"},
        "ImportError: cannot import name 'not_a_name' from 'os'",
        id="from-import-inside",
    ),
    pytest.param(
        "web:app",
        {"web.py": "def broken(:\n"},
        "SyntaxError: invalid syntax (",
        id="syntax-error",
    ),
    pytest.param(
        "./string.py:app", {"string.py": "app = 1\n"}, "'string' is already taken", id="shadowed"
    ),
]


@pytest.mark.parametrize("command", ["routes", "run"])
@pytest.mark.parametrize(("spec", "files", "message"), ERROR_CASES)
def test_load_errors(
    served: ServeCalls, command: str, spec: str, files: dict[str, str], message: str
) -> None:
    for name, source in files.items():
        write(name, source)
    result = invoke(command, spec)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1
    assert served.calls == []


def test_import_error_inside_module_names_its_origin(workdir: Path) -> None:
    write("web.py", "import os\n\nimport not_installed_dependency\n")
    result = invoke("routes", "web:app")
    assert f"({workdir / 'web.py'}, line 3)" in result.output


def test_syntax_error_names_its_origin(workdir: Path) -> None:
    write("web.py", "x = 1\ndef broken(:\n")
    result = invoke("routes", "web:app")
    assert f"({workdir / 'web.py'}, line 2)" in result.output


def test_other_errors_in_the_module_show_only_its_traceback() -> None:
    write("web.py", "def setup():\n    return 1 / 0\n\nsetup()\n")
    result = invoke("routes", "web:app")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Error: importing 'web:app' failed:"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ZeroDivisionError: division by zero"
    assert 'web.py", line 4, in <module>' in result.output
    assert 'web.py", line 2, in setup' in result.output
    assert "cli.py" not in result.output
    assert "importlib" not in result.output


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def create_app(name):\n    pass\n", "must be callable without arguments"),
        ("create_app = 3\n", "is not callable"),
        ("def create_app():\n    return 3\n", "the app factory returned int"),
        ("create_app = dict\n", "the app factory returned dict"),  # no signature to check
    ],
)
def test_factory_errors(source: str, message: str) -> None:
    write("web.py", source)
    result = invoke("routes", "--factory", "web:create_app")
    assert result.exit_code == 2
    assert message in result.output


def test_factory_without_a_known_name() -> None:
    write("web.py", "def build():\n    pass\n")
    result = invoke("routes", "--factory", "web")
    assert result.exit_code == 2
    assert "could not find a Kettle app in 'web'" in result.output
    assert "(tried create_app(), make_app())" in result.output


FACTORY_MODULE = (
    "from kettle import Kettle\n"
    "def create_app():\n"
    "    app = Kettle('built')\n"
    "    app.get('/built')(lambda: 'ok')\n"
    "    return app\n"
)


@pytest.mark.parametrize("spec", ["web", "web:create_app", "web:create_app()", "web:create_app( )"])
def test_a_factory_is_found_and_called_as_flasks_app_option_does(spec: str) -> None:
    write("web.py", FACTORY_MODULE)
    result = invoke("routes", spec)
    assert result.exit_code == 0, result.output
    assert "/built" in result.output


def test_a_factory_call_with_arguments_is_refused_clearly() -> None:
    write("web.py", FACTORY_MODULE)
    result = invoke("routes", "web:create_app('dev')")
    assert result.exit_code == 2
    assert "called without arguments" in result.output


def test_no_app_given() -> None:
    result = invoke("routes")
    assert result.exit_code == 2
    assert "no app given" in result.output


# -- choosing the app: argument, --app, KETTLE_APP, app.py ---------------------------------


def test_app_option_and_environment_variable() -> None:
    write("web.py", APP)
    assert "/users/<int:user_id>" in invoke("--app", "web:app", "routes").output
    assert "/users/<int:user_id>" in invoke("routes", env={"KETTLE_APP": "web:app"}).output


def test_argument_wins_over_app_option() -> None:
    write("web.py", APP)
    write("other.py", "from kettle import Kettle\napp = Kettle()\n")
    result = invoke("--app", "other:app", "routes", "web:app")
    assert "/users/<int:user_id>" in result.output


def test_app_py_in_the_current_directory_is_the_default() -> None:
    write("app.py", APP)
    result = invoke("routes")
    assert result.exit_code == 0
    assert "/users/<int:user_id>" in result.output


# -- kettle routes -------------------------------------------------------------------------


def test_routes_table() -> None:
    write("web.py", APP)
    result = invoke("routes", "web:app")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Path", "Methods", "Name", "Handler"]
    assert lines[1].split() == ["----", "-------", "----", "-------"]
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert rows == [
        ["/", "GET", "index", "web.index"],
        ["/api/items/{item_id:int}", "DELETE", "api.zap", "web.zap"],
        ["/users/<int:user_id>", "POST,PUT", "user", "web.user"],
        ["/ws", "WEBSOCKET", "socket", "web.socket"],
    ]


def test_routes_columns_are_aligned() -> None:
    write("web.py", APP)
    lines = invoke("routes", "web:app").output.splitlines()
    for title in ("Methods", "Name", "Handler"):
        start = lines[0].index(title)
        for line in lines[1:]:
            assert line[start - 2 : start] == "  "
            assert line[start] != " "


@pytest.mark.parametrize(
    ("sort", "paths"),
    [
        ("path", ["/", "/api/items/{item_id:int}", "/users/<int:user_id>", "/ws"]),
        ("name", ["/api/items/{item_id:int}", "/", "/ws", "/users/<int:user_id>"]),
        ("methods", ["/api/items/{item_id:int}", "/", "/users/<int:user_id>", "/ws"]),
    ],
)
def test_routes_sort(sort: str, paths: list[str]) -> None:
    write("web.py", APP)
    result = invoke("routes", "web:app", "--sort", sort)
    assert [line.split()[0] for line in result.output.splitlines()[2:]] == paths


def test_routes_show_handlers_by_qualified_name() -> None:
    write(
        "web.py",
        """
        import functools
        from kettle import Kettle

        app = Kettle(__name__)

        class Views:
            @staticmethod
            async def home() -> str:
                return "home"

        def logged(func):
            @functools.wraps(func)
            async def wrapper():
                return await func()
            return wrapper

        app.add_route("/", Views.home)
        app.add_route("/logged", logged(Views.home), name="logged")
        """,
    )
    rows = [line.split() for line in invoke("routes", "web").output.splitlines()[2:]]
    assert rows == [
        ["/", "GET", "home", "web.Views.home"],
        ["/logged", "GET", "logged", "web.Views.home"],
    ]


def test_routes_of_an_empty_app() -> None:
    write("web.py", "from kettle import Kettle\napp = Kettle()\n")
    result = invoke("routes", "web:app")
    assert result.exit_code == 0
    assert result.output == "No routes.\n"


BROKEN_APP = """
from kettle import Kettle
app = Kettle()

@app.get("/items/{item_id:int}")
async def item(other: int) -> None:
    pass
"""


def test_routes_that_do_not_compile() -> None:
    write("web.py", BROKEN_APP)
    result = invoke("routes", "web:app")
    assert result.exit_code == 1
    assert result.output.startswith("Error: the app's routes do not compile: ")
    assert "'item_id'" in result.output


# -- kettle run ----------------------------------------------------------------------------


def test_run_defaults(served: ServeCalls, workdir: Path) -> None:
    write("web.py", APP)
    result = invoke("run", "web:app")
    assert result.exit_code == 0, result.output
    assert served.target is sys.modules["web"].app
    assert served.options == {
        "host": "127.0.0.1",
        "port": 8000,
        "reload": False,
        "reload_dirs": None,
        "workers": 1,
        "log_level": None,
        "access_log": True,
        "root_path": "",
        "proxy_headers": False,
        "factory": False,
        "app_dir": str(workdir),
        "loop": "auto",
        "http": "kettle.server:BoundedHttpToolsProtocol",
        "h11_max_incomplete_event_size": 65536,
        "ws": "websockets-sansio",
        "ws_max_size": 1024 * 1024,
        "ws_per_message_deflate": False,
        "lifespan": "on",
        "timeout_keep_alive": 5.0,
        "timeout_graceful_shutdown": 30.0,
    }
    settings = ServerSettings.from_env(os.environ[SETTINGS_ENV])
    assert settings.limit_connections == default_connection_limit(raise_open_file_limit())
    assert settings == ServerSettings(limit_connections=settings.limit_connections)


def test_run_server_options(served: ServeCalls) -> None:
    write("web.py", APP)
    result = invoke(
        "run", "web:app", "--timeout-head", "2", "--timeout-body", "3", "--min-body-rate", "0",
        "--timeout-keep-alive", "4", "--timeout-graceful-shutdown", "5",
        "--limit-connections", "6", "--limit-concurrency", "7", "--ws-per-message-deflate",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    options = served.options
    assert (options["timeout_keep_alive"], options["timeout_graceful_shutdown"]) == (4, 5)
    assert options["ws_per_message_deflate"] is True
    assert ServerSettings.from_env(os.environ[SETTINGS_ENV]) == ServerSettings(
        timeout_head=2, timeout_body=3, min_body_rate=0, timeout_keep_alive=4,
        timeout_graceful_shutdown=5, limit_connections=6, limit_concurrency=7,
    )  # fmt: skip
    result = invoke("run", "web:app", "--timeout-head", "0")
    assert result.exit_code == 2
    assert served.calls[1:] == []


def test_run_options_reach_uvicorn(served: ServeCalls) -> None:
    write("web.py", APP)
    result = invoke(
        "run", "web:app", "--host", "::1", "--port", "9001", "--log-level", "debug",
        "--root-path", "/prefix", "--no-proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    options = served.options
    assert (options["host"], options["port"], options["log_level"]) == ("::1", 9001, "debug")
    assert options["root_path"] == "/prefix"
    assert options["proxy_headers"] is False
    assert served.target is sys.modules["web"].app


def test_run_wraps_the_app_for_named_proxies(served: ServeCalls) -> None:
    from kettle.middleware import ProxyHeadersMiddleware

    write("web.py", APP)
    result = invoke("run", "web:app", "--forwarded-allow-ips", "10.0.0.0/8")
    assert result.exit_code == 0, result.output
    assert isinstance(served.target, ProxyHeadersMiddleware)
    assert served.target.app is sys.modules["web"].app
    assert served.options["proxy_headers"] is False


def test_run_bounds_websocket_messages_by_the_largest_route_limit(served: ServeCalls) -> None:
    write(
        "web.py",
        """
        from kettle import Kettle, Limits, Router, WebSocket

        app = Kettle(limits=Limits(max_websocket_message_size=1000))
        big = Router(limits={"max_websocket_message_size": 5000})

        @big.websocket("/big")
        async def roomy(ws: WebSocket) -> None: ...

        @app.websocket("/small", limits={"max_websocket_message_size": 10})
        async def small(ws: WebSocket) -> None: ...

        app.include_router(big)
        """,
    )
    assert invoke("run", "web:app").exit_code == 0
    assert served.options["ws_max_size"] == 5000


@pytest.mark.parametrize(
    ("logs_requests", "flag", "expected"),
    [
        (False, None, True),  # uvicorn's lines are the only access log
        (True, None, False),  # AccessLogMiddleware's say more: not two lines a request
        (True, "--access-log", True),
        (False, "--no-access-log", False),
    ],
)
def test_uvicorns_access_log_is_off_when_the_app_logs_requests(
    served: ServeCalls, workdir: Path, logs_requests: bool, flag: str | None, expected: bool
) -> None:
    extra = "from kettle import AccessLogMiddleware\napp.add_middleware(AccessLogMiddleware)\n"
    write("web.py", APP + (extra if logs_requests else ""))
    args = ["run", "web:app", *([flag] if flag else [])]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert served.options["access_log"] is expected


def test_reload_passes_an_import_string(served: ServeCalls, workdir: Path) -> None:
    write("web.py", APP)
    Path("static").mkdir()
    result = invoke("run", "web", "--reload", "--reload-dir", "static")
    assert result.exit_code == 0, result.output
    # Each reloaded process imports web:app through kettle's factory (tests/
    # test_reload_errors.py: an edit that breaks the import gets an error page).
    assert served.target == "kettle.reloading:app_or_error_page"
    assert served.options["factory"] is True
    assert json.loads(os.environ[RELOAD_ENV]) == {"target": "web:app", "factory": False}
    assert served.options["reload"] is True
    assert served.options["reload_dirs"] == ["static"]
    assert served.options["app_dir"] == str(workdir)


def test_reload_with_a_file_path(served: ServeCalls, workdir: Path) -> None:
    write("examples/hello/webapp.py", APP)
    result = invoke("run", "examples/hello/webapp.py:app", "--reload")
    assert result.exit_code == 0, result.output
    assert json.loads(os.environ[RELOAD_ENV])["target"] == "webapp:app"
    assert served.options["reload_dirs"] is None  # uvicorn then watches the current directory
    assert served.options["app_dir"] == str(workdir / "examples" / "hello")


def test_workers_pass_an_import_string(served: ServeCalls) -> None:
    write("web.py", "from kettle import Kettle\nclass Holder:\n    api = Kettle()\n")
    result = invoke("run", "web:Holder.api", "--workers", "4")
    assert result.exit_code == 0, result.output
    assert served.target == "web:Holder.api"
    assert served.options["workers"] == 4
    assert served.options["reload"] is False


def test_reload_and_workers_are_refused(served: ServeCalls) -> None:
    write("web.py", APP)
    result = invoke("run", "web:app", "--reload", "--workers", "2")
    assert result.exit_code == 2
    assert "--reload runs a single process: it cannot be used with --workers" in result.output
    assert served.calls == []


@pytest.mark.parametrize(
    ("extra", "target", "factory"),
    [([], None, False), (["--workers", "2"], "web:create_app", True)],
)
def test_run_factory(
    served: ServeCalls, extra: list[str], target: str | None, factory: bool
) -> None:
    write("web.py", "from kettle import Kettle\ndef create_app():\n    return Kettle()\n")
    result = invoke("run", "--factory", "web", *extra)
    assert result.exit_code == 0, result.output
    if target is None:
        assert isinstance(served.target, Kettle)
    else:
        assert served.target == target
    assert served.options["factory"] is factory


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("localhost", True), ("::1", True), ("0.0.0.0", False), ("web.example", False)],
)
def test_debug_apps_bind_only_to_loopback(served: ServeCalls, host: str, allowed: bool) -> None:
    write("web.py", "from kettle import Kettle\napp = Kettle(debug=True)\n")
    result = invoke("run", "web:app", "--host", host)
    if allowed:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2
        assert "debug mode" in result.output
        assert served.calls == []


def test_run_reports_configuration_errors_before_serving(served: ServeCalls) -> None:
    write("web.py", BROKEN_APP)
    result = invoke("run", "web:app")
    assert result.exit_code == 1
    assert result.output.startswith("Error: the app cannot be served: ")
    assert served.calls == []


# -- the group: app commands hook, entry points --------------------------------------------


def test_app_commands_run_through_the_group() -> None:
    write(
        "web.py",
        """
        import click
        from kettle import Kettle

        app = Kettle()
        app.cli = click.Group()

        @app.cli.command()
        def hello():
            click.echo("hello from the app")
        """,
    )
    result = invoke("--app", "web:app", "hello")
    assert result.exit_code == 0, result.output
    assert result.output == "hello from the app\n"


@pytest.mark.parametrize("args", [["nope"], ["--app", "web:app", "nope"]])
def test_unknown_commands(args: list[str]) -> None:
    write("web.py", "from kettle import Kettle\napp = Kettle()\n")
    result = invoke(*args)
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_main(capsys: pytest.CaptureFixture[str]) -> None:
    write("web.py", APP)
    with pytest.raises(SystemExit) as info:
        main(["routes", "web:app"])
    assert info.value.code == 0
    assert "web.user" in capsys.readouterr().out


def test_python_dash_m(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["kettle", "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("kettle", run_name="__main__")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "routes" in out
    assert "run" in out


def test_importing_main_module_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Importing it (rather than running it with -m) must not start the CLI.
    monkeypatch.delitem(sys.modules, "kettle.__main__", raising=False)
    try:
        importlib.import_module("kettle.__main__")
    finally:
        sys.modules.pop("kettle.__main__", None)  # keep runpy from warning later
    assert capsys.readouterr().out == ""


def test_import_error_without_a_traceback() -> None:
    message = _error_inside(AppSpec("web:app", "web", "app"), ImportError("odd"))
    assert message == "importing 'web:app' failed: ImportError: odd"


def test_help_lists_the_run_options() -> None:
    result = invoke("run", "--help")
    for option in ("--reload", "--workers", "--proxy-headers", "--forwarded-allow-ips"):
        assert option in result.output
    assert isinstance(cli, click.Group)


# -- a real server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_run_serves_requests(workdir: Path) -> None:
    write(
        "web.py",
        """
        from kettle import Kettle

        app = Kettle()

        @app.get("/ping")
        async def ping() -> dict[str, bool]:
            return {"pong": True}
        """,
    )
    port = _free_port()
    log = (workdir / "server.log").open("w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "kettle", "run", "web:app", "--port", str(port)]
    process = subprocess.Popen(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        response = None
        while response is None:
            assert process.poll() is None, (workdir / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not answer in 20 s"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json() == {"pong": True}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
    assert "Uvicorn running on" in (workdir / "server.log").read_text()
