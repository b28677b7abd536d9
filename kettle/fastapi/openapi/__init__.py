"""``fastapi.openapi``: the docs pages of your own (see :mod:`kettle.fastapi.openapi.docs`).

Example:
    >>> from kettle.fastapi.openapi.docs import get_redoc_html
    >>> get_redoc_html(openapi_url="/openapi.json", title="Ref").media_type
    'text/html'
"""

from kettle.openapi.pages import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)

__all__ = ["get_redoc_html", "get_swagger_ui_html", "get_swagger_ui_oauth2_redirect_html"]
