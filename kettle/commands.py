"""``app.cli``: the app's own command group, whose commands run inside its app context.

Built on first use of ``app.cli`` (so apps that never add commands never import click);
``kettle --app module:app NAME`` runs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
import click.testing

__all__ = ["AppCliRunner", "AppGroup", "ScriptInfo", "with_appcontext"]

F = TypeVar("F", bound=Callable[..., Any])


class ScriptInfo:
    """What a command line knows about the app it serves: how to load it, once.

    Passed as the click context's ``obj``; the commands of ``app.cli`` run inside the app
    context of the app it loads.

    Args:
        app_import_path: ``"module:name"`` (``name`` may be a factory call like
            ``create_app()``), or ``"module"`` for its ``app``.
        create_app: a callable returning the app (wins over ``app_import_path``).
        set_debug_flag: kept for Flask's signature; kettle reads debug from the app.

    Example:
        >>> from kettle import Kettle
        >>> from kettle.commands import ScriptInfo
        >>> app = Kettle(__name__)
        >>> ScriptInfo(create_app=lambda: app).load_app() is app
        True
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Any] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = load_dotenv_defaults
        #: free room for commands to share values
        self.data: dict[Any, Any] = {}
        self._loaded: Any = None

    def load_app(self) -> Any:
        """The app (loaded on the first call, the same object afterwards)."""
        if self._loaded is not None:
            return self._loaded
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            import importlib

            module_name, _, attr = self.app_import_path.partition(":")
            found: Any = importlib.import_module(module_name)
            name = attr or "app"
            call = name.endswith("()")
            found = getattr(found, name.removesuffix("()"))
            app = found() if call else found
        else:
            raise click.UsageError("no app to load: give create_app or app_import_path")
        self._loaded = app
        return app


def with_appcontext(func: F) -> F:
    """Run the decorated click command inside the app's context (Flask's decorator).

    The app is the one the command line loaded (its :class:`ScriptInfo`, or the ``kettle``
    command's ``--app``); a command already inside an app context runs as it is. The
    commands of ``app.cli`` need no decorator: they run in the app's context anyway.

    Example:
        >>> import click
        >>> from kettle import Kettle, current_app
        >>> app = Kettle("inventory")
        >>> @click.command("where")
        ... @with_appcontext
        ... def where() -> None:
        ...     click.echo(current_app.import_name)
        >>> app.cli.add_command(where)
        >>> app.test_cli_runner().invoke(args=["where"]).output
        'inventory\\n'
    """
    from kettle.globals import has_app_context

    @functools.wraps(func)
    def in_context(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return func(*args, **kwargs)
        with command_app(click.get_current_context()).app_context():
            return func(*args, **kwargs)

    return in_context  # type: ignore[return-value]


def command_app(ctx: click.Context) -> Any:
    """The app a command line serves: its :class:`ScriptInfo`'s, else the root context
    object's ``load_app()`` (the ``kettle`` command's state), else the nearest app group's."""
    info = ctx.find_object(ScriptInfo)
    if info is not None:
        return info.load_app()
    root = ctx.find_root().obj
    if callable(getattr(root, "load_app", None)):
        return root.load_app()
    for context in (ctx, *_parents(ctx)):
        app = getattr(context.command, "app", None)
        if app is not None:
            return app
    raise click.UsageError("no app to run this command in: name one with --app")


def _parents(ctx: click.Context) -> list[click.Context]:
    found = []
    while ctx.parent is not None:
        ctx = ctx.parent
        found.append(ctx)
    return found


class AppCliRunner(click.testing.CliRunner):
    """``app.test_cli_runner()``: runs the app's commands in tests, as the CLI would.

    Example:
        >>> import click
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> @app.cli.command("hello")
        ... def hello() -> None:
        ...     click.echo("hi")
        >>> app.test_cli_runner().invoke(args=["hello"]).output
        'hi\\n'
    """

    def __init__(self, app: Any, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: click.Command | None = None, args: Any = None, **kwargs: Any
    ) -> click.testing.Result:
        """Run ``cli`` (default: ``app.cli``) with ``args``; ``obj`` defaults to a
        :class:`ScriptInfo` loading this app."""
        if "obj" not in kwargs:
            app = self.app
            kwargs["obj"] = ScriptInfo(create_app=lambda: app)
        return super().invoke(self.app.cli if cli is None else cli, args, **kwargs)


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
                ctx = click.get_current_context(silent=True)
                info = ctx.find_object(ScriptInfo) if ctx is not None else None
                app = info.load_app() if info is not None else self.app
                with app.app_context():
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
