"""``flask.config``: the app's settings."""

from kettle.config import Config

__all__ = ["Config"]
