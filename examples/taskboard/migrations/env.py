"""Alembic's environment: migrations run on the connection the app hands over
(``Database.migrate``, the ``init-db`` and ``db-revision`` commands), with the models'
metadata it passes along, so this file imports nothing of the app."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "Run the migrations through the app: kettle --app examples/taskboard/app.py:app init-db"
    )
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
