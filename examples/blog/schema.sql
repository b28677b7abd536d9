-- The blog's tables. `kettle --app examples/blog/app.py:app init-db` runs this file,
-- which starts from an empty database: existing tables are dropped.

DROP TABLE IF EXISTS posts;
DROP TABLE IF EXISTS users;

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- an argon2id hash, "$argon2id$v=19$m=...,t=...,p=...$salt$hash" (see auth.py)
    password_hash TEXT NOT NULL
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- UTC, as text: no sqlite3 date adapters (deprecated since Python 3.12) are needed.
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX posts_by_created ON posts (created DESC, id DESC);
