"""The database: SQLite through the standard library, one connection per request on ``g``."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from kettle import Kettle, current_app, g

SCHEMA = Path(__file__).with_name("schema.sql")


def get_db() -> sqlite3.Connection:
    """The current request's connection, opened on first use and closed by ``close_db``."""
    if "db" not in g:
        path = os.fspath(current_app.config["DATABASE"])
        folder = os.path.dirname(path)
        if folder:
            # The default database lives in instance/, made here rather than at import.
            os.makedirs(folder, exist_ok=True)
        # check_same_thread=False: kettle runs each plain-def hook and view in a worker
        # thread, and under load one request's before_request hook, view and teardown can
        # land on different threads. The connection is still used by one request at a time,
        # one step after another, which is what SQLite needs.
        db = sqlite3.connect(path, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        g.db = db
    return g.db  # type: ignore[no-any-return]


def close_db(exc: BaseException | None = None) -> None:
    """Close the connection if this request opened one (a ``teardown_request`` hook)."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Create the tables, dropping any that exist."""
    db = get_db()
    db.executescript(SCHEMA.read_text(encoding="utf-8"))
    db.commit()


def init_db_command() -> None:
    """Create the blog's tables (existing posts and users are deleted)."""
    try:
        init_db()
    finally:
        # An app context has no teardown hooks: close the connection here.
        close_db()
    click.echo("Initialized the database.")


def init_app(app: Kettle) -> None:
    """Close the connection after each request and add ``init-db`` to the app's CLI."""
    app.teardown_request(close_db)
    app.cli.command("init-db")(init_db_command)
