"""Jinja2 templates: loading beside the app and its blueprints, rendering, async rendering.

An app holds one :class:`Templating`: the template folders (the app's ``templates/``
first, then each blueprint's, so the app can override a blueprint's template), the
context processors, and the Jinja environment built from them on first use. The
module-level :func:`render_template` and friends find it through ``current_app``.

Templates see ``request``, ``session``, ``g``, ``config``, ``url_for``,
``get_flashed_messages``, ``csrf_token()`` and ``csrf_input()`` (the session's CSRF token,
and a hidden form field holding it: see :mod:`kettle.middleware.csrf`). The first four
are context-local proxies, resolved only when a template uses them: a page that never
mentions ``session`` does not load it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

import jinja2

from kettle.globals import (
    LocalProxy,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
)
from kettle.jinjatemplates import (
    AUTOESCAPE_EXTENSIONS,
    Jinja2Templates,
    TemplateHTMLResponse,
    select_autoescape,
)
from kettle.signals import before_render_template, template_rendered
from kettle.templateloader import FolderLoader

__all__ = [
    "AUTOESCAPE_EXTENSIONS",
    "Environment",
    "Jinja2Templates",
    "TemplateHTMLResponse",
    "Templating",
    "get_template_attribute",
    "render_template",
    "render_template_async",
    "render_template_string",
    "render_template_string_async",
    "select_autoescape",
    "stream_template",
    "stream_template_async",
    "stream_template_string",
]

F = TypeVar("F", bound=Callable[..., Any])
ContextProcessor = Callable[[], Mapping[str, Any]]
#: A template name, a template, or a list of them (the first that exists is used).
TemplateName = str | jinja2.Template | list[str | jinja2.Template]


def _url_for(endpoint: str, **values: Any) -> str:
    # Looked up at call time: the app may be built, and its routes compiled, after this
    # environment exists.
    from kettle.helpers import url_for

    return url_for(endpoint, **values)


def _get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    from kettle.helpers import get_flashed_messages

    return get_flashed_messages(with_categories, category_filter)


def _csrf_token() -> str:
    from kettle.middleware.csrf import csrf_token

    return csrf_token()


def _csrf_input() -> Any:
    from kettle.middleware.csrf import csrf_input

    return csrf_input()


def _get_config() -> Any:
    return current_app.config


class Environment(jinja2.Environment):
    """A Jinja environment with kettle's defaults.

    Autoescaping by file extension (:func:`select_autoescape`), templates loaded from the
    :class:`Templating`'s folders, and the context-local globals.
    """

    def __init__(self, templating: Templating, **options: Any) -> None:
        options.setdefault("autoescape", select_autoescape)
        options.setdefault("loader", templating.loader)
        options.setdefault("auto_reload", templating.auto_reload)
        super().__init__(**options)
        self.templating = templating
        self.globals.update(
            url_for=_url_for,
            get_flashed_messages=_get_flashed_messages,
            csrf_token=_csrf_token,
            csrf_input=_csrf_input,
            config=LocalProxy(_get_config, "config"),
            request=request,
            session=session,
            g=g,
        )
        # ``|tojson`` writes with the current app's ``app.json`` (HTTP dates, its default)
        self.policies["json.dumps_function"] = _json_dumps


class Templating:
    """An app's templates: folders, filters, globals, context processors, rendering.

    Args:
        root_path: folder that relative template folders are resolved against (the app's
            ``root_path``).
        folders: template folders, searched in order (app first, then blueprints).
        auto_reload: re-read templates changed on disk. ``None`` follows ``debug``
            (``TEMPLATES_AUTO_RELOAD``'s meaning in Flask).
        debug: the app's debug flag.
        context_processors: callables returning dicts merged into every template's
            context (an explicit render argument wins over them).
        environment_class: the Jinja environment's class (Flask's
            ``Flask.jinja_environment``): :class:`Environment` or a subclass.
        options: passed to :class:`Environment` (``trim_blocks``, ``extensions``...).

    Example:
        >>> import pathlib, tempfile
        >>> from kettle.templating import Templating
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "templates").mkdir()
        >>> _ = (root / "templates" / "hello.html").write_text("Hello {{ name|shout }}!")
        >>> templates = Templating(root)
        >>> @templates.template_filter()
        ... def shout(text):
        ...     return text.upper()
        >>> templates.render("hello.html", name="<ada>")
        'Hello &lt;ADA&gt;!'
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str] = ".",
        folders: Iterable[str | os.PathLike[str]] = ("templates",),
        *,
        auto_reload: bool | None = None,
        debug: bool = False,
        context_processors: Iterable[ContextProcessor] = (),
        environment_class: type[Environment] | None = None,
        **options: Any,
    ) -> None:
        self.root_path = os.fspath(root_path)
        #: the class of :attr:`env` (a subclass of :class:`Environment`)
        self.environment_class = environment_class or Environment
        #: the folders' loader (``EXPLAIN_TEMPLATE_LOADING`` explains its lookups)
        self.loader = FolderLoader()
        self.folders: list[str] = []
        self._env: Environment | None = None
        self._async_env: jinja2.Environment | None = None
        self._auto_reload = debug if auto_reload is None else auto_reload
        self.context_processors: list[ContextProcessor] = list(context_processors)
        #: context processors of blueprints, by blueprint name: they run for the
        #: requests of that blueprint's routes (its own or nested blueprints')
        self.blueprint_context_processors: dict[str, list[ContextProcessor]] = {}
        self.options = options
        for folder in folders:
            self.add_folder(folder)

    # -- the environments ----------------------------------------------------------------

    @property
    def env(self) -> Environment:
        """The Jinja environment (``app.jinja_env``), built on first use."""
        if self._env is None:
            self._env = self.environment_class(self, **self.options)
        return self._env

    @property
    def async_env(self) -> jinja2.Environment:
        """An overlay of :attr:`env` with ``enable_async``: same loader, filters, globals.

        Jinja compiles a template differently for async rendering, and a sync render of
        an async template would start an event loop of its own, so each mode keeps its
        own compiled templates.
        """
        if self._async_env is None:
            self._async_env = self.env.overlay(enable_async=True)
        return self._async_env

    @property
    def auto_reload(self) -> bool:
        """Whether changed template files are picked up without a restart."""
        return self._auto_reload

    @auto_reload.setter
    def auto_reload(self, value: bool) -> None:
        self._auto_reload = value
        for env in (self._env, self._async_env):
            if env is not None:
                env.auto_reload = value

    def add_folder(self, folder: str | os.PathLike[str], label: str | None = None) -> None:
        """Search ``folder`` (relative to ``root_path``) after the folders already added.

        A blueprint registering its template folder calls this; templates already loaded
        are forgotten so the new search order applies. ``label`` names the folder's owner
        in ``EXPLAIN_TEMPLATE_LOADING``'s log (``"blueprint 'admin'"``).
        """
        path = os.path.join(self.root_path, os.fspath(folder))
        if path in self.folders:
            return
        self.folders.append(path)
        self.loader.add(path, label)
        for env in (self._env, self._async_env):
            if env is not None and env.cache is not None:
                env.cache.clear()

    # -- registration --------------------------------------------------------------------

    def context_processor(self, func: F) -> F:
        """Register ``func`` (returning a dict) to add values to every template's context."""
        self.context_processors.append(func)
        return func

    @overload
    def template_filter(self, name: F) -> F: ...
    @overload
    def template_filter(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_filter(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register the decorated function as a filter (``{{ value|name }}``)."""
        return self._decorator(self.add_template_filter, name)

    def add_template_filter(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Register ``func`` as a filter named ``name`` (default: its own name)."""
        self.env.filters[name or func.__name__] = func

    @overload
    def template_global(self, name: F) -> F: ...
    @overload
    def template_global(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_global(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register the decorated function as a global callable in every template."""
        return self._decorator(self.add_template_global, name)

    def add_template_global(self, func: Callable[..., Any], name: str | None = None) -> None:
        """Make ``func`` callable from every template as ``name`` (default: its own name)."""
        self.env.globals[name or func.__name__] = func

    @overload
    def template_test(self, name: F) -> F: ...
    @overload
    def template_test(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_test(self, name: str | F | None = None) -> F | Callable[[F], F]:
        """Register the decorated function as a test (``{% if value is name %}``)."""
        return self._decorator(self.add_template_test, name)

    def add_template_test(self, func: Callable[..., bool], name: str | None = None) -> None:
        """Register ``func`` as a test named ``name`` (default: its own name)."""
        self.env.tests[name or func.__name__] = func

    @staticmethod
    def _decorator(
        add: Callable[[Callable[..., Any], str | None], None], name: str | F | None
    ) -> F | Callable[[F], F]:
        if callable(name):  # used bare: @templates.template_filter
            add(name, None)
            return name

        def decorator(func: F) -> F:
            add(func, name)
            return func

        return decorator

    # -- context -------------------------------------------------------------------------

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values to ``context``, which keeps its own."""
        processors = self._processors()
        if not processors:
            return
        explicit = dict(context)
        for processor in processors:
            values = processor()
            if inspect.isawaitable(values):
                values.close()  # type: ignore[attr-defined]
                raise TypeError(
                    f"context processor {processor!r} is async: use render_template_async"
                )
            context.update(values)
        context.update(explicit)

    def _processors(self) -> list[ContextProcessor]:
        """The app's context processors, then those of the current request's blueprints
        (outermost first)."""
        if not self.blueprint_context_processors:
            return self.context_processors
        from kettle.globals import RequestContext, current_context

        ctx = current_context()
        route = ctx.request.scope.get("route") if isinstance(ctx, RequestContext) else None
        if route is None or not route.blueprint:
            return self.context_processors
        processors = list(self.context_processors)
        for name in route.blueprint.split("."):
            processors.extend(self.blueprint_context_processors.get(name, ()))
        return processors

    async def update_template_context_async(self, context: dict[str, Any]) -> None:
        """:meth:`update_template_context`, awaiting async context processors."""
        processors = self._processors()
        if not processors:
            return
        explicit = dict(context)
        for processor in processors:
            values: Any = processor()
            if inspect.isawaitable(values):
                values = await values
            context.update(values)
        context.update(explicit)

    # -- rendering -----------------------------------------------------------------------

    def get_template(self, name: TemplateName) -> jinja2.Template:
        """The template ``name`` (or the first found of a list of names)."""
        return self.env.get_or_select_template(name)

    def render(self, name: TemplateName, /, **context: Any) -> str:
        """Render the template ``name`` (or the first that exists of a list)."""
        template = self.env.get_or_select_template(name)
        self.update_template_context(context)
        return self._render(template, context)

    def render_string(self, source: str, /, **context: Any) -> str:
        """Render a template given as a string (always autoescaped)."""
        template = self.env.from_string(source)
        self.update_template_context(context)
        return self._render(template, context)

    def _render(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        # The signals are sent only when someone listens: one set lookup each otherwise.
        app = _current_app_or_none()
        if before_render_template.receivers:
            before_render_template.send(app, template=template, context=context)
        text = template.render(context)
        if template_rendered.receivers:
            template_rendered.send(app, template=template, context=context)
        return text

    async def render_async(self, name: TemplateName, /, **context: Any) -> str:
        """Render without blocking on async values: awaitables in the context are awaited."""
        template = self.async_env.get_or_select_template(name)
        await self.update_template_context_async(context)
        return await template.render_async(context)

    async def render_string_async(self, source: str, /, **context: Any) -> str:
        """:meth:`render_string`, rendering asynchronously."""
        template = self.async_env.from_string(source)
        await self.update_template_context_async(context)
        return await template.render_async(context)

    def stream(self, name: TemplateName, /, **context: Any) -> Iterator[str]:
        """Render piece by piece, as the response is sent (for large pages)."""
        template = self.env.get_or_select_template(name)
        self.update_template_context(context)
        return _keep_context(template.generate(context))

    def stream_string(self, source: str, /, **context: Any) -> Iterator[str]:
        """:meth:`stream` for a template given as a string."""
        template = self.env.from_string(source)
        self.update_template_context(context)
        return _keep_context(template.generate(context))

    async def stream_async(self, name: TemplateName, /, **context: Any) -> AsyncIterator[str]:
        """:meth:`stream`, rendering asynchronously."""
        template = self.async_env.get_or_select_template(name)
        await self.update_template_context_async(context)
        return _keep_context_async(template.generate_async(context))


def app_templating(app: Any, *, auto_reload: bool, debug: bool) -> Templating:
    """The :class:`Templating` of ``app``: its template folder first, labelled for
    ``EXPLAIN_TEMPLATE_LOADING``, or the loader its ``create_global_jinja_loader()`` makes
    (an app subclass defining that method decides where every template comes from)."""
    make_loader = getattr(app, "create_global_jinja_loader", None)
    options = {"loader": make_loader()} if make_loader is not None else {}
    templating = Templating(
        app.root_path,
        [],
        auto_reload=auto_reload,
        debug=debug,
        environment_class=app.jinja_environment,
        **options,
    )
    if app.template_folder is not None:
        name = getattr(app, "name", None) or app.import_name
        templating.add_folder(app.template_folder, f"application {name!r}")
    return templating


def add_blueprint_folders(templating: Templating, blueprints: Iterable[Any]) -> None:
    """Search each blueprint's template folder after the app's (once each)."""
    for bp in blueprints:
        if bp.template_path is not None:
            templating.add_folder(bp.template_path, f"blueprint {bp.name!r} ({bp.import_name})")


def _json_dumps(obj: Any, **kwargs: Any) -> str:
    from kettle.jsonprovider import provider

    text: str = provider().dumps(obj, **kwargs)
    return text


def _current_app_or_none() -> Any:
    return current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]


class TemplateStream(Iterator[str]):
    """The pieces of a template being rendered; a handler returning it streams HTML.

    Example:
        >>> stream = TemplateStream(iter(["<p>", "hi", "</p>"]))
        >>> "".join(stream)
        '<p>hi</p>'
    """

    #: a handler's return value with this flag becomes a streamed ``text/html`` response
    streams_as_html = True

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces

    def __next__(self) -> str:
        return next(self._pieces)


class AsyncTemplateStream(AsyncIterator[str]):
    """:class:`TemplateStream` for async rendering."""

    streams_as_html = True

    def __init__(self, pieces: AsyncIterator[str]) -> None:
        self._pieces = pieces

    async def __anext__(self) -> str:
        return await anext(self._pieces)


def _keep_context(pieces: Iterator[str]) -> Iterator[str]:
    # The pieces are produced while the response is sent; keep the request's context
    # for templates that use request, session or g.
    if has_request_context():
        from kettle.helpers import stream_with_context

        pieces = stream_with_context(pieces)
    return TemplateStream(pieces)


def _keep_context_async(pieces: AsyncIterator[str]) -> AsyncIterator[str]:
    if has_request_context():
        from kettle.helpers import stream_with_context

        pieces = stream_with_context(pieces)
    return AsyncTemplateStream(pieces)


def _templating() -> Templating:
    templating: Templating | None = getattr(current_app, "templating", None)
    if templating is None:
        raise RuntimeError("The current app has no 'templating' (kettle.templating.Templating)")
    return templating


def render_template(template_name_or_list: TemplateName, /, **context: Any) -> str:
    """Render a template from the current app's template folders with ``context``.

    Example:
        >>> import pathlib, tempfile
        >>> from kettle.globals import AppContext
        >>> from kettle.templating import Templating, render_template
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "templates").mkdir()
        >>> _ = (root / "templates" / "hi.html").write_text("Hi {{ name }} ({{ config.MODE }})")
        >>> class App:
        ...     config = {"MODE": "demo"}
        ...     templating = Templating(root)
        >>> with AppContext(App()):
        ...     render_template("hi.html", name="<b>")
        'Hi &lt;b&gt; (demo)'
    """
    return _templating().render(template_name_or_list, **context)


def render_template_string(source: str, /, **context: Any) -> str:
    """Render a template given as a string (autoescaped) with ``context``."""
    return _templating().render_string(source, **context)


async def render_template_async(template_name_or_list: TemplateName, /, **context: Any) -> str:
    """Render a template asynchronously (async globals, filters and values are awaited)."""
    return await _templating().render_async(template_name_or_list, **context)


async def render_template_string_async(source: str, /, **context: Any) -> str:
    """Render a template given as a string, asynchronously."""
    return await _templating().render_string_async(source, **context)


def stream_template(template_name_or_list: TemplateName, /, **context: Any) -> Iterator[str]:
    """Render a template piece by piece; return it as a ``StreamingResponse`` body."""
    return _templating().stream(template_name_or_list, **context)


def stream_template_string(source: str, /, **context: Any) -> Iterator[str]:
    """Render a template given as a string piece by piece."""
    return _templating().stream_string(source, **context)


async def stream_template_async(
    template_name_or_list: TemplateName, /, **context: Any
) -> AsyncIterator[str]:
    """Render a template piece by piece, asynchronously."""
    return await _templating().stream_async(template_name_or_list, **context)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable the template ``template_name`` defines, to use from Python
    (``get_template_attribute("macros.html", "hello")("ada")``)."""
    return getattr(_templating().get_template(template_name).module, attribute)
