"""The users table in SQLite (stdlib ``sqlite3``): created on startup, one connection per call."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '',
    disabled INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class UserRow:
    username: str
    full_name: str
    password_hash: str
    scopes: frozenset[str]
    disabled: bool


def connect(path: str | Path) -> sqlite3.Connection:
    # A short-lived connection per call: sqlite3 connections belong to one thread, and
    # handlers run in the thread pool.
    return sqlite3.connect(path)


def init(path: str | Path) -> None:
    """Create the database file and its table if they do not exist yet."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as conn:
        conn.execute(SCHEMA)


def add_user(
    path: str | Path, username: str, full_name: str, password_hash: str, scopes: set[str]
) -> None:
    with connect(path) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO users (username, full_name, password_hash, scopes)"
            " VALUES (?, ?, ?, ?)",
            (username, full_name, password_hash, " ".join(sorted(scopes))),
        )


def count_users(path: str | Path) -> int:
    with connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def find_user(path: str | Path, username: str) -> UserRow | None:
    with connect(path) as conn:
        row = conn.execute(
            "SELECT username, full_name, password_hash, scopes, disabled FROM users"
            " WHERE username = ?",
            (username,),
        ).fetchone()
    if row is None:
        return None
    return UserRow(row[0], row[1], row[2], frozenset(row[3].split()), bool(row[4]))


def update_hash(path: str | Path, username: str, password_hash: str) -> None:
    with connect(path) as conn:
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
        )
