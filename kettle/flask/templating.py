"""``flask.templating``: rendering with the app's templates."""

from kettle.templating import (
    Environment,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
)

__all__ = [
    "Environment",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]
