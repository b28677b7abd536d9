"""The docs pages: Swagger UI, ReDoc, the OAuth2 redirect page and their assets.

The pages need no internet connection. Swagger UI's and ReDoc's scripts and styles come
from the ``openapi-ui-bundles`` package, installed with kettle, and are served by the
app itself under ``docs_static_url`` (``/docs/static`` by default), with the app's own
small start-up scripts beside them. Every URL in a page starts with the request's
``root_path``, so the pages work under a mount prefix or behind a proxy that sets it.

The pages send a Content-Security-Policy that lets them load scripts, styles, images and
fonts from the app only: nothing in them, nor in the bundled scripts, can reach another
host (ReDoc's footer logo, for one, is simply not shown).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from kettle.openapi.models import OpenAPIConfig
from kettle.requests import Request
from kettle.responses import HTMLResponse, Response
from kettle.routing.routes import Route

#: The Python package whose files are served (Swagger UI and ReDoc builds).
BUNDLE_PACKAGE = "openapi_ui_bundles"

logger = logging.getLogger("kettle.openapi")

_OWN_STATIC = Path(__file__).resolve().parent / "static"

#: name served -> (folder of the bundle, file name) or None for kettle's own files.
ASSETS: dict[str, tuple[str, str] | None] = {
    "swagger-ui-bundle.js": ("swagger_ui", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger_ui", "swagger-ui.css"),
    "favicon-32x32.png": ("swagger_ui", "favicon-32x32.png"),
    "redoc.standalone.js": ("redoc", "redoc.standalone.js"),
    "swagger-init.js": None,
    "redoc-init.js": None,
    "oauth2-redirect.js": None,
}

_MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
}

#: Scripts, styles, images and fonts from the app only; "Try it out" may call any server
#: the document names.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src *; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

#: Swagger UI options kettle sets unless ``swagger_ui_parameters`` says otherwise.
SWAGGER_UI_DEFAULTS: dict[str, Any] = {
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    # Swagger UI would otherwise send the document to an online validator for a badge.
    "validatorUrl": None,
}


def swagger_start_script(settings: dict[str, Any]) -> str:
    """A script starting Swagger UI with ``settings`` (``url``, ``parameters``,
    ``oauth2RedirectUrl``, ``initOAuth``), its options written out one per line.

    FastAPI's pages start Swagger UI inline like this, and code moved from FastAPI (its
    tests too) looks for the options in the page; a kettle page reads them from its data
    block instead (``swagger-init.js``). Every value is JSON, with ``<``, ``>`` and ``&``
    escaped, so no string can end the script.
    """
    options = {
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        **dict(settings.get("parameters") or {}),
    }
    lines = [f"url: {_js(settings['url'])},"]
    lines += [f"{_js(key)}: {_js(value)}," for key, value in options.items()]
    redirect = settings.get("oauth2RedirectUrl")
    if redirect:
        # Swagger UI hands this to the identity provider: it must be an absolute URL.
        lines.append(f"oauth2RedirectUrl: new URL({_js(redirect)}, window.location.href).href,")
    lines.append(
        "presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],"
    )
    script = "const ui = SwaggerUIBundle({\n" + "\n".join(lines) + "\n});\n"
    if settings.get("initOAuth"):
        script += f"ui.initOAuth({_js(settings['initOAuth'])});\n"
    return script + "window.ui = ui;\n"


def _js(value: Any) -> str:
    text = json.dumps(value)  # FastAPI's spacing (`"key": value`)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def page_headers(page: str) -> dict[str, str]:
    """The headers of a docs page: :data:`PAGE_HEADERS`, with each script inline in the
    page allowed by its hash (``'sha256-...'``), so the policy still runs no other."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(page)
    ]
    if not hashes:
        return PAGE_HEADERS
    policy = CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", "script-src 'self' " + " ".join(hashes)
    )
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


def bundle_folder() -> Path | None:
    """Where ``openapi-ui-bundles`` is installed (found without importing it)."""
    spec = importlib.util.find_spec(BUNDLE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class Assets:
    """The files the pages load, found once, each with a version token for its URL."""

    def __init__(self, override_dir: str | None = None) -> None:
        self.override_dir = Path(override_dir) if override_dir else None
        self._found: dict[str, tuple[Path, str] | None] = {}

    def path(self, name: str) -> Path | None:
        entry = self._lookup(name)
        return entry[0] if entry else None

    def token(self, name: str) -> str:
        """Changes whenever the file does: it busts browser caches after an upgrade."""
        entry = self._lookup(name)
        return entry[1] if entry else "missing"

    def _lookup(self, name: str) -> tuple[Path, str] | None:
        if name in self._found:
            return self._found[name]
        path = self._locate(name)
        entry = None
        if path is None and ASSETS.get(name) is not None:
            logger.warning(
                "the docs pages need %s, which is missing: reinstall kettle (its "
                "openapi-ui-bundles dependency provides it)",
                name,
            )
        if path is not None:
            st = path.stat()
            raw = f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()
            entry = (path, hashlib.sha256(raw).hexdigest()[:12])
        self._found[name] = entry
        return entry

    def _locate(self, name: str) -> Path | None:
        if name not in ASSETS:
            return None
        source = ASSETS[name]
        if source is None:
            path = _OWN_STATIC / name
            return path if path.is_file() else None
        if self.override_dir is not None and (self.override_dir / name).is_file():
            return self.override_dir / name
        folder = bundle_folder()
        if folder is None:
            return None
        path = folder / source[0] / "vendor" / source[1]
        return path if path.is_file() else None


@dataclasses.dataclass(slots=True)
class DocsPages:
    """Renders the pages for one app; each page is rendered once per ``root_path``."""

    config: OpenAPIConfig
    title: str
    assets: Assets
    _cache: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = dataclasses.field(
        default_factory=dict
    )

    @property
    def static_url(self) -> str:
        config = self.config
        if config.docs_static_url:
            return config.docs_static_url.rstrip("/") or "/"
        base = config.docs_url or config.redoc_url or "/docs"
        return base.rstrip("/") + "/static"

    def asset_url(self, root: str, name: str) -> str:
        return f"{root}{self.static_url}/{name}?v={self.assets.token(name)}"

    def render(self, page: str, root: str) -> tuple[bytes, dict[str, str]]:
        """The page and its headers (its policy allows its inline scripts by hash)."""
        key = (page, root)
        cached = self._cache.get(key)
        if cached is None:
            text = getattr(self, f"_{page}")(root)
            cached = (text.encode("utf-8"), page_headers(text))
            if len(self._cache) > 64:  # root paths come from server settings: a few at most
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _favicon(self, root: str) -> str:
        return self.config.favicon_url or self.asset_url(root, "favicon-32x32.png")

    def _swagger(self, root: str) -> str:
        config = self.config
        settings: dict[str, Any] = {
            "url": root + (config.openapi_url or ""),
            "parameters": {**SWAGGER_UI_DEFAULTS, **dict(config.swagger_ui_parameters or {})},
        }
        if config.swagger_ui_oauth2_redirect_url:
            settings["oauth2RedirectUrl"] = root + config.swagger_ui_oauth2_redirect_url
        if config.swagger_ui_init_oauth:
            settings["initOAuth"] = dict(config.swagger_ui_init_oauth)
        title = config.docs_title or f"{self.title} - Swagger UI"
        return _page(
            title,
            head=(
                f'<link rel="icon" type="image/png" href="{_attr(self._favicon(root))}">\n'
                f'<link rel="stylesheet" href="{_attr(self.asset_url(root, "swagger-ui.css"))}">'
            ),
            body=(f'<div id="swagger-ui"></div>\n{self._swagger_start(settings, root)}'),
        )

    def _swagger_start(self, settings: dict[str, Any], root: str) -> str:
        bundle = _script(self.asset_url(root, "swagger-ui-bundle.js"))
        if self.config.conventions == "fastapi":
            # FastAPI's page starts Swagger UI inline (the policy allows it by its hash).
            return f"{bundle}\n<script>{swagger_start_script(settings)}</script>"
        return (
            f"{_settings(settings)}\n{bundle}\n{_script(self.asset_url(root, 'swagger-init.js'))}"
        )

    def _redoc(self, root: str) -> str:
        config = self.config
        settings = {
            "url": root + (config.openapi_url or ""),
            "options": dict(config.redoc_options or {}),
        }
        title = config.redoc_title or f"{self.title} - ReDoc"
        return _page(
            title,
            head=(
                f'<link rel="icon" type="image/png" href="{_attr(self._favicon(root))}">\n'
                "<style>body { margin: 0; padding: 0; }</style>"
            ),
            body=(
                '<div id="redoc"></div>\n'
                f"{_settings(settings)}\n"
                f"{_script(self.asset_url(root, 'redoc.standalone.js'))}\n"
                f"{_script(self.asset_url(root, 'redoc-init.js'))}"
            ),
        )

    def _oauth2_redirect(self, root: str) -> str:
        return _page(
            "Swagger UI: OAuth2 redirect",
            head="",
            body=_script(self.asset_url(root, "oauth2-redirect.js")),
        )


def _page(title: str, head: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _script(url: str) -> str:
    return f'<script src="{_attr(url)}"></script>'


def _settings(settings: dict[str, Any]) -> str:
    """Settings as JSON inside the page, safe from ``</script>`` in any string."""
    text = json.dumps(settings)  # FastAPI's spacing (`"key": value`)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script id="kettle-docs-config" type="application/json">{text}</script>'


# -- routes ------------------------------------------------------------------------------


class ServedDocument(Protocol):
    """What the docs routes need of the document they serve (``OpenAPIDocument``)."""

    app: Any
    config: OpenAPIConfig

    def served(self, root_path: str = "") -> bytes: ...


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "") or "").rstrip("/")


def docs_routes(document: ServedDocument, taken: Iterable[Route] = ()) -> list[Route]:
    """The routes serving the document, the pages and their assets (none with
    ``openapi_url=None``). They are left out of the document and of ``kettle routes``.

    A URL the app already answers with a GET route of its own (``taken``) stays the app's:
    that page is not served, and a warning says how to move it.
    """
    if document.config.openapi_url is None:
        return []
    return _leave_to_the_app(_all_docs_routes(document), taken)


def _leave_to_the_app(routes: list[Route], taken: Iterable[Route]) -> list[Route]:
    owned = {route.path for route in taken if "GET" in route.methods}
    kept = []
    for route in routes:
        if route.path in owned:
            logger.warning(
                "the app routes GET %s itself, so kettle does not serve %s there; "
                "pass another URL (openapi_url=, docs_url=, redoc_url=...) or None",
                route.path,
                _PAGE_NAMES.get(route.name, "a docs page"),
            )
            continue
        kept.append(route)
    return kept


_PAGE_NAMES = {
    "kettle.openapi": "the OpenAPI document",
    "kettle.docs": "Swagger UI",
    "kettle.redoc": "ReDoc",
    "kettle.docs_oauth2_redirect": "the OAuth2 redirect page",
    "kettle.docs_static": "the docs pages' scripts",
}


def _all_docs_routes(document: ServedDocument) -> list[Route]:
    app, config = document.app, document.config
    assert config.openapi_url is not None
    pages = DocsPages(config, app.title, Assets(config.docs_assets_dir))
    routes = [_route(config.openapi_url, _openapi_endpoint(document), "kettle.openapi", app)]

    def html_endpoint(page: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body, headers = pages.render(page, _root(request))
            return HTMLResponse(body, headers=headers)

        endpoint.__name__ = f"kettle_{page}"
        return endpoint

    if config.docs_url is not None:
        routes.append(_route(config.docs_url, html_endpoint("swagger"), "kettle.docs", app))
        if config.swagger_ui_oauth2_redirect_url is not None:
            routes.append(
                _route(
                    config.swagger_ui_oauth2_redirect_url,
                    html_endpoint("oauth2_redirect"),
                    "kettle.docs_oauth2_redirect",
                    app,
                )
            )
    if config.redoc_url is not None:
        routes.append(_route(config.redoc_url, html_endpoint("redoc"), "kettle.redoc", app))
    if config.docs_url is not None or config.redoc_url is not None:
        static = pages.static_url.rstrip("/")
        routes.append(
            _route(
                f"{static}/{{filename}}", _asset_endpoint(pages.assets), "kettle.docs_static", app
            )
        )
    return routes


def _route(path: str, endpoint: Callable[..., Any], name: str, app: Any) -> Route:
    return Route(
        path=path,
        endpoint=endpoint,
        methods=frozenset({"GET"}),
        name=name,
        include_in_schema=False,
        owners=(app,),
    )


def _openapi_endpoint(document: ServedDocument) -> Callable[[Request], Any]:
    async def kettle_openapi(request: Request) -> Response:
        body = document.served(_root(request))
        return Response(body, media_type="application/json")

    return kettle_openapi


def _asset_endpoint(assets: Assets) -> Callable[[Request, str], Any]:
    async def kettle_docs_static(request: Request, filename: str) -> Response:
        from kettle.fileresponse import FileResponse

        path = assets.path(filename)
        if path is None:
            return Response(b"Not Found", 404, media_type="text/plain")
        fresh = request.query_params.get("v") == assets.token(filename)
        media = _MEDIA_TYPES.get(os.path.splitext(filename)[1], "application/octet-stream")
        headers = {
            "Cache-Control": _IMMUTABLE if fresh else _REVALIDATE,
            "X-Content-Type-Options": "nosniff",
        }
        return FileResponse(path, headers=headers, media_type=media)

    return kettle_docs_static
