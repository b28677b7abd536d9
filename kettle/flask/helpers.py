"""``flask.helpers``."""

from kettle.config import get_debug_flag
from kettle.helpers import (
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    safe_join,
    send_file,
    send_from_directory,
    stream_with_context,
    url_for,
)
from kettle.templating import get_template_attribute

__all__ = [
    "flash",
    "get_debug_flag",
    "get_flashed_messages",
    "get_template_attribute",
    "make_response",
    "redirect",
    "safe_join",
    "send_file",
    "send_from_directory",
    "stream_with_context",
    "url_for",
]
