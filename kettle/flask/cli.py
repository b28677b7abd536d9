"""``flask.cli``: the app's command group and what a command line knows of the app."""

from kettle.commands import AppGroup, ScriptInfo, with_appcontext

__all__ = ["AppGroup", "ScriptInfo", "with_appcontext"]
