"""``kettle.fastapi.FastAPI`` writes the OpenAPI document FastAPI writes for the same app;
``kettle.Kettle`` keeps its own conventions."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterable
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from kettle import Kettle
from kettle.fastapi import Body, Depends, FastAPI, File, Form, Header, Query, UploadFile
from kettle.fastapi.responses import HTMLResponse
from kettle.fastapi.security import APIKeyHeader, HTTPBearer
from kettle.testing import TestClient


class Gadget(BaseModel):
    label: str
    note: str | None = None


class Section(enum.StrEnum):
    tools = "tools"


def _app(app: Any) -> Any:
    @app.get("/gadgets/{gadget_id}", tags=[Section.tools])
    async def fetch_gadget(gadget_id: str, verbose: bool = False):
        return {"gadget_id": gadget_id}

    @app.get("/ping")
    async def ping():
        return "pong"

    @app.post("/gadgets/")
    async def store_gadget(gadget: Gadget, owner: Annotated[str, Body()]):
        return gadget

    @app.post("/uploads/")
    async def take_upload(blob: UploadFile, caption: Annotated[str, Form()] = "none"):
        return {"name": blob.filename}

    @app.get("/search", response_model=list[Gadget])
    async def hunt(
        term: Annotated[str | None, Query(description="what to look for", max_length=9)] = None,
    ):
        return []

    return app


def _document(app: Any) -> dict[str, Any]:
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def fastapi_doc() -> dict[str, Any]:
    return _document(_app(FastAPI()))


@pytest.fixture(scope="module")
def kettle_doc() -> dict[str, Any]:
    return _document(_app(Kettle(__name__)))


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [
        ("/gadgets/{gadget_id}", "get", "fetch_gadget_gadgets__gadget_id__get"),
        ("/ping", "get", "ping_ping_get"),
        ("/gadgets/", "post", "store_gadget_gadgets__post"),
        ("/uploads/", "post", "take_upload_uploads__post"),
        ("/search", "get", "hunt_search_get"),
    ],
)
def test_operation_ids_are_fastapis(
    fastapi_doc: dict[str, Any], path: str, method: str, operation_id: str
) -> None:
    assert fastapi_doc["paths"][path][method]["operationId"] == operation_id


def test_default_title_and_version(fastapi_doc: dict[str, Any]) -> None:
    assert fastapi_doc["info"] == {"title": "FastAPI", "version": "0.1.0"}


@pytest.mark.parametrize(
    ("path", "index", "schema"),
    [
        ("/gadgets/{gadget_id}", 0, {"type": "string", "title": "Gadget Id"}),
        ("/gadgets/{gadget_id}", 1, {"type": "boolean", "default": False, "title": "Verbose"}),
        (
            "/search",
            0,
            {
                "anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}],
                "title": "Term",
                "description": "what to look for",
            },
        ),
    ],
)
def test_parameter_schemas_are_titled_without_nulls(
    fastapi_doc: dict[str, Any], path: str, index: int, schema: dict[str, Any]
) -> None:
    assert fastapi_doc["paths"][path]["get"]["parameters"][index]["schema"] == schema


def test_enum_tags_are_their_values(fastapi_doc: dict[str, Any]) -> None:
    assert fastapi_doc["paths"]["/gadgets/{gadget_id}"]["get"]["tags"] == ["tools"]


@pytest.mark.parametrize("path", ["/gadgets/{gadget_id}", "/ping"])
def test_json_without_a_model_is_an_empty_schema(fastapi_doc: dict[str, Any], path: str) -> None:
    ok = fastapi_doc["paths"][path]["get"]["responses"]["200"]
    assert ok == {
        "description": "Successful Response",
        "content": {"application/json": {"schema": {}}},
    }


def test_a_path_parameter_can_fail_validation(fastapi_doc: dict[str, Any]) -> None:
    responses = fastapi_doc["paths"]["/gadgets/{gadget_id}"]["get"]["responses"]
    assert "422" in responses
    assert "422" not in fastapi_doc["paths"]["/ping"]["get"]["responses"]


def test_response_model_schema_is_titled(fastapi_doc: dict[str, Any]) -> None:
    schema = fastapi_doc["paths"]["/search"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Gadget"},
        "title": "Response Hunt Search Get",
    }


@pytest.mark.parametrize(
    ("path", "media", "component", "properties"),
    [
        (
            "/gadgets/",
            "application/json",
            "Body_store_gadget_gadgets__post",
            {
                "gadget": {"$ref": "#/components/schemas/Gadget"},
                "owner": {"type": "string", "title": "Owner"},
            },
        ),
        (
            "/uploads/",
            "multipart/form-data",
            "Body_take_upload_uploads__post",
            {
                "blob": {
                    "type": "string",
                    "contentMediaType": "application/octet-stream",
                    "title": "Blob",
                },
                "caption": {"type": "string", "default": "none", "title": "Caption"},
            },
        ),
    ],
)
def test_bodies_are_components(
    fastapi_doc: dict[str, Any], path: str, media: str, component: str, properties: dict[str, Any]
) -> None:
    body = fastapi_doc["paths"][path]["post"]["requestBody"]
    assert body["content"][media]["schema"] == {"$ref": f"#/components/schemas/{component}"}
    assert fastapi_doc["components"]["schemas"][component]["properties"] == properties


def test_validation_error_components_are_fastapis(fastapi_doc: dict[str, Any]) -> None:
    schemas = fastapi_doc["components"]["schemas"]
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
    assert "required" not in schemas["HTTPValidationError"]
    assert "default" not in schemas["Gadget"]["properties"]["note"]


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [("/gadgets/{gadget_id}", "get", "fetch_gadget"), ("/ping", "get", "ping")],
)
def test_kettle_keeps_its_own_ids(
    kettle_doc: dict[str, Any], path: str, method: str, operation_id: str
) -> None:
    assert kettle_doc["info"]["title"] == "kettle"
    assert kettle_doc["paths"][path][method]["operationId"] == operation_id
    assert "422" not in kettle_doc["paths"]["/ping"]["get"]["responses"]


def test_files_with_bytes_and_operation_id_overrides() -> None:
    app = FastAPI(title="Files")

    @app.post("/raw", operation_id="send_raw")
    async def raw(data: Annotated[bytes | None, File()] = None):
        return {"size": len(data or b"")}

    doc = _document(app)
    operation = doc["paths"]["/raw"]["post"]
    assert operation["operationId"] == "send_raw"
    component = doc["components"]["schemas"]["Body_raw_raw_post"]
    assert component["properties"]["data"] == {
        "anyOf": [
            {"type": "string", "contentMediaType": "application/octet-stream"},
            {"type": "null"},
        ],
        "title": "Data",
    }


class Delivery(BaseModel):
    parcel: str
    weight: float


def test_webhooks_are_documented_not_served() -> None:
    app = FastAPI()

    @app.webhooks.post("parcel-delivered")
    def parcel_delivered(body: Delivery) -> None:
        """Sent when a parcel arrives."""

    @app.get("/parcels")
    def list_parcels() -> list[str]:
        return []

    client = TestClient(app)
    doc = client.get("/openapi.json").json()
    hook = doc["webhooks"]["parcel-delivered"]["post"]
    assert hook["operationId"] == "parcel_deliveredparcel_delivered_post"
    assert hook["description"] == "Sent when a parcel arrives."
    body = hook["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Delivery"}
    assert "Delivery" in doc["components"]["schemas"]
    assert list(doc["paths"]) == ["/parcels"]
    assert client.post("/parcel-delivered", json={}).status_code == 404


def _streams() -> dict[str, Any]:
    from kettle.sse import EventSourceResponse

    app = FastAPI()

    @app.get("/events", response_class=EventSourceResponse)
    async def events():
        yield {"tick": 1}

    @app.get("/lines")
    async def lines():
        yield {"tick": 1}

    @app.get("/typed-lines", response_model=None)
    async def typed_lines() -> AsyncIterable[Delivery]:
        yield Delivery(parcel="p", weight=1.0)

    return _document(app)


_EVENT = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/events", {"text/event-stream": {"itemSchema": _EVENT}}),
        ("/lines", {"application/jsonl": {"itemSchema": {}}}),
        (
            "/typed-lines",
            {"application/jsonl": {"itemSchema": {"$ref": "#/components/schemas/Delivery"}}},
        ),
    ],
)
def test_streams_document_their_items(path: str, content: dict[str, Any]) -> None:
    assert _streams()["paths"][path]["get"]["responses"]["200"]["content"] == content


@pytest.mark.parametrize(
    ("conventions", "expected"),
    [
        ("fastapi", [{"APIKeyHeader": []}, {"HTTPBearer": []}]),
        ("kettle", [{"APIKeyHeader": [], "HTTPBearer": []}]),
    ],
)
def test_security_requirements_follow_the_conventions(
    conventions: str, expected: list[dict[str, Any]]
) -> None:
    key = APIKeyHeader(name="X-Key")
    bearer = HTTPBearer(auto_error=False)
    app = FastAPI() if conventions == "fastapi" else Kettle(__name__)

    @app.get("/vault")
    async def vault(k: str = Depends(key), b: Any = Depends(bearer)):
        return {}

    assert _document(app)["paths"]["/vault"]["get"]["security"] == expected


class Paging:
    def __init__(self, skip: int = 0, limit: int = 10) -> None:
        self.skip, self.limit = skip, limit


def _trace(trace_id: str | None = Header(None)) -> str | None:
    return trace_id


@pytest.mark.parametrize(
    ("make", "names"),
    [
        (FastAPI, ["shelf", "aisle", "q", "skip", "limit", "trace-id"]),
        (lambda: Kettle(__name__), ["aisle", "shelf", "skip", "limit", "q", "trace-id"]),
    ],
)
def test_parameter_order_follows_the_conventions(make: Any, names: list[str]) -> None:
    app = make()

    @app.get("/aisles/{aisle}/shelves/{shelf}", dependencies=[Depends(_trace)])
    async def shelf_items(shelf: int, aisle: int, p: Paging = Depends(), q: str = "all"):
        return []

    operation = _document(app)["paths"]["/aisles/{aisle}/shelves/{shelf}"]["get"]
    assert [param["name"] for param in operation["parameters"]] == names


@pytest.mark.parametrize(
    ("make", "content"),
    [
        (
            lambda: FastAPI(default_response_class=HTMLResponse),
            {"text/html": {"schema": {"type": "string"}}},
        ),
        (
            lambda: Kettle(__name__, default_response_class=HTMLResponse),
            {"text/html": {"schema": {"type": "string"}}},
        ),
    ],
)
def test_the_apps_default_response_class_is_documented(make: Any, content: Any) -> None:
    app = make()

    @app.get("/banner")
    async def banner():
        return "<h1>hi</h1>"

    assert _document(app)["paths"]["/banner"]["get"]["responses"]["200"]["content"] == content


def test_callbacks_are_documented_in_their_operation() -> None:
    from kettle.fastapi import APIRouter

    notices = APIRouter()

    @notices.post("{$callback_url}/deliveries/{$request.body.parcel}")
    def delivery_notice(body: Delivery) -> None:
        return None

    app = FastAPI()

    # `callbacks=` as a route option (what FastAPI's callbacks= keyword passes on)
    @app.post("/deliveries", options={"callbacks": notices.routes})
    def book_delivery(delivery: Delivery) -> dict[str, str]:
        return {"ok": "yes"}

    doc = _document(app)
    callbacks = doc["paths"]["/deliveries"]["post"]["callbacks"]
    operation = callbacks["delivery_notice"]["{$callback_url}/deliveries/{$request.body.parcel}"]
    posted = operation["post"]
    assert posted["operationId"] == (
        "delivery_notice__callback_url__deliveries___request_body_parcel__post"
    )
    assert "parameters" not in posted
    assert posted["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Delivery"
    }
    assert list(doc["paths"]) == ["/deliveries"]
