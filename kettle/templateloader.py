"""The loader behind ``app.jinja_env``: the app's template folder, then each blueprint's.

Each folder is searched in order and the first that has the template wins, so the app
can override a blueprint's template. With ``EXPLAIN_TEMPLATE_LOADING`` set in the app's
config, every lookup is explained on ``app.logger`` (which folders were tried, which
one answered), to find out why a template is not the one expected.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "page.html").write_text("hi")
    >>> loader = FolderLoader()
    >>> loader.add(str(root), "application 'demo'")
    >>> loader.list_templates()
    ['page.html']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jinja2

from kettle.globals import current_app, has_app_context, has_request_context, request

__all__ = ["FolderLoader"]

_GUIDE = "https://flask.palletsprojects.com/blueprints/#templates"


class FolderLoader(jinja2.BaseLoader):
    """Template folders searched in order, each with a label used in explanations."""

    def __init__(self) -> None:
        #: ``(label, loader)`` pairs, searched in this order
        self.loaders: list[tuple[str, jinja2.BaseLoader]] = []

    def add(self, path: str, label: str | None = None) -> None:
        """Search the folder ``path`` after the others (``label`` names its owner)."""
        self.loaders.append((label or path, jinja2.FileSystemLoader(path)))

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        explain = has_app_context() and current_app.config.get("EXPLAIN_TEMPLATE_LOADING")
        if explain:
            return self._explained(environment, template)
        for _label, loader in self.loaders:
            try:
                return loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                continue
        raise jinja2.TemplateNotFound(template)

    def _explained(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        lines = [f"Locating template {template!r}:"]
        found: tuple[str, str | None, Callable[[], bool] | None] | None = None
        for number, (label, loader) in enumerate(self.loaders, 1):
            lines.append(f"{number:5}: trying loader of {label}")
            lines.append(f"       class: {type(loader).__module__}.{type(loader).__name__}")
            if isinstance(loader, jinja2.FileSystemLoader):
                lines.append(f"       searchpath: {os.pathsep.join(map(str, loader.searchpath))}")
            if found is not None:
                lines.append("       -> skipped: an earlier loader has it")
                continue
            try:
                found = loader.get_source(environment, template)
            except jinja2.TemplateNotFound:
                lines.append("       -> no match")
            else:
                lines.append(f"       -> found ({found[1] or '<string>'!r})")
        if found is None:
            lines.append("Error: the template could not be found.")
            blueprint = getattr(request, "blueprint", None) if has_request_context() else None
            if blueprint is not None:
                lines.append(
                    "  The template was looked up from an endpoint that belongs to the"
                    f" blueprint {blueprint!r}; a blueprint's templates live in its"
                    " template folder, usually under a subfolder named after it"
                    f" ('{blueprint}/{template}')."
                )
            lines.append(f"  See {_GUIDE}")
        app: Any = current_app
        app.logger.info("\n".join(lines))
        if found is None:
            raise jinja2.TemplateNotFound(template)
        return found

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _label, loader in self.loaders:
            names.update(loader.list_templates())
        return sorted(names)
