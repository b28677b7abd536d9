"""The TRUSTED_HOSTS setting: requests for other hosts get a 400."""

from __future__ import annotations

import pytest

from kettle import Kettle
from kettle.middleware.trustedhost import TrustedHostMiddleware


def _app(hosts: object) -> Kettle:
    app = Kettle(__name__)
    app.config["TRUSTED_HOSTS"] = hosts

    @app.get("/")
    def index() -> str:
        return "ok"

    return app


@pytest.mark.parametrize(
    ("base_url", "status"),
    [
        ("http://example.test", 200),
        ("http://example.test:8080", 200),
        ("http://other.test", 200),
        ("http://a.other.test", 200),
        ("http://bad.test", 400),
        ("http://example.test.bad.test", 400),
        ("http://notother.test", 400),
    ],
)
def test_only_trusted_hosts_are_answered(base_url: str, status: int) -> None:
    client = _app(["example.test", ".other.test"]).test_client()
    assert client.get(base_url=base_url).status_code == status


@pytest.mark.parametrize("hosts", [None, []])
def test_no_setting_adds_no_check(hosts: object) -> None:
    app = _app(hosts)
    assert app.test_client().get(base_url="http://anything.test").status_code == 200
    assert not any(m.cls is TrustedHostMiddleware for m in app.user_middleware)


def test_a_string_setting_is_refused() -> None:
    with pytest.raises(TypeError, match="list of host names"):
        _app("example.test").test_client().get("/")
