"""Reading requests under ``kettle.fastapi.FastAPI``'s conventions, where they differ from
``kettle.Kettle``'s."""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from kettle import Kettle
from kettle.fastapi import FastAPI, File, Form
from kettle.fastapi.testclient import TestClient


class _Profile(BaseModel):
    name: str = "anonymous"
    age: int | None = None


def _form_app(app: Kettle) -> Kettle:
    @app.post("/scalar")
    async def scalar(age: Annotated[int | None, Form()] = None) -> dict[str, Any]:
        return {"age": age}

    @app.post("/required")
    async def required(name: Annotated[str, Form()]) -> dict[str, Any]:
        return {"name": name}

    @app.post("/multipart")
    async def multipart(
        age: Annotated[int | None, Form()] = None, file: Annotated[bytes | None, File()] = None
    ) -> dict[str, Any]:
        return {"age": age, "file": file is not None}

    @app.post("/model")
    async def model(profile: Annotated[_Profile, Form()]) -> dict[str, Any]:
        return profile.model_dump()

    return app


@pytest.mark.parametrize(
    ("path", "send", "status", "body"),
    [
        ("/scalar", {"data": {"age": ""}}, 200, {"age": None}),
        ("/scalar", {"data": {"age": "3"}}, 200, {"age": 3}),
        (
            "/multipart",
            {"data": {"age": ""}, "files": {"x": b""}},
            200,
            {"age": None, "file": False},
        ),
        ("/model", {"data": {"name": "", "age": ""}}, 200, {"name": "anonymous", "age": None}),
        ("/required", {"data": {"name": ""}}, 422, None),
    ],
)
def test_an_empty_form_field_is_not_sent(
    path: str, send: dict[str, Any], status: int, body: Any
) -> None:
    response = TestClient(_form_app(FastAPI())).post(path, **send)
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body
    else:
        assert response.json()["detail"][0]["type"] == "missing"


def test_kettle_keeps_an_empty_form_field() -> None:
    response = TestClient(_form_app(Kettle(__name__))).post("/required", data={"name": ""})
    assert response.json() == {"name": ""}
