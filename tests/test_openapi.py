"""The OpenAPI document: what each kind of route, parameter, body and response becomes.

Every document is checked against the OpenAPI 3.1 specification (openapi-spec-validator)
before anything else is asserted about it.
"""

import dataclasses
import json
import runpy
import sys
import textwrap
import types
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import pytest
import yaml
from click.testing import CliRunner
from openapi_spec_validator import validate
from pydantic import BaseModel, Field, computed_field, create_model
from pydantic.json_schema import GenerateJsonSchema

from kettle import (
    Blueprint,
    Body,
    ConfigurationError,
    Converter,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    HTMLResponse,
    HTTPException,
    Kettle,
    PlainTextResponse,
    Query,
    Router,
    Security,
    WebSocket,
)
from kettle import Path as PathParam
from kettle.cli import cli
from kettle.forms import UploadFile
from kettle.openapi import OpenAPIConfig, SecurityScheme, build_document, to_yaml
from kettle.testing import TestClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ERROR_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
T = TypeVar("T")


def document(app: Kettle) -> dict[str, Any]:
    """The app's document, after checking it against the OpenAPI 3.1 specification."""
    doc = app.openapi()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    return doc


def operation(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return doc["paths"][path][method]  # type: ignore[no-any-return]


def params_by_name(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", [])}


# -- models used by several tests ----------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float = 0.0
    tags: list[str] = Field(default_factory=list)


class Account(BaseModel):
    """An account: what is sent differs from what is accepted (a computed field)."""

    first: str
    last: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"


class Problem(BaseModel):
    detail: str


class Paging(BaseModel):
    limit: int = Field(10, ge=1, le=100)
    offset: int = Field(0, ge=0)


# -- the document's header --------------------------------------------------------------


def test_info_servers_tags_from_the_app_settings() -> None:
    app = Kettle(
        __name__,
        title="Shop",
        version="2.1.0",
        description="Sells **tea**.",
        summary="A tea shop",
        terms_of_service="https://example.com/terms",
        contact={"name": "Ada", "email": "ada@example.com"},
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[{"name": "pots", "description": "Teapots"}],
        servers=[{"url": "https://api.example.com", "description": "production"}],
    )

    @app.get("/pots", tags=["pots"])
    async def list_pots() -> list[str]:
        return []

    doc = document(app)
    assert doc["info"] == {
        "title": "Shop",
        "summary": "A tea shop",
        "description": "Sells **tea**.",
        "termsOfService": "https://example.com/terms",
        "contact": {"name": "Ada", "email": "ada@example.com"},
        "license": {"name": "MIT", "identifier": "MIT"},
        "version": "2.1.0",
    }
    assert doc["servers"] == [{"url": "https://api.example.com", "description": "production"}]
    assert doc["tags"] == [{"name": "pots", "description": "Teapots"}]


def test_an_app_without_routes_has_an_empty_document() -> None:
    doc = document(Kettle(__name__))
    assert doc == {"openapi": "3.1.0", "info": {"title": "kettle", "version": "0.1.0"}, "paths": {}}


def test_openapi_config_object_and_keywords_combine() -> None:
    config = OpenAPIConfig(docs_url=None, summary="from the config")
    app = Kettle(__name__, openapi=config, redoc_url="/reference")
    assert app.openapi_config.docs_url is None
    assert app.openapi_config.redoc_url == "/reference"
    assert document(app)["info"]["summary"] == "from the config"
    with pytest.raises(ValueError, match="must start with '/'"):
        OpenAPIConfig(docs_url="docs")


# -- parameters --------------------------------------------------------------------------------


def test_parameters_of_every_location_with_constraints() -> None:
    app = Kettle(__name__)

    @app.get("/items/{item_id:int}")
    async def read_item(
        item_id: Annotated[int, PathParam(ge=1, description="The item's number")],
        q: Annotated[str | None, Query(max_length=20, pattern="^[a-z]+$")] = None,
        page: Annotated[int, Query(ge=1, deprecated=True)] = 1,
        tag: Annotated[list[str], Query()] = [],  # noqa: B006
        user_agent: Annotated[str, Header()] = "",
        x_trace: Annotated[list[str] | None, Header()] = None,
        session: Annotated[str, Cookie(min_length=8)] = "anonymous",
        secret: Annotated[str, Query(include_in_schema=False)] = "",
        limit: int = Query(10, le=50, title="Limit", examples=[5, 10]),
    ) -> dict[str, int]:
        return {"item_id": item_id}

    params = params_by_name(operation(document(app), "/items/{item_id}"))
    assert list(params) == [
        "item_id",
        "q",
        "page",
        "tag",
        "limit",
        "user-agent",
        "x-trace",
        "session",
    ]
    assert params["item_id"] == {
        "name": "item_id",
        "in": "path",
        "description": "The item's number",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
    assert params["q"]["in"] == "query"
    assert params["q"]["required"] is False
    assert params["q"]["schema"] == {
        "anyOf": [{"type": "string", "maxLength": 20, "pattern": "^[a-z]+$"}, {"type": "null"}],
        "default": None,
    }
    assert params["page"]["deprecated"] is True
    assert params["page"]["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    assert params["tag"]["schema"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert params["limit"]["schema"] == {
        "type": "integer",
        "maximum": 50,
        "title": "Limit",
        "examples": [5, 10],
        "default": 10,
    }
    assert params["user-agent"]["in"] == "header"
    assert params["x-trace"]["schema"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    assert params["session"] == {
        "name": "session",
        "in": "cookie",
        "required": False,
        "schema": {"type": "string", "minLength": 8, "default": "anonymous"},
    }


def test_required_parameters_and_aliases() -> None:
    app = Kettle(__name__)

    @app.get("/search")
    async def search(
        term: Annotated[str, Query(alias="q")],
        x_key: Annotated[str, Header(alias="X-API-Key")],
        flavour: Annotated[str, Header(convert_underscores=False)] = "",
    ) -> list[str]:
        return [term, x_key, flavour]

    params = params_by_name(operation(document(app), "/search"))
    assert params["q"]["required"] is True
    assert params["x-api-key"]["required"] is True
    assert "flavour" in params


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/a/{v:int}", {"type": "integer", "minimum": 0}),
        ("/a/{v:float}", {"type": "number", "minimum": 0}),
        ("/a/{v:uuid}", {"type": "string", "format": "uuid"}),
        ("/a/{v:path}", {"type": "string"}),
        ("/a/{v}", {"type": "string", "pattern": "^[^/]+$"}),
        ("/a/<int:v>", {"type": "integer", "minimum": 0}),
        ("/a/<v>", {"type": "string", "pattern": "^[^/]+$"}),
    ],
)
def test_path_parameters_take_their_converter_types(path: str, schema: dict[str, Any]) -> None:
    app = Kettle(__name__)

    @app.route(path)
    def view(v):  # type: ignore[no-untyped-def]  # Flask style: no type hints at all
        return str(v)

    op = operation(document(app), "/a/{v}")
    assert op["parameters"] == [{"name": "v", "in": "path", "required": True, "schema": schema}]


class HexConverter(Converter):
    python_type = int

    def convert(self, value: str) -> int:
        return int(value, 16)


class SlugConverter(Converter):
    openapi_schema: ClassVar[dict[str, str]] = {"type": "string", "pattern": "^[a-z-]+$"}


def test_custom_converters() -> None:
    app = Kettle(__name__)
    app.register_converter("hex", HexConverter)
    app.register_converter("slug", SlugConverter)

    @app.route("/colours/<hex:rgb>/<slug:name>")
    def colour(rgb, name):  # type: ignore[no-untyped-def]
        return {"rgb": rgb}

    op = operation(document(app), "/colours/{rgb}/{name}")
    assert [p["schema"] for p in op["parameters"]] == [
        {"type": "integer"},
        {"type": "string", "pattern": "^[a-z-]+$"},
    ]


def test_a_constrained_path_parameter_keeps_its_converters_range() -> None:
    app = Kettle(__name__)

    @app.get("/pages/{n:int}")
    async def page(n: Annotated[int, PathParam(le=10)]) -> int:
        return n

    @app.get("/ratios/{r:float}")
    async def ratio(r: Annotated[float, PathParam(gt=0.5)]) -> float:
        return r

    doc = document(app)
    assert params_by_name(operation(doc, "/pages/{n}"))["n"]["schema"] == {
        "type": "integer",
        "maximum": 10,
        "minimum": 0,
    }
    assert params_by_name(operation(doc, "/ratios/{r}"))["r"]["schema"] == {
        "type": "number",
        "exclusiveMinimum": 0.5,
    }


def test_a_path_parameter_typed_differently_from_its_converter_uses_the_type() -> None:
    app = Kettle(__name__)

    @app.get("/orders/{order_id}")
    async def order(order_id: uuid.UUID) -> dict[str, str]:
        return {"id": str(order_id)}

    op = operation(document(app), "/orders/{order_id}")
    assert params_by_name(op)["order_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert op["responses"]["422"]["content"]["application/json"]["schema"] == ERROR_REF


def test_flask_style_routes_without_type_hints_appear_with_their_path_parameters() -> None:
    app = Kettle(__name__)

    @app.route("/greet/<name>", methods=["GET", "POST"])
    def greet(name):  # type: ignore[no-untyped-def]
        return f"Hello, {name}!"

    @app.route("/files/<int:folder>/<path:rest>")
    def files(**values):  # type: ignore[no-untyped-def]
        return values

    doc = document(app)
    assert set(doc["paths"]["/greet/{name}"]) == {"get", "post"}
    get = operation(doc, "/greet/{name}")
    assert get["operationId"] == "greet_get"
    assert operation(doc, "/greet/{name}", "post")["operationId"] == "greet_post"
    assert get["responses"] == {"200": {"description": "Successful Response"}}
    files_op = operation(doc, "/files/{folder}/{rest}")
    assert [(p["name"], p["schema"]) for p in files_op["parameters"]] == [
        ("folder", {"type": "integer", "minimum": 0}),
        ("rest", {"type": "string"}),
    ]


def test_a_model_read_from_the_query_becomes_one_parameter_per_field() -> None:
    app = Kettle(__name__)

    class Trace(BaseModel):
        x_request_id: str = Field(description="Correlates the logs of one request")
        x_span: str | None = Field(None, deprecated=True)

    @app.get("/things")
    async def things(
        paging: Annotated[Paging, Query()], trace: Annotated[Trace, Header()]
    ) -> list[int]:
        return []

    doc = document(app)
    params = params_by_name(operation(doc, "/things"))
    assert list(params) == ["limit", "offset", "x-request-id", "x-span"]
    assert params["limit"]["in"] == "query"
    assert params["limit"]["required"] is False
    assert params["limit"]["schema"]["maximum"] == 100
    assert params["x-request-id"] == {
        "name": "x-request-id",
        "in": "header",
        "required": True,
        "description": "Correlates the logs of one request",
        "schema": {
            "description": "Correlates the logs of one request",
            "title": "X Request Id",
            "type": "string",
        },
    }
    assert params["x-span"]["deprecated"] is True
    # The models were spread into parameters: they are not components of their own.
    assert "Paging" not in doc.get("components", {}).get("schemas", {})


def test_parameters_of_dependencies_are_documented_once() -> None:
    app = Kettle(__name__)

    def paging(limit: Annotated[int, Query(le=100)] = 10) -> int:
        return limit

    def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    @app.get("/a", dependencies=[Depends(token)])
    async def a(limit: int = Depends(paging), again: int = Depends(paging)) -> int:
        return limit

    op = operation(document(app), "/a")
    assert [p["name"] for p in op["parameters"]] == ["limit", "x-token"]
    assert params_by_name(op)["x-token"]["required"] is True


# -- request bodies --------------------------------------------------------------------------


def test_a_model_body_is_a_shared_component() -> None:
    app = Kettle(__name__)

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @app.put("/items/{item_id:int}")
    async def replace_item(item_id: int, item: Item) -> Item:
        return item

    doc = document(app)
    for path, method in (("/items", "post"), ("/items/{item_id}", "put")):
        body = operation(doc, path, method)["requestBody"]
        assert body == {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
            "required": True,
        }
        response = operation(doc, path, method)["responses"]
        assert response[next(iter(response))]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Item"
        }
    # Accepted and sent alike: one schema for both.
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {"Item", "HTTPValidationError", "ValidationError"}
    assert schemas["Item"]["required"] == ["name"]
    assert set(operation(doc, "/items", "post")["responses"]) == {"201", "422"}


def test_several_or_embedded_body_values_make_one_object() -> None:
    app = Kettle(__name__)

    @app.post("/pair")
    async def pair(item: Item, note: Annotated[str, Body(max_length=10)] = "") -> int:
        return 1

    @app.post("/wrapped")
    async def wrapped(item: Annotated[Item, Body(embed=True)]) -> int:
        return 1

    doc = document(app)
    pair_schema = operation(doc, "/pair", "post")["requestBody"]["content"]["application/json"]
    assert pair_schema["schema"] == {
        "title": "Body_pair",
        "type": "object",
        "properties": {
            "item": {"$ref": "#/components/schemas/Item"},
            "note": {"type": "string", "maxLength": 10, "default": ""},
        },
        "required": ["item"],
    }
    wrapped_body = operation(doc, "/wrapped", "post")["requestBody"]
    assert wrapped_body["content"]["application/json"]["schema"]["required"] == ["item"]


def test_body_description_media_type_and_hidden_body_values() -> None:
    app = Kettle(__name__)

    @app.post("/patch")
    async def patch(
        changes: Annotated[
            dict[str, Any],
            Body(description="JSON merge patch", media_type="application/merge-patch+json"),
        ],
    ) -> int:
        return 1

    @app.post("/hidden")
    async def hidden(secret: Annotated[str, Body(include_in_schema=False)] = "") -> int:
        return 1

    doc = document(app)
    body = operation(doc, "/patch", "post")["requestBody"]
    assert body["description"] == "JSON merge patch"
    assert list(body["content"]) == ["application/merge-patch+json"]
    assert "requestBody" not in operation(doc, "/hidden", "post")


def test_dataclass_and_typed_bodies() -> None:
    @dataclasses.dataclass
    class Point:
        x: int
        y: int = 0

    app = Kettle(__name__)

    @app.post("/points")
    async def add_point(point: Point) -> Point:
        return point

    @app.post("/numbers")
    async def numbers(values: Annotated[list[int], Body()]) -> int:
        return sum(values)

    doc = document(app)
    body = operation(doc, "/points", "post")["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Point"}
    assert doc["components"]["schemas"]["Point"]["required"] == ["x"]
    numbers_body = operation(doc, "/numbers", "post")["requestBody"]["content"]
    assert numbers_body["application/json"]["schema"] == {
        "type": "array",
        "items": {"type": "integer"},
    }


def test_urlencoded_form() -> None:
    app = Kettle(__name__)

    @app.post("/login")
    async def login(
        username: Annotated[str, Form(min_length=1)],
        password: Annotated[str, Form()],
        remember: Annotated[bool, Form()] = False,
    ) -> dict[str, str]:
        return {"user": username}

    body = operation(document(app), "/login", "post")["requestBody"]
    assert body == {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "title": "Body_login",
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "minLength": 1},
                        "password": {"type": "string"},
                        "remember": {"type": "boolean", "default": False},
                    },
                    "required": ["username", "password"],
                }
            }
        },
        "required": True,
    }


def test_multipart_form_with_files() -> None:
    app = Kettle(__name__)

    @app.post("/upload")
    async def upload(
        file: UploadFile,
        more: list[UploadFile],
        raw: Annotated[bytes, File(description="The raw bytes")],
        maybe: UploadFile | None = None,
        note: Annotated[str, Form()] = "",
    ) -> dict[str, int]:
        return {}

    body = operation(document(app), "/upload", "post")["requestBody"]
    binary = {"type": "string", "format": "binary"}
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"] == {
        "file": binary,
        "more": {"type": "array", "items": binary},
        "raw": {**binary, "description": "The raw bytes"},
        "maybe": binary,
        "note": {"type": "string", "default": ""},
    }
    assert schema["required"] == ["file", "more", "raw"]
    assert body["required"] is True


def test_a_model_read_from_a_form() -> None:
    app = Kettle(__name__)

    class Signup(BaseModel):
        email: str
        age: int = Field(18, ge=18)

    @app.post("/signup")
    async def signup(data: Annotated[Signup, Form()]) -> dict[str, str]:
        return {"email": data.email}

    body = operation(document(app), "/signup", "post")["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert set(schema["properties"]) == {"email", "age"}
    assert schema["required"] == ["email"]


# -- responses -------------------------------------------------------------------------------


def test_input_and_output_variants_of_one_model() -> None:
    app = Kettle(__name__)

    @app.post("/accounts")
    async def create_account(account: Account) -> Account:
        return account

    doc = document(app)
    op = operation(doc, "/accounts", "post")
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Account-Input"
    }
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Account-Output"
    }
    schemas = doc["components"]["schemas"]
    assert "full_name" not in schemas["Account-Input"]["properties"]
    assert schemas["Account-Output"]["properties"]["full_name"]["readOnly"] is True
    assert schemas["Account-Input"]["description"].startswith("An account")


def test_one_schema_per_model_when_input_and_output_are_not_separated() -> None:
    app = Kettle(__name__, openapi=OpenAPIConfig(separate_input_output_schemas=False))

    @app.post("/accounts")
    async def create_account(account: Account) -> Account:
        return account

    schemas = document(app)["components"]["schemas"]
    assert "Account" in schemas
    assert not any(name.startswith("Account-") for name in schemas)


def test_models_of_the_same_name_from_two_modules_do_not_collide() -> None:
    shop = types.ModuleType("shop.models")
    warehouse = types.ModuleType("warehouse.models")
    shop.Thing = create_model("Thing", price=(float, ...), __module__=shop.__name__)  # type: ignore[attr-defined]
    warehouse.Thing = create_model("Thing", shelf=(int, ...), __module__=warehouse.__name__)  # type: ignore[attr-defined]
    app = Kettle(__name__)

    @app.post("/sell")
    async def sell(thing: shop.Thing) -> warehouse.Thing:  # type: ignore[name-defined]
        return {"shelf": 1}

    doc = document(app)
    op = operation(doc, "/sell", "post")
    request_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response_ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref != response_ref
    schemas = doc["components"]["schemas"]
    assert schemas[request_ref.rsplit("/", 1)[1]]["required"] == ["price"]
    assert schemas[response_ref.rsplit("/", 1)[1]]["required"] == ["shelf"]
    assert all(schema["title"] == "Thing" for name, schema in schemas.items() if "Thing" in name)


def test_response_models_status_codes_and_declared_responses() -> None:
    app = Kettle(__name__)

    @app.get(
        "/items/{item_id:int}",
        response_model=Item,
        responses={
            404: {"model": Problem, "description": "No such item"},
            "default": {"description": "Something else"},
            409: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        },
        response_description="The item",
    )
    async def read_item(item_id: int):  # type: ignore[no-untyped-def]
        raise HTTPException(404, "no such item")

    @app.post("/items", status_code=201, response_model=list[Item])
    async def create(item: Item):  # type: ignore[no-untyped-def]
        return [item]

    @app.delete("/items/{item_id:int}")
    async def delete(item_id: int) -> None:
        return None

    @app.get("/page")
    async def page() -> str:
        return "<h1>hi</h1>"

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("hi")

    @app.get("/html", response_class=HTMLResponse)
    async def html():  # type: ignore[no-untyped-def]
        return "<p>"

    @app.get("/anything")
    async def anything() -> dict[str, Any]:
        return {}

    doc = document(app)
    responses = operation(doc, "/items/{item_id}")["responses"]
    assert list(responses) == ["200", "404", "409", "default"]
    assert responses["200"] == {
        "description": "The item",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }
    assert responses["404"] == {
        "description": "No such item",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    assert responses["409"] == {
        "description": "Conflict",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    assert responses["default"] == {"description": "Something else"}
    created = operation(doc, "/items", "post")["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
    }
    assert operation(doc, "/items/{item_id}", "delete")["responses"] == {
        "204": {"description": "Successful Response"}
    }
    assert operation(doc, "/page")["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert list(operation(doc, "/text")["responses"]["200"]["content"]) == ["text/plain"]
    assert list(operation(doc, "/html")["responses"]["200"]["content"]) == ["text/html"]
    plain = operation(doc, "/anything")["responses"]["200"]["content"]["application/json"]
    assert plain["schema"] == {"type": "object", "additionalProperties": True}


def test_the_validation_error_response_only_where_validation_can_fail() -> None:
    app = Kettle(__name__)

    @app.get("/nothing")
    async def nothing() -> dict[str, str]:
        return {}

    @app.get("/optional-text")
    async def optional_text(q: str | None = None) -> dict[str, str]:
        return {}

    @app.get("/typed-path/{n:int}")
    async def typed_path(n: int) -> dict[str, int]:
        return {}

    @app.get("/required-text")
    async def required_text(q: str) -> dict[str, str]:
        return {}

    @app.get("/optional-number")
    async def optional_number(n: int = 0) -> dict[str, int]:
        return {}

    @app.get("/constrained-path/{n:int}")
    async def constrained_path(n: Annotated[int, PathParam(le=10)]) -> dict[str, int]:
        return {}

    @app.post("/body")
    async def body(item: Item) -> dict[str, int]:
        return {}

    def needs_header(x_key: Annotated[str, Header()]) -> str:
        return x_key

    @app.get("/dependency", dependencies=[Depends(needs_header)])
    async def dependency() -> dict[str, int]:
        return {}

    doc = document(app)
    with_422 = {
        path
        for path, item in doc["paths"].items()
        for op in item.values()
        if "422" in op["responses"]
    }
    assert with_422 == {
        "/required-text",
        "/optional-number",
        "/constrained-path/{n}",
        "/body",
        "/dependency",
    }
    schemas = doc["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert schemas["ValidationError"]["required"] == ["type", "loc", "msg"]
    response = TestClient(app).get("/required-text")
    assert response.status_code == 422
    validate_instance(doc, "HTTPValidationError", response.json())


def validate_instance(doc: dict[str, Any], name: str, instance: Any) -> None:
    """Check ``instance`` against the component ``name`` of ``doc``."""
    import jsonschema

    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def test_a_user_model_named_like_the_error_schemas_keeps_its_name() -> None:
    app = Kettle(__name__)

    ValidationError = create_model("ValidationError", field=(str, ...), __module__="mine")

    @app.post("/check")
    async def check(report: ValidationError) -> ValidationError:  # type: ignore[valid-type]
        return report

    doc = document(app)
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {
        "ValidationError",
        "KettleValidationError",
        "HTTPValidationError",
    }
    assert schemas["ValidationError"]["required"] == ["field"]
    error_items = schemas["HTTPValidationError"]["properties"]["detail"]["items"]
    assert error_items == {"$ref": "#/components/schemas/KettleValidationError"}


# -- names, texts and grouping ------------------------------------------------------------------


def test_summary_description_tags_and_deprecation() -> None:
    app = Kettle(__name__)

    @app.get("/a", tags=["letters"])
    async def read_letter_a() -> dict[str, str]:
        """Read the letter A.

        It is the first one.
        \f
        :returns: internal notes, not for the docs
        """
        return {}

    @app.get("/b", summary="Bee", description="Buzz.", deprecated=True)
    async def b() -> dict[str, str]:
        """Not this."""
        return {}

    doc = document(app)
    a = operation(doc, "/a")
    assert a["summary"] == "Read Letter A"
    assert a["description"] == "Read the letter A.\n\nIt is the first one."
    assert a["tags"] == ["letters"]
    b_op = operation(doc, "/b")
    assert (b_op["summary"], b_op["description"], b_op["deprecated"]) == ("Bee", "Buzz.", True)
    assert "tags" not in b_op


def test_operation_ids_are_unique_and_readable() -> None:
    app = Kettle(__name__)
    first = Blueprint("first", __name__, url_prefix="/first")
    second = Blueprint("second", __name__, url_prefix="/second")

    async def listing() -> list[int]:
        return []

    first.add_url_rule("/", view_func=listing)
    second.add_url_rule("/", view_func=listing)
    app.register_blueprint(first)
    app.register_blueprint(second)
    app.add_route("/one", listing, name="shared")
    app.add_route("/two", listing, name="shared")

    @app.get("/named", operation_id="getNamed")
    async def named() -> int:
        return 1

    doc = document(app)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert ids == ["shared", "shared_2", "getNamed", "first_listing", "second_listing"]


def test_an_explicit_operation_id_used_twice_is_refused() -> None:
    app = Kettle(__name__)

    @app.get("/a", operation_id="same")
    async def a() -> int:
        return 1

    @app.get("/b", operation_id="same")
    async def b() -> int:
        return 2

    with pytest.raises(ConfigurationError, match="operation_id 'same' is used by both"):
        app.openapi()


def test_the_app_can_supply_the_operation_id_function() -> None:
    app = Kettle(
        __name__,
        generate_unique_id_function=lambda route: f"{'-'.join(route.tags)}-{route.name}",
    )

    @app.get("/a", tags=["x"])
    async def a() -> int:
        return 1

    @app.route("/b", methods=["GET", "PUT"], tags=["y"])
    async def b() -> int:
        return 2

    doc = document(app)
    assert operation(doc, "/a")["operationId"] == "x-a"
    assert operation(doc, "/b")["operationId"] == "y-b_get"
    assert operation(doc, "/b", "put")["operationId"] == "y-b_put"


def test_routers_and_blueprints_contribute_prefixes_and_tags() -> None:
    app = Kettle(__name__)
    users = Router(prefix="/users", tags=["users"])
    admin = Router(prefix="/admin", tags=["admin"])

    @users.get("/{user_id:int}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {}

    @admin.delete("/{user_id:int}", tags=["danger"])
    async def remove_user(user_id: int) -> None:
        return None

    users.include_router(admin)
    app.include_router(users, prefix="/api", tags=["v1"])
    auth = Blueprint("auth", __name__, url_prefix="/auth")

    @auth.route("/login", methods=["POST"])
    def login() -> str:
        return "ok"

    app.register_blueprint(auth)
    doc = document(app)
    assert operation(doc, "/api/users/{user_id}")["tags"] == ["v1", "users"]
    removed = operation(doc, "/api/users/admin/{user_id}", "delete")
    assert removed["tags"] == ["v1", "users", "admin", "danger"]
    login_op = operation(doc, "/auth/login", "post")
    assert login_op["tags"] == ["auth"]
    assert login_op["operationId"] == "auth_login"


def test_hidden_routes_websockets_static_files_and_docs_routes_are_left_out(
    tmp_path: Path,
) -> None:
    (tmp_path / "static").mkdir()
    app = Kettle(__name__, root_path=str(tmp_path))
    hidden = Router(prefix="/internal", include_in_schema=False)

    @hidden.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(hidden)

    @app.get("/secret", include_in_schema=False)
    async def secret() -> dict[str, str]:
        return {}

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.close()

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {}

    assert list(document(app)["paths"]) == ["/public"]
    assert [route.path for route in app.compiled_routes if route.path.startswith("/docs")] == []


# -- security hook ---------------------------------------------------------------------------


def test_security_dependencies_add_schemes_and_requirements() -> None:
    bearer = SecurityScheme("bearer", {"type": "http", "scheme": "bearer"})
    oauth = SecurityScheme(
        "oauth",
        {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "/token",
                    "scopes": {"read": "Read things", "write": "Write things"},
                }
            },
        },
    )
    maybe = SecurityScheme("cookie", {"type": "apiKey", "in": "cookie", "name": "sid"}, True)

    def token(authorization: Annotated[str, Header()] = "") -> str:
        return authorization

    token.openapi_security = bearer  # type: ignore[attr-defined]

    class OAuth:
        __kettle_security__ = oauth

        def __call__(self) -> str:
            return "user"

    scheme = OAuth()

    def writer(user: str = Security(scheme, scopes=["read"])) -> str:
        return user

    def optional_user() -> str | None:
        return None

    optional_user.openapi_security = maybe  # type: ignore[attr-defined]
    app = Kettle(__name__)

    @app.get("/me")
    async def me(user: str = Depends(token)) -> dict[str, str]:
        return {}

    @app.post("/things")
    async def things(user: str = Security(writer, scopes=["write"])) -> dict[str, str]:
        return {}

    @app.get("/maybe", dependencies=[Depends(optional_user)])
    async def maybe_user() -> dict[str, str]:
        return {}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {}

    doc = document(app)
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "oauth": dict(oauth.scheme),
        "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
    }
    assert operation(doc, "/me")["security"] == [{"bearer": []}]
    assert operation(doc, "/things", "post")["security"] == [{"oauth": ["write", "read"]}]
    assert operation(doc, "/maybe")["security"] == [{"cookie": []}, {}]
    assert "security" not in operation(doc, "/open")


def test_two_schemes_under_one_name_are_refused() -> None:
    def first() -> None:
        return None

    def second() -> None:
        return None

    first.openapi_security = SecurityScheme("auth", {"type": "http", "scheme": "basic"})  # type: ignore[attr-defined]
    second.openapi_security = SecurityScheme("auth", {"type": "http", "scheme": "bearer"})  # type: ignore[attr-defined]
    app = Kettle(__name__)
    app.add_route("/a", first, dependencies=[Depends(first)], name="a")
    app.add_route("/b", second, dependencies=[Depends(second)], name="b")
    with pytest.raises(ConfigurationError, match="named 'auth'"):
        app.openapi()


# -- examples and extras ---------------------------------------------------------------------


GREEN_TEA = {"green": {"summary": "A green tea", "value": {"name": "sencha"}}}


def test_examples_and_openapi_extra() -> None:
    app = Kettle(__name__)

    class Tea(BaseModel):
        model_config = {"json_schema_extra": {"examples": [{"name": "oolong"}]}}
        name: str

    @app.post(
        "/teas",
        openapi_extra={
            "x-rate-limit": 10,
            "responses": {"200": {"headers": {"X-Id": {"schema": {"type": "string"}}}}},
        },
    )
    async def add_tea(
        tea: Annotated[Tea, Body(openapi_examples=GREEN_TEA)],
        strength: Annotated[
            int, Query(openapi_examples={"strong": {"value": 5}}, json_schema_extra={"x-unit": "°"})
        ] = 3,
    ) -> dict[str, str]:
        return {}

    doc = document(app)
    op = operation(doc, "/teas", "post")
    media = op["requestBody"]["content"]["application/json"]
    assert media["examples"] == {"green": {"summary": "A green tea", "value": {"name": "sencha"}}}
    assert doc["components"]["schemas"]["Tea"]["examples"] == [{"name": "oolong"}]
    strength = params_by_name(op)["strength"]
    assert strength["examples"] == {"strong": {"value": 5}}
    assert strength["schema"]["x-unit"] == "°"
    assert op["x-rate-limit"] == 10
    assert op["responses"]["200"]["headers"] == {"X-Id": {"schema": {"type": "string"}}}
    assert op["responses"]["200"]["description"] == "Successful Response"


def test_external_docs_and_webhooks() -> None:
    app = Kettle(
        __name__,
        openapi=OpenAPIConfig(
            external_docs={"url": "https://example.com/guide"},
            webhooks={"newTea": {"post": {"responses": {"200": {"description": "ok"}}}}},
        ),
    )
    doc = document(app)
    assert doc["externalDocs"] == {"url": "https://example.com/guide"}
    assert "newTea" in doc["webhooks"]


# -- building: from the plans, once --------------------------------------------------------


def test_the_document_is_built_once_and_rebuilt_when_routes_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kettle.openapi.generate as generate

    calls: list[int] = []
    real = generate.build_document

    def counting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, "build_document", counting)
    app = Kettle(__name__)

    @app.get("/a")
    async def a() -> int:
        return 1

    client = TestClient(app)
    first = app.openapi()
    assert app.openapi() is first
    assert client.get("/openapi.json").json() == first
    assert client.get("/openapi.json").status_code == 200
    assert len(calls) == 1

    @app.get("/b")
    async def b() -> int:
        return 2

    assert set(client.get("/openapi.json").json()["paths"]) == {"/a", "/b"}
    assert len(calls) == 2


def test_the_generator_reads_the_compiled_plans_not_the_signatures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import inspect

    app = Kettle(__name__)

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int, q: str = "") -> Item:
        return Item(name=q)

    plans = app.compile().plans

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the generator read a signature again")

    monkeypatch.setattr(inspect, "signature", refuse)
    monkeypatch.setattr("typing.get_type_hints", refuse)
    doc = build_document(plans, title="t", version="1")
    assert "/items/{item_id}" in doc["paths"]


def many_route_app(routes: int) -> Kettle:
    """An app of ``routes`` POST routes over 50 body models, compiled."""
    app = Kettle(__name__)
    models = [
        create_model(f"Model{i}", a=(int, ...), b=(str, "x"), __module__=f"pkg{i % 5}")
        for i in range(50)
    ]
    for i in range(routes):
        model = models[i % 50]

        async def handler(
            item_id: int,
            body: model,  # type: ignore[valid-type]
            q: Annotated[str | None, Query(max_length=20)] = None,
            x_token: Annotated[str, Header()] = "",
        ) -> list[model]:  # type: ignore[valid-type]
            return []

        app.add_route(f"/r{i}/{{item_id:int}}", handler, ["POST"], name=f"r{i}", tags=[f"t{i % 9}"])
    app.compile()
    return app


def count_calls(function: Callable[[], T]) -> tuple[int, T]:
    """Call ``function``, counting the Python and builtin calls it makes: a measure of the
    work done that, unlike a clock, does not depend on the machine's load."""
    calls = 0

    def profile(frame: types.FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = function()
    finally:
        sys.setprofile(previous)
    return calls, result


def test_a_500_route_document_is_built_in_one_linear_pass_and_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The build's speed is the benchmark's business; here its work is counted, not timed.
    import kettle.openapi.generate as generate

    builds: list[int] = []
    passes: list[int] = []
    real_build, real_pass = generate.build_document, GenerateJsonSchema.generate_definitions

    def build(*args: Any, **kwargs: Any) -> dict[str, Any]:
        builds.append(1)
        return real_build(*args, **kwargs)

    def schema_pass(self: GenerateJsonSchema, inputs: Any) -> Any:
        passes.append(len(inputs))
        return real_pass(self, inputs)

    monkeypatch.setattr(generate, "build_document", build)
    monkeypatch.setattr(GenerateJsonSchema, "generate_definitions", schema_pass)
    small_calls, _ = count_calls(many_route_app(100).openapi)
    app = many_route_app(500)
    large_calls, doc = count_calls(app.openapi)
    # pydantic's generator ran once per document, for all of its schemas together
    assert (len(builds), len(passes)) == (2, 2)
    # Five times the routes is at most five times the work, give or take (the 50 models'
    # schemas are shared); work per route that grew with the routes would be 25 times.
    assert large_calls <= 5 * 1.5 * small_calls, (small_calls, large_calls)

    validate(doc)
    assert len(doc["paths"]) == 500
    assert set(doc["components"]["schemas"]) == {
        *(f"Model{i}" for i in range(50)),
        "HTTPValidationError",
        "ValidationError",
    }
    for i in range(500):
        op = doc["paths"][f"/r{i}/{{item_id}}"]["post"]
        ref = {"$ref": f"#/components/schemas/Model{i % 50}"}
        assert (op["operationId"], op["tags"]) == (f"r{i}", [f"t{i % 9}"])
        assert list(params_by_name(op)) == ["item_id", "q", "x-token"]
        assert op["requestBody"]["content"]["application/json"]["schema"] == ref
        response = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert response == {"type": "array", "items": ref}

    # The built document is kept: asking again, or serving it, builds nothing.
    assert app.openapi() is doc
    assert TestClient(app).get("/openapi.json").json() == doc
    assert (len(builds), len(passes)) == (2, 2)


# -- serving the document --------------------------------------------------------------------


def test_served_document_names_the_root_path_as_its_server() -> None:
    app = Kettle(__name__)

    @app.get("/a")
    async def a() -> int:
        return 1

    doc = TestClient(app, root_path="/api/v1").get("/openapi.json").json()
    validate(doc)
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert "servers" not in TestClient(app).get("/openapi.json").json()
    declared = Kettle(__name__, servers=[{"url": "https://example.com"}])
    doc = TestClient(declared, root_path="/api").get("/openapi.json").json()
    assert doc["servers"] == [{"url": "https://example.com"}]


def test_the_app_can_replace_its_document() -> None:
    app = Kettle(__name__)
    custom = {"openapi": "3.1.0", "info": {"title": "custom", "version": "1"}, "paths": {}}
    app.openapi = lambda: custom  # type: ignore[method-assign]
    assert TestClient(app).get("/openapi.json").json() == custom


def test_the_hello_example_document() -> None:
    namespace = runpy.run_path(str(EXAMPLES / "hello" / "app.py"))
    app: Kettle = namespace["app"]
    doc = document(app)
    assert doc["info"]["title"] == "hello"
    assert set(doc["paths"]) == {
        "/",
        "/hello",
        "/items/{item_id}",
        "/greet/{name}",
        "/api/status",
        "/api/echo",
    }
    assert operation(doc, "/api/status")["tags"] == ["api"]


# -- YAML and the command line ----------------------------------------------------------------


def test_yaml_output_reads_back_as_the_same_document() -> None:
    data = {
        "openapi": "3.1.0",
        "strings": [
            "plain",
            "",
            "yes",
            "no",
            "null",
            "~",
            "1.0",
            "0x1f",
            "-",
            "- item",
            "key: value",
            "a #comment",
            "#/components/schemas/X",
            "trailing ",
            " leading",
            "multi\nline",
            'quote"s',
            "tab\there",
            "ünïcödé",
            "{braces}",
            "[brackets]",
            "@at",
            "`tick",
            "*star",
            "&amp",
            "!bang",
            "%pct",
            "|pipe",
            ">gt",
            "'single'",
        ],
        "numbers": [0, -1, 2.5, 1e300, True, False, None],
        "empty": {"list": [], "dict": {}},
        "nested": [{"a": [1, [2, 3]]}, [], {}],
        "/items/{item_id}": {"get": {"x": 1}},
    }
    assert yaml.safe_load(to_yaml(data)) == data


CLI_APP = """
from kettle import Kettle

app = Kettle(__name__, title="cli app")

@app.get("/things/{thing_id:int}")
async def get_thing(thing_id: int) -> dict[str, int]:
    return {"thing_id": thing_id}
"""


@pytest.fixture
def cli_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KETTLE_APP", raising=False)
    (tmp_path / "cliweb.py").write_text(textwrap.dedent(CLI_APP))
    path = sys.path[:]
    yield tmp_path
    sys.path[:] = path
    sys.modules.pop("cliweb", None)


def test_cli_prints_the_document_as_json(cli_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["openapi", "cliweb:app"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    validate(doc)
    assert doc["info"]["title"] == "cli app"
    assert "/things/{thing_id}" in doc["paths"]


def test_cli_prints_yaml_and_writes_files(cli_dir: Path) -> None:
    as_json = json.loads(CliRunner().invoke(cli, ["openapi", "cliweb:app"]).output)
    result = CliRunner().invoke(cli, ["openapi", "cliweb:app", "--yaml"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith('openapi: "3.1.0"\n')
    assert yaml.safe_load(result.output) == as_json
    result = CliRunner().invoke(cli, ["openapi", "cliweb:app", "-o", "openapi.yaml", "--yaml"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((cli_dir / "openapi.yaml").read_text()) == as_json


def test_cli_reports_a_document_that_cannot_be_built(cli_dir: Path) -> None:
    (cli_dir / "dupes.py").write_text(
        textwrap.dedent(
            """
            from kettle import Kettle
            app = Kettle(__name__)
            app.add_route("/a", lambda: 1, name="a", operation_id="x")
            app.add_route("/b", lambda: 2, name="b", operation_id="x")
            """
        )
    )
    result = CliRunner().invoke(cli, ["openapi", "dupes:app"])
    assert result.exit_code == 1
    assert "the app's document cannot be built: operation_id 'x'" in result.output
    sys.modules.pop("dupes", None)


# -- property-based: schemathesis against served apps ------------------------------------------


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    price: float = Field(0.0, ge=0, le=1_000_000)
    quantity: int = Field(0, ge=0, le=1_000_000)
    tags: list[str] = Field(default_factory=list, max_length=5)


class ItemOut(ItemIn):
    id: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> float:
        return self.price * self.quantity


def inventory_app() -> Kettle:
    """A small typed API touching every kind of input, for schemathesis."""
    app = Kettle(__name__, title="Inventory", version="1.0.0")
    items: dict[int, ItemOut] = {}
    missing = {404: {"model": Problem, "description": "No such item"}}

    @app.get("/items", tags=["items"])
    async def list_items(
        paging: Annotated[Paging, Query()],
        q: Annotated[str | None, Query(max_length=50)] = None,
    ) -> list[ItemOut]:
        found = [i for i in items.values() if q is None or q in i.name]
        return found[paging.offset : paging.offset + paging.limit]

    @app.post("/items", status_code=201, tags=["items"])
    async def create_item(item: ItemIn) -> ItemOut:
        created = ItemOut(id=len(items) + 1, **item.model_dump())
        items[created.id] = created
        return created

    @app.get("/items/{item_id:int}", tags=["items"], responses=missing)
    async def read_item(item_id: int) -> ItemOut:
        if item_id not in items:
            raise HTTPException(404, "no such item")
        return items[item_id]

    @app.delete("/items/{item_id:int}", tags=["items"], responses=missing)
    async def delete_item(item_id: int) -> None:
        if items.pop(item_id, None) is None:
            raise HTTPException(404, "no such item")

    @app.post("/login")
    async def login(
        username: Annotated[str, Form(min_length=1, max_length=30)],
        password: Annotated[str, Form()],
    ) -> dict[str, str]:
        return {"user": username}

    @app.post("/upload")
    async def upload(file: UploadFile, note: Annotated[str, Form()] = "") -> dict[str, int]:
        return {"size": len(await file.read())}

    @app.get("/prefs")
    async def prefs(
        x_lang: Annotated[str, Header(max_length=10)] = "en",
        theme: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, str | None]:
        return {"lang": x_lang, "theme": theme}

    @app.route("/greet/<name>")
    def greet(name):  # type: ignore[no-untyped-def]
        return f"Hello, {name}!"

    return app


def _run_schemathesis(app: Kettle, *, status_codes: bool, negative: bool = False) -> int:
    """Every operation, a few dozen generated requests each; returns how many ran.

    Valid requests get every conformance check; invalid ones (``negative``) only need to
    be refused without a server error.
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks

    chosen = [
        not_a_server_error,
        checks.content_type_conformance,
        checks.response_schema_conformance,
        checks.response_headers_conformance,
    ]
    if status_codes:
        chosen.append(checks.status_code_conformance)
    mode = schemathesis.GenerationMode.POSITIVE
    if negative:
        chosen, mode = [not_a_server_error], schemathesis.GenerationMode.NEGATIVE
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(modes=[mode])
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(checks=chosen)

        check()
        ran += 1
    return ran


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_and_conforming_responses() -> None:
    app = inventory_app()
    validate(app.openapi())
    assert _run_schemathesis(app, status_codes=True) == 8


@pytest.mark.slow
def test_schemathesis_against_the_hello_example() -> None:
    namespace = runpy.run_path(str(EXAMPLES / "hello" / "app.py"))
    # hello's /items/{item_id} answers 404 below 1 without declaring it: no status check.
    assert _run_schemathesis(namespace["app"], status_codes=False) == 6


@pytest.mark.slow
def test_schemathesis_invalid_requests_are_refused_without_server_errors() -> None:
    assert _run_schemathesis(inventory_app(), status_codes=False, negative=True) == 8


def test_an_out_of_range_integer_in_a_body_is_a_422() -> None:
    client = TestClient(inventory_app(), raise_server_exceptions=False)
    body = b'{"name": "tea", "quantity": 18446744073709551616}'
    response = client.post("/items", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
