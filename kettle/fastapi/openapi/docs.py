"""``fastapi.openapi.docs``: Swagger UI, ReDoc and OAuth2 redirect pages of your own.

Example:
    >>> from kettle.fastapi.openapi.docs import get_swagger_ui_html
    >>> get_swagger_ui_html(openapi_url="/openapi.json", title="Docs").status_code
    200
"""

from kettle.openapi.pages import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)

__all__ = ["get_redoc_html", "get_swagger_ui_html", "get_swagger_ui_oauth2_redirect_html"]
