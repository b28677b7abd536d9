"""``flask.logging``: the app logger's default handler and the helpers around it."""

from kettle.applogging import create_logger, default_handler, has_level_handler, wsgi_errors_stream

__all__ = ["create_logger", "default_handler", "has_level_handler", "wsgi_errors_stream"]
