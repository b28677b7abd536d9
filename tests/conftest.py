"""Helpers shared by the Flask integration tests (tests/test_flask_*.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from kettle import Kettle

KEY = "integration-test-secret-key"


def sign(app: Kettle, data: dict[str, Any]) -> str:
    """A session cookie value the app itself would have issued for ``data``."""
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None
    return str(signer.dumps(data))


def unsign(app: Kettle, value: str) -> dict[str, Any]:
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None
    return dict(signer.loads(value))


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def asgi_get(
    app: Kettle,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    method: str = "GET",
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request with ``path`` exactly as a server hands it over (already decoded).

    httpx normalizes URLs (``/a/../b`` becomes ``/b``); a raw server does not, so the
    hostile paths go in through a scope built by hand.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    anyio.run(app, scope, receive, send)
    start = messages[0]
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], sent, b"".join(m.get("body", b"") for m in messages[1:])


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An app folder with templates and static files, and a blueprint folder beside it."""
    write(tmp_path / "templates" / "base.html", "<title>{% block title %}{% endblock %}</title>")
    write(
        tmp_path / "templates" / "page.html",
        '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}',
    )
    write(tmp_path / "templates" / "shared.html", "app version")
    write(tmp_path / "static" / "css" / "site.css", "body { margin: 0 }")
    write(tmp_path / "admin" / "templates" / "admin" / "index.html", "admin {{ user }}")
    write(tmp_path / "admin" / "templates" / "shared.html", "blueprint version")
    write(tmp_path / "admin" / "static" / "admin.js", "console.log('admin')")
    return tmp_path
