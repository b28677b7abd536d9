"""Flask's import paths, served by kettle: change ``flask`` to ``kettle.flask``.

Everything here is kettle's own object under Flask's name; only ``Response`` is adapted,
to accept Flask's keyword names (``status``, ``mimetype``).

Example:
    >>> from kettle.flask import Flask, jsonify
    >>> app = Flask(__name__)
    >>> @app.route("/ping")
    ... def ping():
    ...     return jsonify(pong=True)
"""

import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from kettle import (
    Blueprint,
    Config,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    render_template_string,
    request,
    send_file,
    send_from_directory,
    serving,
    session,
    stream_with_context,
    url_for,
)
from kettle import Kettle as Flask
from kettle import Response as _KettleResponse
from kettle.aborting import abort
from kettle.flaskrequest import FlaskRequest as Request
from kettle.globals import (
    after_this_request,
    copy_current_request_context,
    has_app_context,
    has_request_context,
    max_cookie_size,
    warn_if_cookie_too_large,
)
from kettle.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    got_request_exception,
    message_flashed,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from kettle.streamcontext import streaming_variant
from kettle.templating import (
    get_template_attribute,
    stream_template,
    stream_template_string,
)


class Response(_KettleResponse):
    """kettle's ``Response`` with Flask's constructor: ``Response(body, status, headers,
    mimetype=..., content_type=...)``; an iterator body is streamed, as Werkzeug does."""

    def __new__(cls, response: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Iterator | AsyncIterator):
            cls = streaming_variant(cls)
        return super().__new__(cls)

    def __init__(
        self,
        response: Any = None,
        status: int | str | None = None,
        headers: Mapping[str, str] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        code = int(str(status).split()[0]) if status is not None else 200
        super().__init__(
            response, code, headers, media_type=content_type or mimetype or "text/html"
        )

    @property
    def max_cookie_size(self) -> int:
        """Werkzeug's name: the current app's ``MAX_COOKIE_SIZE``."""
        return max_cookie_size()

    def set_cookie(self, key: str, *args: Any, **kwargs: Any) -> None:
        """kettle's ``set_cookie``, warning as Werkzeug does when the cookie is too large."""
        super().set_cookie(key, *args, **kwargs)
        warn_if_cookie_too_large(key, self.raw_headers[-1][1])


# Submodules Flask code reaches as attributes (``flask.json.dumps``, ``flask.views.View``).
from kettle.flask import (  # noqa: E402, F401
    app,
    blueprints,
    cli,
    config,
    ctx,
    globals,
    helpers,
    json,
    logging,
    sessions,
    signals,
    templating,
    testing,
    typing,
    views,
    wrappers,
)

# ``werkzeug.serving`` is kettle's module itself, not a copy of its names: code that
# replaces ``run_simple`` there (tests do) replaces what ``app.run()`` calls.
sys.modules[f"{__name__}.serving"] = serving

__all__ = [
    "Blueprint",
    "Config",
    "Flask",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
]
