"""``werkzeug.serving``: ``run_simple`` serves the app on kettle's server."""

from kettle.serving import run_simple

__all__ = ["run_simple"]
