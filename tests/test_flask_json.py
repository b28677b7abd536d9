"""Flask's JSON provider through an app: ``jsonify``, ``app.json``, ``flask.json``,
``request.get_json()`` and the ``tojson`` filter all follow the app's provider.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import date, datetime
from typing import Any

import pytest

from kettle.flask import Flask, jsonify, render_template_string, request
from kettle.flask import json as flask_json
from kettle.jsonprovider import DefaultJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    y: int


def _app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True
    return app


class TestJsonify:
    @pytest.mark.parametrize(
        ("compact", "debug", "spaced"),
        [
            (True, False, False),
            (True, True, False),
            (None, False, False),
            (None, True, True),
            (False, False, True),
            (False, True, True),
        ],
    )
    def test_layout(self, compact: bool | None, debug: bool, spaced: bool) -> None:
        app = _app()
        app.debug = debug
        app.json.compact = compact  # type: ignore[attr-defined]
        body = app.json.response({"a": {"b": 1}, "c": 2}).body  # type: ignore[attr-defined]
        assert body.endswith(b"\n")
        assert (b" " in body.strip()) is spaced
        assert (b"\n" in body.strip()) is spaced

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (datetime(1973, 3, 11, 6, 30, 45), "Sun, 11 Mar 1973 06:30:45 GMT"),
            (date(1975, 1, 5), "Sun, 05 Jan 1975 00:00:00 GMT"),
            (decimal.Decimal("1.50"), "1.50"),
            (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
            (Point(1, 2), {"x": 1, "y": 2}),
        ],
    )
    def test_values_through_a_view(self, value: Any, expected: Any) -> None:
        app = _app()

        @app.route("/")
        def index() -> Any:
            return jsonify(value=value)

        response = app.test_client().get("/")
        assert response.mimetype == "application/json"
        assert response.json == {"value": expected}

    @pytest.mark.parametrize(
        "value",
        [
            {"b": 1, "a": [1, 2.5, None, True]},
            {"name": "Zoë ☕"},  # json escapes non-ASCII
            {2: "int keys", 10: "sorted as numbers"},
            {"big": 2**70},
            {"when": datetime(2021, 2, 1, 7, 15), "nested": {"z": 1, "a": 2}},
        ],
    )
    def test_fast_path_writes_what_json_writes(self, value: Any) -> None:
        provider = DefaultJSONProvider(None)
        expected = json.dumps(
            value, default=provider.default, sort_keys=True, separators=(",", ":")
        )
        assert provider.response(value).body == f"{expected}\n".encode()

    def test_mimetype_and_sort_keys_settings(self) -> None:
        app = _app()
        app.json.mimetype = "application/vnd.api+json"  # type: ignore[attr-defined]
        app.json.sort_keys = False  # type: ignore[attr-defined]
        with app.app_context():
            response = jsonify({"b": 1, "a": 2})
        assert response.headers["content-type"].startswith("application/vnd.api+json")
        assert response.body == b'{"b":1,"a":2}\n'


class TestCustomProvider:
    def test_dumps_default_and_loads_of_a_subclass(self) -> None:
        class Tagged:
            def __init__(self, value: int) -> None:
                self.value = value

        class Provider(DefaultJSONProvider):
            def loads(self, s: str | bytes, **kwargs: Any) -> Any:
                kwargs.setdefault("object_hook", lambda o: Tagged(o["_t"]) if "_t" in o else o)
                return super().loads(s, **kwargs)

        def default(o: Any) -> Any:
            return f"<{o.value}>" if isinstance(o, Tagged) else DefaultJSONProvider.default(o)

        app = _app()
        app.json = Provider(app)
        app.json.default = default  # type: ignore[attr-defined]

        @app.post("/")
        def echo() -> Any:
            return jsonify(got=request.get_json()["x"])

        response = app.test_client().post("/", json={"x": {"_t": 7}})
        assert response.data == b'{"got":"<7>"}\n'

    @pytest.mark.parametrize("body", [b"{", b"not json"])
    def test_malformed_body_is_400_with_a_custom_loads(self, body: bytes) -> None:
        class Provider(DefaultJSONProvider):
            def loads(self, s: str | bytes, **kwargs: Any) -> Any:
                return super().loads(s, **kwargs)

        app = _app()
        app.json = Provider(app)

        @app.post("/")
        def echo() -> Any:
            return jsonify(request.get_json())

        response = app.test_client().post("/", data=body, content_type="application/json")
        assert response.status_code == 400


class TestTextHelpers:
    def test_tojson_uses_the_app_provider(self) -> None:
        app = _app()
        with app.app_context():
            text = render_template_string(
                "{{ data|tojson }}", data={"s": "</script>", "t": datetime(2021, 2, 1, 7, 15)}
            )
        assert text == '{"s": "\\u003c/script\\u003e", "t": "Mon, 01 Feb 2021 07:15:00 GMT"}'

    def test_flask_json_dumps_follows_the_app(self) -> None:
        app = _app()
        app.json.sort_keys = False  # type: ignore[attr-defined]
        with app.app_context():
            assert flask_json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
        assert flask_json.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'  # outside: defaults


@pytest.mark.parametrize("debug", [True, False])
def test_malformed_body_message_names_the_decoder_in_debug(debug: bool) -> None:
    app = _app()
    app.debug = debug

    @app.post("/")
    def echo() -> Any:
        return jsonify(request.get_json())

    response = app.test_client().post("/", data=b"{", content_type="application/json")
    assert response.status_code == 400
    assert (b"Failed to decode JSON object" in response.data) is debug
