"""Docs pages of your own (``kettle.fastapi.openapi.docs``) and FastAPI's app attributes."""

from __future__ import annotations

from typing import Any

import pytest

from kettle.fastapi import FastAPI
from kettle.fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from kettle.testing import TestClient


def _custom_docs_app() -> FastAPI:
    app = FastAPI(title="Depot", docs_url=None, redoc_url=None)

    @app.get("/docs", include_in_schema=False)
    async def own_swagger() -> Any:
        return get_swagger_ui_html(
            openapi_url=str(app.openapi_url),
            title=app.title + " docs",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            swagger_js_url="/assets/sw.js",
            swagger_css_url="/assets/sw.css",
            init_oauth={"clientId": "depot"},
            swagger_ui_parameters={"deepLinking": False},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def own_redirect() -> Any:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def own_redoc() -> Any:
        return get_redoc_html(
            openapi_url=str(app.openapi_url), title="Depot ref", redoc_js_url="/assets/r.js"
        )

    @app.get("/crates/{crate_id}")
    async def read_crate(crate_id: int) -> dict[str, int]:
        return {"crate_id": crate_id}

    return app


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        (
            "/docs",
            [
                "/assets/sw.js",
                "/assets/sw.css",
                "<title>Depot docs</title>",
                '"clientId": "depot"',
                '"deepLinking": false',
                'oauth2RedirectUrl: new URL("/docs/oauth2-redirect"',
                "SwaggerUIBundle(",
            ],
        ),
        ("/redoc", ["/assets/r.js", "<title>Depot ref</title>", "Redoc.init"]),
        ("/docs/oauth2-redirect", ["swaggerUIRedirectOauth2"]),
    ],
)
def test_own_pages_are_served(url: str, fragments: list[str]) -> None:
    response = TestClient(_custom_docs_app()).get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for fragment in fragments:
        assert fragment in response.text


def test_own_pages_leave_the_document_alone() -> None:
    doc = TestClient(_custom_docs_app()).get("/openapi.json").json()
    assert list(doc["paths"]) == ["/crates/{crate_id}"]


def test_redoc_fonts_are_optional() -> None:
    with_fonts = get_redoc_html(openapi_url="/o.json", title="t").body
    without = get_redoc_html(openapi_url="/o.json", title="t", with_google_fonts=False).body
    assert b"fonts.googleapis.com" in with_fonts
    assert b"fonts.googleapis.com" not in without


def test_a_script_in_a_setting_cannot_end_the_page_script() -> None:
    page = get_swagger_ui_html(openapi_url="/x</script><script>alert(1)//", title="t")
    assert b"</script><script>alert" not in page.body


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("openapi_url", "/spec.json"),
        ("docs_url", "/explore"),
        ("redoc_url", None),
        ("swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect"),
        ("openapi_tags", [{"name": "crates"}]),
        ("servers", [{"url": "https://depot.example"}]),
        ("root_path_in_servers", False),
        ("separate_input_output_schemas", False),
        ("openapi_version", "3.1.0"),
    ],
)
def test_fastapi_attributes(name: str, value: Any) -> None:
    app = FastAPI(
        openapi_url="/spec.json",
        docs_url="/explore",
        redoc_url=None,
        openapi_tags=[{"name": "crates"}],
        servers=[{"url": "https://depot.example"}],
        root_path_in_servers=False,
        separate_input_output_schemas=False,
    )
    assert getattr(app, name) == value


def test_openapi_schema_is_kept_and_can_be_replaced() -> None:
    app = FastAPI()

    @app.get("/crates")
    async def list_crates() -> list[int]:
        return []

    assert app.openapi_schema is None
    built = app.openapi()
    assert app.openapi_schema is built
    app.openapi_schema = {"openapi": "3.1.0", "info": {"title": "Own", "version": "9"}, "paths": {}}
    assert TestClient(app).get("/openapi.json").json()["info"]["title"] == "Own"


def _shop() -> tuple[FastAPI, Any]:
    from kettle.fastapi import APIRouter

    app = FastAPI()
    shelf = APIRouter()

    @shelf.get("/shelves/{shelf_id}")
    async def read_shelf(shelf_id: int) -> dict[str, int]:
        return {"shelf_id": shelf_id}

    @app.get("/tills")
    async def list_tills() -> list[int]:
        return []

    app.include_router(shelf, prefix="/v1")
    return app, read_shelf


@pytest.mark.parametrize(
    ("which", "paths"),
    [("app", ["/tills", "/v1/shelves/{shelf_id}"]), ("one", ["/tills"])],
)
def test_get_openapi_documents_the_routes_given(which: str, paths: list[str]) -> None:
    from kettle.fastapi.openapi.utils import get_openapi

    app, _ = _shop()
    routes = app.routes if which == "app" else [app.routes[0]]
    doc = get_openapi(
        title="Shop",
        version="3.0",
        summary="tills and shelves",
        routes=routes,
        servers=[{"url": "https://shop.example"}],
    )
    assert doc["info"] == {"title": "Shop", "summary": "tills and shelves", "version": "3.0"}
    assert doc["servers"] == [{"url": "https://shop.example"}]
    assert sorted(doc["paths"]) == paths
    assert doc["paths"]["/tills"]["get"]["operationId"] == "list_tills_tills_get"


def test_a_replaced_openapi_is_served() -> None:
    from kettle.fastapi.openapi.utils import get_openapi

    app, _ = _shop()

    def own_document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(title="Own", version="1", routes=app.routes)
        document["info"]["x-logo"] = {"url": "/logo.png"}
        app.openapi_schema = document
        return document

    app.openapi = own_document  # type: ignore[method-assign]
    served = TestClient(app).get("/openapi.json").json()
    assert served["info"] == {"title": "Own", "version": "1", "x-logo": {"url": "/logo.png"}}
    assert "/v1/shelves/{shelf_id}" in served["paths"]


def test_get_openapi_needs_an_apps_routes() -> None:
    from kettle.fastapi.openapi.utils import get_openapi
    from kettle.routing.routes import Route

    async def stray() -> None:
        return None

    loose = Route(path="/stray", endpoint=stray, methods=frozenset({"GET"}), name="stray")
    with pytest.raises(LookupError):
        get_openapi(title="x", version="1", routes=[loose])


@pytest.mark.parametrize("off", [None, ""])
def test_an_empty_openapi_url_turns_the_document_off(off: str | None) -> None:
    client = TestClient(FastAPI(openapi_url=off))
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404


def test_a_fastapi_apps_own_docs_start_swagger_ui_inline_allowed_by_hash() -> None:
    import base64
    import hashlib
    import re

    app = FastAPI(swagger_ui_parameters={"syntaxHighlight": False})
    response = TestClient(app).get("/docs")
    page = response.text
    for option in ('"dom_id": "#swagger-ui",', '"syntaxHighlight": false,', '"deepLinking": true,'):
        assert option in page
    (script,) = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"script-src 'self' 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_a_kettle_apps_docs_keep_their_data_block() -> None:
    from kettle import Kettle

    response = TestClient(Kettle(__name__)).get("/docs")
    assert "<script>" not in response.text
    assert "script-src 'self';" in response.headers["content-security-policy"]
