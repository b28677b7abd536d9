"""The core features behind Flask's and Werkzeug's module tree (``kettle.flask.*``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click
import pytest

from kettle import Kettle, flash, request
from kettle.aborting import Aborter
from kettle.commands import AppCliRunner, ScriptInfo
from kettle.exceptions import Gone, HTTPException, NotFound, RequestRedirect
from kettle.flaskrequest import DebugFilesKeyError
from kettle.globals import app_ctx, request_ctx
from kettle.rules import BaseConverter
from kettle.signals import (
    before_render_template,
    got_request_exception,
    message_flashed,
    template_rendered,
)
from kettle.templating import get_template_attribute, render_template_string


@pytest.fixture
def app(tmp_path: Path) -> Kettle:
    app = Kettle("flask_modules_test", root_path=str(tmp_path))
    app.config.update(SECRET_KEY="test key", TESTING=True)
    return app


# -- signals ------------------------------------------------------------------------------


def test_rendering_sends_before_render_template_and_template_rendered(app: Kettle) -> None:
    seen: list[tuple[str, Any, dict[str, Any]]] = []

    def before(sender: Any, template: Any, context: dict[str, Any]) -> None:
        seen.append(("before", sender, dict(context)))

    def after(sender: Any, template: Any, context: dict[str, Any]) -> None:
        seen.append(("after", sender, dict(context)))

    @app.route("/")
    def index() -> str:
        return render_template_string("{{ who }}", who="ada")

    with before_render_template.connected_to(before), template_rendered.connected_to(after):
        assert app.test_client().get("/").text == "ada"
    assert [(kind, sender) for kind, sender, _ in seen] == [("before", app), ("after", app)]
    assert seen[1][2]["who"] == "ada"


def test_flash_sends_message_flashed(app: Kettle) -> None:
    recorded: list[tuple[Any, str]] = []

    def record(sender: Any, message: Any, category: str) -> None:
        recorded.append((message, category))

    @app.route("/")
    def index() -> str:
        flash("saved", "info")
        return "ok"

    with message_flashed.connected_to(record):
        app.test_client().get("/")
    assert recorded == [("saved", "info")]


# -- the app's folders, resources and command line -------------------------------------


def test_instance_path_defaults_beside_the_module_and_can_hold_the_config(
    tmp_path: Path,
) -> None:
    app = Kettle("not_an_importable_module", root_path=str(tmp_path))
    assert app.instance_path == str(tmp_path / "instance")
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "settings.py").write_text("GREETING = 'hi'\n")
    relative = Kettle(
        "not_an_importable_module", root_path=str(tmp_path), instance_relative_config=True
    )
    assert relative.config.from_pyfile("settings.py")
    assert relative.config["GREETING"] == "hi"


def test_instance_path_of_a_package_is_beside_the_package() -> None:
    import kettle

    app = Kettle("kettle")
    package = os.path.dirname(os.path.abspath(kettle.__file__))
    assert app.instance_path == os.path.join(os.path.dirname(package), "instance")


def test_a_relative_instance_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absolute"):
        Kettle("x", root_path=str(tmp_path), instance_path="instance")


def test_open_resource_reads_beside_the_app_and_refuses_writing(app: Kettle) -> None:
    Path(app.root_path, "schema.sql").write_text("create table t (x);")
    with app.open_resource("schema.sql") as f:
        assert f.read() == b"create table t (x);"
    with pytest.raises(ValueError, match="reading"):
        app.open_resource("schema.sql", "w")
    os.makedirs(app.instance_path)
    with app.open_instance_resource("notes.txt", "w") as out:
        out.write("kept")
    assert Path(app.instance_path, "notes.txt").read_text() == "kept"


def test_cli_runner_runs_the_apps_commands_in_its_context(app: Kettle) -> None:
    from kettle import current_app

    @app.cli.command("hello")
    def hello() -> None:
        click.echo(f"hello from {current_app.import_name}")

    runner = app.test_cli_runner()
    assert isinstance(runner, AppCliRunner)
    assert runner.invoke(args=["hello"]).output == "hello from flask_modules_test\n"
    assert "hello from" in runner.invoke(hello).output

    other = Kettle("other_app")
    result = runner.invoke(hello, obj=ScriptInfo(create_app=lambda: other))
    assert result.output == "hello from other_app\n"


def test_runner_and_client_classes_can_be_replaced(app: Kettle) -> None:
    from kettle.testing import TestClient

    class Runner(AppCliRunner):
        pass

    class Client(TestClient):
        pass

    app.test_cli_runner_class = Runner
    app.test_client_class = Client
    assert type(app.test_cli_runner()) is Runner
    assert type(app.test_client()) is Client


def test_script_info_loads_an_import_path_once() -> None:
    info = ScriptInfo("tests.test_flask_modules:_an_app()")
    assert info.load_app() is info.load_app()
    with pytest.raises(click.UsageError):
        ScriptInfo().load_app()


def _an_app() -> Kettle:
    return Kettle("made_by_a_factory")


# -- routing ---------------------------------------------------------------------------------


def test_werkzeug_style_converters_match_and_build(app: Kettle) -> None:
    class ListConverter(BaseConverter):
        def to_python(self, value: str) -> list[str]:
            return value.split(",")

        def to_url(self, value: Any) -> str:
            return ",".join(super(ListConverter, self).to_url(v) for v in value)

    app.url_map.converters["list"] = ListConverter

    @app.route("/<list:items>")
    def joined(items: list[str]) -> str:
        return "|".join(items)

    client = app.test_client()
    assert client.get("/a,b,c").text == "a|b|c"
    with app.test_request_context():
        assert app.url_for("joined", items=["x y", "z"]) == "/x%20y,z"
    assert app.url_map.is_endpoint_expecting("joined", "items")
    assert not app.url_map.is_endpoint_expecting("joined", "other")
    assert [r.name for r in app.url_map.iter_rules("joined")] == ["joined"]


def test_request_redirect_carries_its_location() -> None:
    exc = RequestRedirect("/items/")
    assert (exc.status_code, exc.headers, exc.new_url) == (308, {"Location": "/items/"}, "/items/")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [(404, NotFound), (599, Gone), (299, HTTPException), (799, LookupError)],
)
def test_aborter_raises_the_class_of_its_table(code: int, expected: type) -> None:
    aborter = Aborter(extra={599: Gone})
    with pytest.raises(expected):
        aborter(code)


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/description", 400, '{"detail":"bad thing"}'),
        ("/response", 401, "nope"),
        ("/redirect", 302, None),
        ("/own-code", 599, '{"detail":"own"}'),
    ],
)
def test_abort_takes_werkzeugs_keywords_and_the_apps_aborter(
    app: Kettle, path: str, status: int, body: str | None
) -> None:
    from kettle import redirect
    from kettle.flask import abort

    class OwnError(HTTPException):
        pass

    app.aborter.mapping[599] = OwnError

    @app.get("/description")
    def description() -> None:
        abort(400, description="bad thing")

    @app.get("/response")
    def response() -> None:
        abort(401, response="nope")

    @app.get("/redirect")
    def redirected() -> None:
        abort(redirect("/elsewhere"))

    @app.get("/own-code")
    def own() -> None:
        abort(599, "own")

    answer = app.test_client(follow_redirects=False).get(path)
    assert answer.status_code == status
    if body is not None:
        assert answer.text == body
    else:
        assert answer.headers["location"] == "/elsewhere"


def test_aborter_class_is_the_apps_choice() -> None:
    class MyAborter(Aborter):
        pass

    class MyApp(Kettle):
        aborter_class = MyAborter

    assert isinstance(MyApp(__name__).aborter, MyAborter)


def test_aborter_refuses_what_is_not_a_status() -> None:
    with pytest.raises(LookupError):
        Aborter()(1000)
    with pytest.raises(TypeError):
        Aborter()("404")  # type: ignore[arg-type]


@pytest.mark.parametrize("debug", [True, False])
def test_files_lookup_of_a_text_field_explains_the_missing_enctype_in_debug(
    app: Kettle, debug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app.debug = debug
    app.testing = False  # a testing app would raise the error in the test (see below)

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        return str(request.files["doc"].filename)

    with caplog.at_level(logging.ERROR, "kettle.error"):
        response = app.test_client().post("/upload", data={"doc": "notes.txt"})
    if debug:  # a developer's mistake: raised (not a 400), and logged with the fix
        assert response.status_code == 500
        (record,) = caplog.records
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], DebugFilesKeyError)
        assert "This was submitted: 'notes.txt'" in str(record.exc_info[1])
    else:
        assert response.status_code == 400


# -- contexts and templates ------------------------------------------------------------------


def test_request_ctx_and_app_ctx_are_the_contexts(app: Kettle) -> None:
    assert not request_ctx
    assert not app_ctx
    with app.test_request_context("/x") as ctx:
        assert request_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
        assert app_ctx.app is app


def test_get_template_attribute_calls_a_macro(app: Kettle) -> None:
    templates = Path(app.root_path, "templates")
    templates.mkdir()
    (templates / "macros.html").write_text("{% macro hi(name) %}Hi {{ name }}{% endmacro %}")
    with app.app_context():
        assert str(get_template_attribute("macros.html", "hi")("ada")) == "Hi ada"


def test_run_simple_refuses_a_reloader_it_cannot_honour(app: Kettle) -> None:
    from kettle.serving import run_simple

    with pytest.raises(ValueError, match="reload"):
        run_simple("127.0.0.1", 0, app, use_reloader=True)


# -- contexts pushed by hand, teardown_appcontext ---------------------------------------


def test_app_context_push_pop_sends_signals_and_tears_down(app: Kettle) -> None:
    from kettle import current_app, g
    from kettle.signals import appcontext_popped, appcontext_pushed, appcontext_tearing_down

    events: list[str] = []

    @app.teardown_appcontext
    def close(error: BaseException | None) -> None:
        events.append(f"teardown {g.get('db')} {error!r}")

    def pushed(sender: Any) -> None:
        events.append("pushed")

    def popped(sender: Any) -> None:
        events.append("popped")

    def tearing_down(sender: Any, exc: BaseException | None) -> None:
        events.append("tearing down")

    with (
        appcontext_pushed.connected_to(pushed),
        appcontext_popped.connected_to(popped),
        appcontext_tearing_down.connected_to(tearing_down),
    ):
        ctx = app.app_context()
        ctx.push()
        g.db = "conn"
        assert current_app.import_name == app.import_name
        ctx.pop()
    assert events == ["pushed", "teardown conn None", "tearing down", "popped"]
    assert not app_ctx


def test_teardown_appcontext_runs_after_each_request_and_teardown_request(app: Kettle) -> None:
    from kettle import g

    order: list[str] = []

    @app.teardown_request
    def request_done(error: BaseException | None) -> None:
        order.append("request")

    @app.teardown_appcontext
    def context_done(error: BaseException | None) -> None:
        order.append(f"appcontext {g.get('user')}")

    @app.route("/")
    def index() -> str:
        g.user = "ada"
        return "ok"

    assert app.test_client().get("/").text == "ok"
    assert order == ["request", "appcontext ada"]


def test_a_test_request_context_pushed_by_hand_runs_teardown_request_on_pop(
    app: Kettle,
) -> None:
    seen: list[object] = []
    app.teardown_request(seen.append)
    ctx = app.test_request_context("/x")
    ctx.push()
    assert request.path == "/x"
    assert request_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
    ctx.pop()
    assert seen == [None]
    assert not request_ctx


def test_popping_a_context_that_is_not_current_is_refused(app: Kettle) -> None:
    outer, inner = app.app_context(), app.app_context()
    outer.push()
    inner.push()
    with pytest.raises(RuntimeError, match="not the current one"):
        outer.pop()
    inner.pop()
    outer.pop()


# -- errors raised in tests (Flask's PROPAGATE_EXCEPTIONS) ----------------------------------


@pytest.mark.parametrize(
    ("config", "raised"),
    [
        ({"TESTING": True}, True),
        ({"PROPAGATE_EXCEPTIONS": True}, True),
        ({"TESTING": True, "PROPAGATE_EXCEPTIONS": False}, False),
        ({"DEBUG": True}, False),  # kettle's debug page answers instead
        ({}, False),
    ],
)
def test_unhandled_errors_are_raised_in_tests_when_the_app_propagates_them(
    app: Kettle, config: dict[str, bool], raised: bool
) -> None:
    app.config.update({"TESTING": False, **config})
    seen: list[BaseException] = []

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    def record(sender: Any, exception: BaseException) -> None:
        seen.append(exception)

    with got_request_exception.connected_to(record, app):
        if raised:
            with pytest.raises(ZeroDivisionError):
                app.test_client().get("/")
        else:
            assert app.test_client().get("/").status_code == 500
    assert [type(e) for e in seen] == [ZeroDivisionError]


def test_handled_errors_are_not_raised_nor_signalled(app: Kettle) -> None:
    seen: list[BaseException] = []

    @app.errorhandler(ZeroDivisionError)
    def handled(exc: ZeroDivisionError) -> tuple[str, int]:
        return "handled", 500

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    with got_request_exception.connected_to(lambda sender, exception: seen.append(exception), app):
        assert app.test_client().get("/").text == "handled"
    assert seen == []


# -- app.logger ---------------------------------------------------------------------------


@pytest.fixture
def fresh_logger_name(request: pytest.FixtureRequest) -> Any:
    name = f"kettle_logger_test_{request.node.name}"
    yield name
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def test_the_app_logger_is_named_after_the_app_and_prints_by_default(
    fresh_logger_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from kettle.applogging import default_handler

    # pytest's own log capture is a handler on the root logger: keep records from it, as
    # an app with no logging set up has none there
    logging.getLogger(fresh_logger_name).propagate = False
    app = Kettle(fresh_logger_name)
    assert app.logger is logging.getLogger(fresh_logger_name)
    assert app.logger is app.logger  # set up once
    assert default_handler in app.logger.handlers
    app.logger.warning("disk %s full", "/srv")
    err = capsys.readouterr().err
    assert "WARNING in test_flask_modules: disk /srv full" in err


def test_the_app_logger_leaves_configured_logging_alone(fresh_logger_name: str) -> None:
    from kettle.applogging import default_handler, has_level_handler

    logger = logging.getLogger(fresh_logger_name)
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        assert has_level_handler(logger)
        assert Kettle(fresh_logger_name).logger.handlers == [handler]
        assert default_handler not in logger.handlers
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(("debug", "level"), [(True, logging.DEBUG), (False, logging.NOTSET)])
def test_debug_mode_logs_debug_unless_a_level_is_set(
    fresh_logger_name: str, debug: bool, level: int
) -> None:
    app = Kettle(fresh_logger_name)
    app.debug = debug
    assert app.logger.level == level


# -- Flask's module tree ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "app", "blueprints", "cli", "config", "ctx", "globals", "helpers", "json",
        "logging", "sessions", "signals", "templating", "testing", "typing", "views",
        "wrappers",
    ],
)  # fmt: skip
def test_flasks_submodules_are_attributes_of_the_package(name: str) -> None:
    import importlib

    import kettle.flask

    assert getattr(kettle.flask, name) is importlib.import_module(f"kettle.flask.{name}")


def test_flask_typing_annotates_views_and_hooks() -> None:
    import typing

    from kettle.flask.typing import ResponseReturnValue, RouteCallable
    from kettle.responses import Response

    def view() -> ResponseReturnValue:
        return "created", 201, {"Location": "/items/1"}

    route: RouteCallable = view
    assert route() == ("created", 201, {"Location": "/items/1"})
    assert Response in typing.get_args(ResponseReturnValue)
