"""``flask.app``: the application class."""

from kettle.app import Kettle as Flask

__all__ = ["Flask"]
