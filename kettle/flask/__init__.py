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

from collections.abc import Mapping
from typing import Any

from kettle import (
    Blueprint,
    Config,
    abort,
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
    session,
    stream_with_context,
    url_for,
)
from kettle import Kettle as Flask
from kettle import Response as _KettleResponse
from kettle.flaskrequest import FlaskRequest as Request
from kettle.globals import copy_current_request_context, has_app_context, has_request_context


class Response(_KettleResponse):
    """kettle's ``Response`` with Flask's constructor: ``Response(body, status, headers,
    mimetype=..., content_type=...)``."""

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


__all__ = [
    "Blueprint",
    "Config",
    "Flask",
    "Request",
    "Response",
    "abort",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "has_app_context",
    "has_request_context",
    "jsonify",
    "make_response",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "send_file",
    "send_from_directory",
    "session",
    "stream_with_context",
    "url_for",
]
