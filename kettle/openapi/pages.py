"""Docs pages of your own: Swagger UI, ReDoc and the OAuth2 redirect page as responses.

An app that turns its own pages off (``docs_url=None``) serves these from its own routes,
with the scripts from wherever it likes (its static folder, a CDN). Each page is whole in
itself: its start-up script is inline, so it needs none of the app's docs assets. The
names are FastAPI's (``kettle.fastapi.openapi.docs`` aliases them).

Unlike the app's own pages, these send no Content-Security-Policy: the scripts may come
from any host you name. Add a policy of your own with the response's headers.

Example:
    >>> page = get_swagger_ui_html(
    ...     openapi_url="/openapi.json",
    ...     title="Shop - Swagger UI",
    ...     swagger_js_url="/static/swagger-ui-bundle.js",
    ...     swagger_css_url="/static/swagger-ui.css",
    ... )
    >>> page.status_code, b"/static/swagger-ui-bundle.js" in page.body
    (200, True)
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kettle.responses import HTMLResponse

__all__ = ["get_redoc_html", "get_swagger_ui_html", "get_swagger_ui_oauth2_redirect_html"]

#: FastAPI's default script and style locations (a CDN), for pages that name none.
SWAGGER_JS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
REDOC_JS_URL = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
FAVICON_URL = "https://fastapi.tiangolo.com/img/favicon.png"

_STATIC = Path(__file__).resolve().parent / "static"


@functools.cache
def _own_script(name: str) -> str:
    return (_STATIC / name).read_text(encoding="utf-8").replace("</", "<\\/")


def _settings(settings: Mapping[str, Any]) -> str:
    text = json.dumps(settings)  # FastAPI's spacing (`"key": value`)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script id="kettle-docs-config" type="application/json">{text}</script>'


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = SWAGGER_JS_URL,
    swagger_css_url: str = SWAGGER_CSS_URL,
    swagger_favicon_url: str = FAVICON_URL,
    oauth2_redirect_url: str | None = None,
    init_oauth: Mapping[str, Any] | None = None,
    swagger_ui_parameters: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """A Swagger UI page for the document at ``openapi_url``.

    ``swagger_ui_parameters`` are Swagger UI options (over ``deepLinking``,
    ``showExtensions``, ``showCommonExtensions`` and no online validator);
    ``init_oauth`` are the options of its ``initOAuth``.

    Example:
        >>> page = get_swagger_ui_html(openapi_url="/openapi.json", title="Docs")
        >>> b'url: "/openapi.json"' in page.body
        True
    """
    from kettle.openapi.ui import SWAGGER_UI_DEFAULTS, swagger_start_script

    settings: dict[str, Any] = {
        "url": openapi_url,
        "parameters": {**SWAGGER_UI_DEFAULTS, **dict(swagger_ui_parameters or {})},
    }
    if oauth2_redirect_url:
        settings["oauth2RedirectUrl"] = oauth2_redirect_url
    if init_oauth:
        settings["initOAuth"] = dict(init_oauth)
    return _page(
        title,
        head=(
            f'<link rel="icon" type="image/png" href="{_attr(swagger_favicon_url)}">\n'
            f'<link rel="stylesheet" href="{_attr(swagger_css_url)}">'
        ),
        body=(
            '<div id="swagger-ui"></div>\n'
            f'<script src="{_attr(swagger_js_url)}"></script>\n'
            f"<script>{swagger_start_script(settings)}</script>"
        ),
    )


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = REDOC_JS_URL,
    redoc_favicon_url: str = FAVICON_URL,
    with_google_fonts: bool = True,
) -> HTMLResponse:
    """A ReDoc page for the document at ``openapi_url`` (``with_google_fonts``: load
    ReDoc's fonts from Google Fonts, as FastAPI does).

    Example:
        >>> page = get_redoc_html(openapi_url="/openapi.json", title="Ref", with_google_fonts=False)
        >>> b"redoc.standalone.js" in page.body, b"fonts.googleapis" in page.body
        (True, False)
    """
    fonts = (
        '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|'
        'Roboto:300,400,700" rel="stylesheet">\n'
        if with_google_fonts
        else ""
    )
    settings = {"url": openapi_url, "options": {}}
    return _page(
        title,
        head=(
            f"{fonts}"
            f'<link rel="icon" type="image/png" href="{_attr(redoc_favicon_url)}">\n'
            "<style>body { margin: 0; padding: 0; }</style>"
        ),
        body=(
            '<div id="redoc"></div>\n'
            f"{_settings(settings)}\n"
            f'<script src="{_attr(redoc_js_url)}"></script>\n'
            f"<script>{_own_script('redoc-init.js')}</script>"
        ),
    )


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page Swagger UI's "Authorize" comes back to: it hands the provider's answer
    to the Swagger UI window that opened it (``window.opener.swaggerUIRedirectOauth2``).

    Example:
        >>> b"swaggerUIRedirectOauth2" in get_swagger_ui_oauth2_redirect_html().body
        True
    """
    return _page(
        "Swagger UI: OAuth2 Redirect",
        head="",
        body=f"<script>{_own_script('oauth2-redirect.js')}</script>",
    )
