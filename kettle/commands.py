"""``app.cli``: the app's own command group, whose commands run inside its app context.

Built on first use of ``app.cli`` (so apps that never add commands never import click);
``kettle --app module:app NAME`` runs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

__all__ = ["AppGroup"]


class AppGroup(click.Group):
    """``app.cli``: a click group whose commands run inside the app's context.

    Example:
        >>> from kettle import Kettle, current_app
        >>> app = Kettle(__name__)
        >>> @app.cli.command("init-db")
        ... def init_db() -> None:
        ...     print("initialising", current_app.import_name)
    """

    def __init__(self, app: Any, **attrs: Any) -> None:
        attrs.setdefault("name", getattr(app, "import_name", "app"))
        super().__init__(**attrs)
        self.app = app

    def command(self, *args: Any, **kwargs: Any) -> Any:
        decorate = super().command(*args, **kwargs)

        def decorator(func: Callable[..., Any]) -> click.Command:
            @functools.wraps(func)
            def in_context(*f_args: Any, **f_kwargs: Any) -> Any:
                with self.app.app_context():
                    return func(*f_args, **f_kwargs)

            return decorate(in_context)  # type: ignore[no-any-return]

        return decorator

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", type(self))
        app = self.app

        def decorator(func: Callable[..., Any]) -> click.Group:
            group = click.group(*args, **{**kwargs, "cls": click.Group})(func)
            sub = AppGroup(app, name=group.name, callback=group.callback, help=group.help)
            self.add_command(sub)
            return sub

        return decorator
