"""The docs pages: Swagger UI, ReDoc, the OAuth2 redirect page and the assets they load,
all served by the app itself (no CDN), under any root path."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, Router
from kettle.openapi import OpenAPIConfig
from kettle.openapi.ui import ASSETS, CONTENT_SECURITY_POLICY, bundle_folder
from kettle.testing import TestClient

_URL = re.compile(r"""(?:src|href)="([^"]+)\"""")
_ABSOLUTE = re.compile(r"(?:https?:)?//[^\s\"'<>]+", re.IGNORECASE)


def make_app(**options: Any) -> Kettle:
    app = Kettle(__name__, title="Tea API", **options)

    @app.get("/pots/{pot_id:int}")
    async def get_pot(pot_id: int) -> dict[str, int]:
        return {"pot_id": pot_id}

    return app


def urls(page: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in _URL.findall(page)]


_SETTINGS = re.compile(r'<script id="kettle-docs-config" type="application/json">(.*?)</script>')


def config_of(page: str) -> dict[str, Any]:
    found = _SETTINGS.search(page)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def assert_no_other_host(text: str) -> None:
    """Nothing in the page points at another host (no scheme, no protocol-relative URL)."""
    assert _ABSOLUTE.findall(text) == []


# -- the pages --------------------------------------------------------------------------------


def test_swagger_ui_page() -> None:
    client = TestClient(make_app())
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert "<title>Tea API - Swagger UI</title>" in page
    assert '<div id="swagger-ui"></div>' in page
    assert_no_other_host(page)
    assert [u.split("?")[0] for u in urls(page)] == [
        "/docs/static/favicon-32x32.png",
        "/docs/static/swagger-ui.css",
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/swagger-init.js",
    ]
    assert config_of(page) == {
        "url": "/openapi.json",
        "parameters": {
            "deepLinking": True,
            "showExtensions": True,
            "showCommonExtensions": True,
            "validatorUrl": None,
        },
        "oauth2RedirectUrl": "/docs/oauth2-redirect",
    }
    assert "<script>" not in page  # no inline script: the CSP allows none


def test_redoc_page() -> None:
    client = TestClient(make_app())
    response = client.get("/redoc")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = response.text
    assert "<title>Tea API - ReDoc</title>" in page
    assert '<div id="redoc"></div>' in page
    assert_no_other_host(page)
    assert [u.split("?")[0] for u in urls(page)] == [
        "/docs/static/favicon-32x32.png",
        "/docs/static/redoc.standalone.js",
        "/docs/static/redoc-init.js",
    ]
    assert config_of(page) == {"url": "/openapi.json", "options": {}}


def test_oauth2_redirect_page() -> None:
    client = TestClient(make_app())
    response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert_no_other_host(response.text)
    assert [u.split("?")[0] for u in urls(response.text)] == ["/docs/static/oauth2-redirect.js"]
    script = client.get(urls(response.text)[0]).text
    assert "swaggerUIRedirectOauth2" in script
    assert "window.close()" in script


def test_every_asset_is_served_by_the_app_with_caching_headers() -> None:
    client = TestClient(make_app())
    referenced = set()
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        referenced.update(urls(client.get(page).text))
    assert {u.split("?")[0].rsplit("/", 1)[1] for u in referenced} == set(ASSETS)
    for url in referenced:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "etag" in response.headers
        if url.endswith((".js", ".css")) or ".js?" in url or ".css?" in url:
            kind = "text/css" if ".css" in url else "text/javascript"
            assert response.headers["content-type"].startswith(kind)
    bundle = client.get(next(u for u in referenced if "swagger-ui-bundle.js" in u))
    assert len(bundle.content) > 100_000
    stale = client.get("/docs/static/swagger-ui.css?v=old")
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "no-cache"
    etag = stale.headers["etag"]
    again = client.get("/docs/static/swagger-ui.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_kettles_own_scripts_reach_no_other_host() -> None:
    client = TestClient(make_app())
    for name in ("swagger-init.js", "redoc-init.js", "oauth2-redirect.js"):
        assert_no_other_host(client.get(f"/docs/static/{name}").text)


def test_the_bundled_assets_come_from_an_installed_package() -> None:
    folder = bundle_folder()
    assert folder is not None, "openapi-ui-bundles is a dependency of kettle"
    for source in ASSETS.values():
        if source is not None:
            assert (folder / source[0] / "vendor" / source[1]).is_file()
    repo = Path(__file__).resolve().parent.parent
    assert not list((repo / "kettle").rglob("swagger-ui-bundle.js")), "never committed"


@pytest.mark.parametrize(
    "path",
    [
        "/docs/static/unknown.js",
        "/docs/static/..%2F..%2Fpyproject.toml",
        "/docs/static/%2e%2e",
        "/docs/static/swagger-ui.css/x",
        "/docs/static/",
    ],
)
def test_only_the_known_assets_are_served(path: str) -> None:
    assert TestClient(make_app()).get(path).status_code == 404


def test_pages_answer_head_requests_and_refuse_other_methods() -> None:
    client = TestClient(make_app())
    assert client.head("/docs").status_code == 200
    assert client.post("/docs").status_code == 405
    assert client.head("/openapi.json").status_code == 200


def test_the_documents_route_and_pages_are_not_the_apps_routes() -> None:
    app = make_app()
    assert [route.path for route in app.compiled_routes] == ["/pots/{pot_id:int}"]
    assert "/docs" not in app.openapi()["paths"]
    assert "/openapi.json" not in app.openapi()["paths"]


# -- settings --------------------------------------------------------------------------------


def test_custom_urls_titles_favicon_and_options() -> None:
    app = make_app(
        openapi_url="/api/schema.json",
        docs_url="/api/docs",
        redoc_url="/api/reference",
        swagger_ui_oauth2_redirect_url="/api/docs/callback",
        swagger_ui_parameters={"deepLinking": False, "docExpansion": "none"},
        swagger_ui_init_oauth={"clientId": "tea-app"},
        openapi=OpenAPIConfig(
            docs_title="Tea docs",
            redoc_title="Tea reference",
            favicon_url="/favicon.ico",
            redoc_options={"hideDownloadButton": True},
            docs_static_url="/assets/docs",
        ),
    )
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404
    assert client.get("/api/schema.json").json()["info"]["title"] == "Tea API"
    docs = client.get("/api/docs").text
    assert "<title>Tea docs</title>" in docs
    assert '<link rel="icon" type="image/png" href="/favicon.ico">' in docs
    settings = config_of(docs)
    assert settings["url"] == "/api/schema.json"
    assert settings["oauth2RedirectUrl"] == "/api/docs/callback"
    assert settings["parameters"]["deepLinking"] is False
    assert settings["parameters"]["docExpansion"] == "none"
    assert settings["initOAuth"] == {"clientId": "tea-app"}
    assert all(u.startswith("/assets/docs/") for u in urls(docs) if u != "/favicon.ico")
    for url in urls(docs)[1:]:
        assert client.get(url).status_code == 200
    assert client.get("/api/docs/callback").status_code == 200
    reference = client.get("/api/reference").text
    assert "<title>Tea reference</title>" in reference
    assert config_of(reference) == {
        "url": "/api/schema.json",
        "options": {"hideDownloadButton": True},
    }


def test_each_page_can_be_turned_off() -> None:
    client = TestClient(make_app(docs_url=None))
    assert client.get("/docs").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    redoc = client.get("/redoc").text
    assert all(u.startswith("/redoc/static/") for u in urls(redoc))
    assert all(client.get(u).status_code == 200 for u in urls(redoc))

    client = TestClient(make_app(redoc_url=None, swagger_ui_oauth2_redirect_url=None))
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    docs = client.get("/docs").text
    assert "oauth2RedirectUrl" not in config_of(docs)

    client = TestClient(make_app(docs_url=None, redoc_url=None))
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs/static/swagger-ui.css").status_code == 404
    assert client.get("/redoc/static/redoc.standalone.js").status_code == 404

    app = make_app(openapi_url=None)
    client = TestClient(app)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/static/swagger-ui.css"):
        assert client.get(path).status_code == 404
    assert "/pots/{pot_id}" in app.openapi()["paths"]  # still available to code and the CLI


def test_titles_and_options_are_escaped() -> None:
    app = Kettle(
        __name__,
        title="</title><script>alert(1)</script>",
        swagger_ui_parameters={"filter": "</script><script>alert(2)</script>"},
    )
    page = TestClient(app).get("/docs").text
    assert "<script>alert" not in page
    assert "&lt;/title&gt;&lt;script&gt;" in page
    assert config_of(page)["parameters"]["filter"] == "</script><script>alert(2)</script>"


def test_the_apps_own_route_on_a_docs_url_wins(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.get("/docs")
    async def my_docs() -> str:
        return "mine"

    client = TestClient(app)
    with caplog.at_level("WARNING", logger="kettle.openapi"):
        assert client.get("/docs").text == "mine"
    assert "the app routes GET /docs itself, so kettle does not serve Swagger UI" in caplog.text
    assert client.get("/redoc").status_code == 200
    assert client.get("/docs/static/redoc-init.js").status_code == 200
    caplog.clear()
    app = make_app(docs_url="/swagger")

    @app.get("/docs")
    async def also_mine() -> str:
        return "mine"

    client = TestClient(app)
    with caplog.at_level("WARNING", logger="kettle.openapi"):
        assert client.get("/docs").text == "mine"
        assert client.get("/swagger").status_code == 200
    assert caplog.text == ""


def test_user_routes_beside_the_docs_urls_still_match() -> None:
    app = make_app()
    pages = Router(prefix="/docs")

    @pages.get("/{stem}.{ext}")
    async def doc_file(stem: str, ext: str) -> dict[str, str]:
        return {"stem": stem, "ext": ext}

    app.include_router(pages)
    client = TestClient(app)
    assert client.get("/docs/readme.md").json() == {"stem": "readme", "ext": "md"}
    assert client.get("/docs/static/swagger-init.js").status_code == 200


# -- behind a proxy or mounted under a prefix ----------------------------------------------------


def test_pages_and_document_under_a_root_path() -> None:
    client = TestClient(make_app(), root_path="/tea")
    docs = client.get("/docs").text
    assert config_of(docs)["url"] == "/tea/openapi.json"
    assert config_of(docs)["oauth2RedirectUrl"] == "/tea/docs/oauth2-redirect"
    assert all(u.startswith("/tea/docs/static/") for u in urls(docs))
    redoc = client.get("/redoc").text
    assert config_of(redoc)["url"] == "/tea/openapi.json"
    assert all(u.startswith("/tea/docs/static/") for u in urls(redoc))
    for url in urls(docs) + urls(redoc):
        assert client.get(url.removeprefix("/tea")).status_code == 200
    assert client.get("/openapi.json").json()["servers"] == [{"url": "/tea"}]
    # The same app without a root path is unchanged (pages are cached per root path).
    plain = TestClient(make_app())
    assert config_of(plain.get("/docs").text)["url"] == "/openapi.json"


def test_pages_of_an_app_mounted_in_another_asgi_app() -> None:
    inner = make_app()

    async def outer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v2/"):
            scope = {**scope, "root_path": scope.get("root_path", "") + "/v2"}
            await inner(scope, receive, send)
            return
        body = b"outer"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    client = TestClient(outer)
    docs = client.get("/v2/docs")
    assert docs.status_code == 200
    assert config_of(docs.text)["url"] == "/v2/openapi.json"
    for url in urls(docs.text):
        assert client.get(url).status_code == 200, url
    assert client.get("/v2/openapi.json").json()["servers"] == [{"url": "/v2"}]
    assert client.get("/v2/pots/3").json() == {"pot_id": 3}


def test_a_missing_bundle_is_a_404_and_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import kettle.openapi.ui as ui

    monkeypatch.setattr(ui, "bundle_folder", lambda: None)
    client = TestClient(make_app())
    with caplog.at_level("WARNING", logger="kettle.openapi"):
        assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 404
    assert "swagger-ui-bundle.js, which is missing" in caplog.text
    assert client.get("/docs/static/swagger-init.js").status_code == 200


def test_assets_from_a_folder_of_ones_own(tmp_path: Path) -> None:
    (tmp_path / "redoc.standalone.js").write_text("/* a newer ReDoc */")
    client = TestClient(make_app(openapi=OpenAPIConfig(docs_assets_dir=str(tmp_path))))
    redoc = next(u for u in urls(client.get("/redoc").text) if "redoc.standalone.js" in u)
    assert client.get(redoc).text == "/* a newer ReDoc */"
    swagger = next(u for u in urls(client.get("/docs").text) if "swagger-ui-bundle.js" in u)
    assert len(client.get(swagger).content) > 100_000  # not in the folder: the bundled one
