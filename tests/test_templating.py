"""Templates: loading, autoescaping, registration, context, async rendering, reloading."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import jinja2
import pytest

from kettle.config import DEFAULT_CONFIG, Config
from kettle.globals import AppContext, RequestContext, g, session
from kettle.requests import Request
from kettle.responses import Response
from kettle.sessions import SecureCookieSessionInterface
from kettle.templating import (
    Templating,
    render_template,
    render_template_async,
    render_template_string,
    render_template_string_async,
    select_autoescape,
    stream_template,
    stream_template_async,
    stream_template_string,
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    write(templates, "page.html", "<p>{{ text }}</p>")
    write(templates, "mail.txt", "Hi {{ text }}")
    write(templates, "base.html", "[{% block body %}{% endblock %}]")
    write(
        templates, "child.html", '{% extends "base.html" %}{% block body %}{{ text }}{% endblock %}'
    )
    return tmp_path


@pytest.fixture
def templates(root: Path) -> Templating:
    return Templating(root)


class App:
    def __init__(self, templating: Templating, **config: Any) -> None:
        self.config = Config(".", DEFAULT_CONFIG)
        self.config.update(config)
        self.templating = templating
        self.session_interface = SecureCookieSessionInterface()
        self.urls: list[tuple[str, dict[str, Any]]] = []

    def url_for(self, endpoint: str, **values: Any) -> str:
        self.urls.append((endpoint, values))
        return f"/{endpoint}"


def make_request(path: str = "/", cookie: str | None = None) -> Request:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": path, "headers": headers})


class TestAutoescape:
    @pytest.mark.parametrize(
        ("name", "escaped"),
        [
            ("page.html", True),
            ("page.HTM", True),
            ("feed.xml", True),
            ("doc.xhtml", True),
            ("icon.svg", True),
            ("mail.txt", False),
            ("data.json", False),
            (None, True),
        ],
    )
    def test_by_extension(self, name: str | None, escaped: bool) -> None:
        assert select_autoescape(name) is escaped

    def test_rendering(self, templates: Templating) -> None:
        assert templates.render("page.html", text="<b>") == "<p>&lt;b&gt;</p>"
        assert templates.render("mail.txt", text="<b>") == "Hi <b>"
        assert templates.render_string("{{ text }}", text="<b>") == "&lt;b&gt;"
        assert templates.render_string("{{ text|safe }}", text="<b>") == "<b>"

    def test_inheritance_and_first_of_a_list(self, templates: Templating) -> None:
        assert templates.render("child.html", text="x") == "[x]"
        assert templates.render(["missing.html", "page.html"], text="y") == "<p>y</p>"
        with pytest.raises(jinja2.TemplateNotFound):
            templates.render("missing.html")

    def test_names_cannot_leave_the_folder(self, templates: Templating, root: Path) -> None:
        write(root, "secret.html", "secret")
        with pytest.raises(jinja2.TemplateNotFound):
            templates.render("../secret.html")


class TestFolders:
    def test_app_templates_override_blueprint_ones(self, root: Path) -> None:
        write(root / "bp" / "templates", "page.html", "blueprint page")
        write(root / "bp" / "templates", "bp_only.html", "only in bp")
        templates = Templating(root, ["templates", "bp/templates"])
        assert templates.render("page.html", text="app") == "<p>app</p>"
        assert templates.render("bp_only.html") == "only in bp"
        assert templates.folders == [str(root / "templates"), str(root / "bp" / "templates")]

    def test_folder_added_after_first_render(self, templates: Templating, root: Path) -> None:
        with pytest.raises(jinja2.TemplateNotFound):
            templates.render("late.html")
        write(root / "late", "late.html", "late")
        templates.add_folder(root / "late")  # absolute paths are kept as they are
        templates.add_folder(root / "late")  # a second add is ignored
        assert templates.render("late.html") == "late"
        assert templates.folders.count(str(root / "late")) == 1

    @pytest.mark.parametrize(
        ("auto_reload", "debug", "reloads"),
        [(None, True, True), (None, False, False), (True, False, True), (False, True, False)],
    )
    def test_auto_reload(
        self, root: Path, auto_reload: bool | None, debug: bool, reloads: bool
    ) -> None:
        templates = Templating(root, auto_reload=auto_reload, debug=debug)
        path = write(root / "templates", "live.html", "one")
        assert templates.render("live.html") == "one"
        path.write_text("two")
        stat = path.stat()
        os.utime(path, (stat.st_atime, stat.st_mtime + 10))  # a visibly newer file
        assert templates.render("live.html") == ("two" if reloads else "one")
        assert templates.auto_reload is reloads

    def test_auto_reload_can_be_switched_on(self, root: Path) -> None:
        templates = Templating(root)
        path = write(root / "templates", "live.html", "one")
        assert templates.render("live.html") == "one"
        templates.auto_reload = True
        _ = templates.async_env
        path.write_text("two")
        stat = path.stat()
        os.utime(path, (stat.st_atime, stat.st_mtime + 10))
        assert templates.render("live.html") == "two"
        assert templates.async_env.auto_reload

    def test_environment_options(self, root: Path) -> None:
        templates = Templating(root, trim_blocks=True)
        assert templates.env.trim_blocks
        assert templates.env.templating is templates


class TestRegistration:
    def test_filters_globals_and_tests(self, templates: Templating) -> None:
        @templates.template_filter()
        def reverse(text: str) -> str:
            return text[::-1]

        @templates.template_filter("shout")
        def _upper(text: str) -> str:
            return text.upper()

        @templates.template_filter
        def bare(text: str) -> str:
            return f"<{text}>"

        @templates.template_global()
        def answer() -> int:
            return 42

        @templates.template_global("pi")
        def _pi() -> float:
            return 3.14

        @templates.template_test()
        def even(n: int) -> bool:
            return n % 2 == 0

        @templates.template_test
        def odd(n: int) -> bool:
            return n % 2 == 1

        source = (
            "{{ 'abc'|reverse }} {{ 'x'|shout }} {{ 'y'|bare }} {{ answer() }} {{ pi() }} "
            "{{ 4 is even }} {{ 4 is odd }}"
        )
        assert templates.render_string(source) == "cba X &lt;y&gt; 42 3.14 True False"
        assert reverse("ab") == "ba"  # decorators give the function back

    def test_add_functions(self, templates: Templating) -> None:
        templates.add_template_filter(str.title, "title_case")
        templates.add_template_global(len)
        templates.add_template_test(callable, "callable_thing")
        assert templates.render_string("{{ 'a b'|title_case }} {{ len('abc') }}") == "A B 3"
        assert templates.render_string("{{ len is callable_thing }}") == "True"


class TestContext:
    def test_context_processors_and_precedence(self, templates: Templating) -> None:
        @templates.context_processor
        def site() -> dict[str, Any]:
            return {"site": "kettle", "text": "from processor"}

        assert templates.render_string("{{ site }}: {{ text }}", text="explicit") == (
            "kettle: explicit"
        )
        assert templates.render("page.html") == "<p>from processor</p>"

    def test_processors_given_up_front(self, root: Path) -> None:
        templates = Templating(root, context_processors=[lambda: {"text": "given"}])
        assert templates.render("page.html") == "<p>given</p>"

    def test_async_processor_needs_async_rendering(self, templates: Templating) -> None:
        async def user() -> dict[str, Any]:
            return {"text": "async user"}

        templates.context_processor(user)
        with pytest.raises(TypeError, match="render_template_async"):
            templates.render("page.html")
        assert anyio.run(templates.render_async, "page.html") == "<p>async user</p>"


class TestAsyncRendering:
    def test_awaitables_are_awaited(self, templates: Templating) -> None:
        async def load_user(uid: int) -> str:
            await anyio.lowlevel.checkpoint()
            return f"user {uid}"

        templates.add_template_global(load_user)

        async def main() -> tuple[str, str]:
            page = await templates.render_async("page.html", text="<a>")
            string = await templates.render_string_async("{{ load_user(3) }}")
            return page, string

        assert anyio.run(main) == ("<p>&lt;a&gt;</p>", "user 3")
        # The sync environment is untouched by the async one.
        assert not templates.env.is_async
        assert templates.async_env.is_async
        assert templates.async_env.filters is templates.env.filters

    def test_sync_render_works_inside_an_event_loop(self, templates: Templating) -> None:
        async def main() -> str:
            return templates.render("page.html", text="in loop")

        assert anyio.run(main) == "<p>in loop</p>"

    def test_streaming(self, templates: Templating) -> None:
        pieces = templates.stream_string("{% for i in items %}{{ i }}{% endfor %}", items=[1, 2])
        assert "".join(pieces) == "12"

        async def main() -> str:
            stream = await templates.stream_async("page.html", text="s")
            return "".join([piece async for piece in stream])

        assert anyio.run(main) == "<p>s</p>"


class TestThroughTheApp:
    def test_render_functions_find_the_current_app(self, templates: Templating) -> None:
        app = App(templates, MODE="demo")
        with AppContext(app):
            assert render_template("page.html", text="x") == "<p>x</p>"
            assert render_template_string("{{ config.MODE }}") == "demo"
            assert render_template_string("{{ url_for('index', page=2) }}") == "/index"
            assert "".join(stream_template("page.html", text="s")) == "<p>s</p>"
            assert "".join(stream_template_string("{{ 1 + 1 }}")) == "2"

            async def main() -> tuple[str, str, str]:
                a = await render_template_async("page.html", text="a")
                b = await render_template_string_async("{{ config.MODE }}")
                c = "".join([p async for p in await stream_template_async("mail.txt", text="c")])
                return a, b, c

            assert anyio.run(main) == ("<p>a</p>", "demo", "Hi c")
        assert app.urls == [("index", {"page": 2})]

    def test_app_without_templating(self) -> None:
        class Bare:
            config: ClassVar[dict[str, Any]] = {}

        with AppContext(Bare()), pytest.raises(RuntimeError, match="templating"):
            render_template("page.html")

    def test_request_session_and_g_in_templates(self, templates: Templating) -> None:
        app = App(templates, SECRET_KEY="k")
        with RequestContext(app, make_request("/here")):
            g.user = "ada"
            session["theme"] = "dark"
            out = render_template_string("{{ request.path }} {{ g.user }} {{ session.theme }}")
            assert out == "/here ada dark"
            assert render_template_string("{{ g.missing is undefined }}") == "True"

    def test_template_without_session_does_not_open_it(self, templates: Templating) -> None:
        app = App(templates, SECRET_KEY="k")
        with RequestContext(app, make_request()) as ctx:
            assert render_template("page.html", text="x") == "<p>x</p>"
            assert not ctx.session_opened

    def test_outside_a_request_proxies_are_falsy(self, templates: Templating) -> None:
        with AppContext(App(templates)):
            out = render_template_string("{% if request %}yes{% else %}no{% endif %}")
            assert out == "no"

    def test_flashed_messages_in_templates(self, templates: Templating) -> None:
        from kettle.helpers import flash

        app = App(templates, SECRET_KEY="k")
        response = Response("")
        with RequestContext(app, make_request()) as ctx:
            flash("saved", "info")
            flash("oops", "error")
            ctx.save_session(response)
        cookie = response.headers["set-cookie"].split(";", 1)[0]
        source = (
            "{% for c, m in get_flashed_messages(with_categories=true) %}{{ c }}={{ m }} "
            "{% endfor %}|{{ get_flashed_messages(category_filter=['error']) }}"
        )
        with RequestContext(app, make_request(cookie=cookie)):
            assert render_template_string(source) == "info=saved error=oops |[&#39;oops&#39;]"

    def test_stream_keeps_the_request_context(self, templates: Templating) -> None:
        app = App(templates)
        with RequestContext(app, make_request("/streamed")):
            pieces = stream_template_string("{{ request.path }}")

            async def collect() -> AsyncIterator[str]:
                return await stream_template_async("page.html", text="t")

            async_pieces = anyio.run(collect)
        assert "".join(pieces) == "/streamed"  # rendered after the context ended

        async def drain() -> str:
            return "".join([p async for p in async_pieces])

        assert anyio.run(drain) == "<p>t</p>"
