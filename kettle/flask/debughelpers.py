"""``flask.debughelpers``: errors that explain a mistake in debug mode."""

from kettle.flaskrequest import DebugFilesKeyError

__all__ = ["DebugFilesKeyError"]
