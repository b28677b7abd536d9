"""Starlette's and FastAPI's ``Jinja2Templates`` (a templates object a handler renders
through, given the request), and the autoescape rule it shares with the app's templates.

``kettle.templating`` offers both under its own name too; the app's own templates
(``render_template``) live there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jinja2

from kettle.exceptions import ConfigurationError
from kettle.responses import Background, HTMLResponse

__all__ = [
    "AUTOESCAPE_EXTENSIONS",
    "Jinja2Templates",
    "TemplateHTMLResponse",
    "select_autoescape",
]

#: Extensions whose templates are HTML-escaped (a template from a string is too).
AUTOESCAPE_EXTENSIONS = (".html", ".htm", ".xml", ".xhtml", ".svg")


def select_autoescape(template_name: str | None) -> bool:
    """Escape templates made from strings and those named ``*.html``, ``*.xml``...

    Example:
        >>> select_autoescape("page.html"), select_autoescape("mail.txt"), select_autoescape(None)
        (True, False, True)
    """
    if template_name is None:
        return True
    return template_name.lower().endswith(AUTOESCAPE_EXTENSIONS)


# -- Starlette's and FastAPI's templates object ------------------------------------------------

RequestContextProcessor = Callable[[Any], Mapping[str, Any]]


@jinja2.pass_context
def _request_url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> str:
    # The absolute URL, built from the rendering request (its host, scheme, root_path).
    return str(context["request"].url_for(name, **path_params))


class TemplateHTMLResponse(HTMLResponse):
    """The page :meth:`Jinja2Templates.TemplateResponse` rendered, with what it was made of.

    ``template`` and ``context`` let a test check which page was rendered, and with what.
    """

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: Background | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)


class Jinja2Templates:
    """A folder of Jinja templates rendered into responses (Starlette's ``Jinja2Templates``).

    Templates named ``*.html``, ``*.xml``... are HTML-escaped; each sees ``request`` and
    ``url_for(name, **path_params)``, the absolute URL of a route or a mount (``url_for(
    'static', path='/site.css')``) as the request reached it. ``context_processors`` take
    the request and return values added to every template's context.

    Args:
        directory: the template folder (or several, searched in order).
        context_processors: callables ``(request) -> dict``.
        env: a Jinja environment to use instead of building one (``directory`` unused).
        env_options: passed to ``jinja2.Environment`` (``trim_blocks``, ``extensions``...).

    Example:
        >>> import pathlib, tempfile
        >>> from kettle import Kettle, Request
        >>> from kettle.templating import Jinja2Templates
        >>> from kettle.testing import TestClient
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> page = '<a href="{{ url_for("item", id=id) }}">{{ id }}</a>'
        >>> _ = (folder / "item.html").write_text(page)
        >>> templates = Jinja2Templates(directory=folder)
        >>> app = Kettle(__name__)
        >>> @app.get("/items/{id}", name="item")
        ... async def item(request: Request, id: str):
        ...     return templates.TemplateResponse(request, "item.html", {"id": id})
        >>> TestClient(app).get("/items/<b>").text
        '<a href="http://testserver/items/%3Cb%3E">&lt;b&gt;</a>'
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        context_processors: Iterable[RequestContextProcessor] = (),
        env: jinja2.Environment | None = None,
        **env_options: Any,
    ) -> None:
        if (directory is None) == (env is None):
            raise ConfigurationError("Jinja2Templates needs either directory or env")
        self.context_processors = list(context_processors)
        if env is None:
            folders = [directory] if isinstance(directory, str | os.PathLike) else directory
            env_options.setdefault("loader", jinja2.FileSystemLoader(list(folders or ())))
            env_options.setdefault("autoescape", select_autoescape)
            env = jinja2.Environment(**env_options)
        env.globals.setdefault("url_for", _request_url_for)
        self.env = env

    def get_template(self, name: str) -> jinja2.Template:
        """The template ``name`` from the folder."""
        return self.env.get_template(name)

    def TemplateResponse(
        self, *args: Any, **kwargs: Any
    ) -> TemplateHTMLResponse:  # Starlette's name
        """Render ``name`` with ``context`` (and ``request``) into an HTML response.

        Called as ``TemplateResponse(request, name, context, status_code, headers,
        media_type, background)``, any of them by keyword, or in the older order
        ``TemplateResponse(name, context)`` with the request in ``context["request"]``.

        Raises:
            ConfigurationError: no request was given.
        """
        names: tuple[str, ...] = ("name", "context", "status_code", "headers", "media_type")
        # the older order, (name, context, ...), has no request in front
        names = (
            (*names, "background")
            if args and isinstance(args[0], str)
            else ("request", *names, "background")
        )
        if len(args) > len(names):
            raise TypeError(f"TemplateResponse() takes at most {len(names)} arguments")
        for key, value in zip(names, args, strict=False):
            if key in kwargs:
                raise TypeError(f"TemplateResponse() got two values for {key!r}")
            kwargs[key] = value
        unknown = set(kwargs) - {*names, "request"}
        if unknown:
            raise TypeError(f"TemplateResponse() got unexpected arguments {sorted(unknown)}")
        context: dict[str, Any] = dict(kwargs.get("context") or {})
        req = kwargs.get("request") or context.get("request")
        if req is None:
            raise ConfigurationError("TemplateResponse needs the request (its first argument)")
        context.setdefault("request", req)
        for processor in self.context_processors:
            for key, value in processor(req).items():
                context.setdefault(key, value)
        return TemplateHTMLResponse(
            self.get_template(kwargs["name"]),
            context,
            kwargs.get("status_code", 200),
            kwargs.get("headers"),
            kwargs.get("media_type"),
            kwargs.get("background"),
        )
