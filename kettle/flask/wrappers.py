"""``flask.wrappers`` / ``werkzeug.wrappers``: the request and response classes."""

from kettle.flask import Response
from kettle.flaskrequest import FlaskRequest as Request

__all__ = ["Request", "Response"]
