"""What ``kettle run --reload`` serves: the app, or a page saying why it cannot be imported.

With ``--reload`` each server process imports the app by name. When an edit breaks that
import (a syntax error, say), uvicorn's reloader keeps the listening socket but has no
app to answer: browsers would wait on a connection nobody accepts. kettle gives uvicorn
:func:`app_or_error_page` instead, which imports the app and, when that fails, serves an
answer to every request until the next edit: in debug mode a page naming the file, the
line and the error; otherwise a plain 500 (the details are in the server's log).
"""

from __future__ import annotations

import html
import importlib
import json
import logging
import os
import traceback
from typing import Any

from kettle.types import Receive, Scope, Send

__all__ = ["RELOAD_ENV", "ImportErrorApp", "app_or_error_page", "reload_settings"]

#: the environment variable ``kettle run --reload`` passes the app's name in
RELOAD_ENV = "KETTLE_RELOADED_APP"

logger = logging.getLogger("kettle.error")


def reload_settings(target: str, factory: bool) -> str:
    """The value of :data:`RELOAD_ENV` for :func:`app_or_error_page`.

    Example:
        >>> reload_settings("web:app", False)
        '{"target":"web:app","factory":false}'
    """
    return json.dumps({"target": target, "factory": factory}, separators=(",", ":"))


def app_or_error_page() -> Any:
    """The app named in :data:`RELOAD_ENV`, or an :class:`ImportErrorApp` saying why it
    cannot be imported (a uvicorn factory)."""
    settings = json.loads(os.environ[RELOAD_ENV])
    module_name, _, attr = settings["target"].partition(":")
    try:
        app: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            app = getattr(app, part)
        return app() if settings["factory"] else app
    except Exception as exc:
        logger.error(
            "The app %s cannot be imported: every request gets an error until the next edit",
            settings["target"],
            exc_info=exc,
        )
        debug = os.environ.get("KETTLE_DEBUG", "").lower() in ("1", "true", "yes")
        return ImportErrorApp(exc, debug=debug)


def _where(exc: BaseException) -> tuple[str | None, int | None, str | None]:
    """The file, line and source text the error points at."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno, (exc.text or "").rstrip("\n") or None
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    if frames:
        last = frames[-1]
        return last.filename, last.lineno, last.line
    return None, None, None


class ImportErrorApp:
    """An ASGI app answering every request with why the real app cannot be imported.

    Example:
        >>> error = SyntaxError("invalid syntax", ("web.py", 4, 12, "def broken(:\\n"))
        >>> ImportErrorApp(error, debug=True).page().decode()[56:97]
        '<h1>SyntaxError in web.py, line 4</h1><p>'
        >>> ImportErrorApp(error, debug=False).page()
        b'Internal Server Error'
    """

    def __init__(self, exc: BaseException, *, debug: bool) -> None:
        self.exc = exc
        self.debug = debug

    def page(self) -> bytes:
        if not self.debug:
            return b"Internal Server Error"
        filename, line, text = _where(self.exc)
        kind = type(self.exc).__name__
        message = html.escape(getattr(self.exc, "msg", None) or str(self.exc))
        where = f"{html.escape(filename)}, line {line}" if filename else "an unknown place"
        source = f"<pre>{html.escape(text)}</pre>" if text else ""
        return (
            "<!doctype html><title>The app cannot be imported</title>"
            f"<h1>{kind} in {where}</h1><p>{message}</p>{source}"
            "<p>Fix it and save: the server reloads by itself.</p>"
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1011, "reason": ""})
            return
        body = self.page()
        media = b"text/html; charset=utf-8" if self.debug else b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", b"%d" % len(body)),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
