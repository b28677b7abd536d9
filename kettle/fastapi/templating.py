"""``fastapi.templating`` (and ``starlette.templating``)."""

from kettle.templating import Jinja2Templates

__all__ = ["Jinja2Templates"]
