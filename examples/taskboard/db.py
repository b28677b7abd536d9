"""The database: one async engine per app, a session per request, migrations by Alembic.

``Database(url)`` is made once by the app factory. Handlers take a session through the
``Session`` dependency (one per request, closed after the response); the CLI's
``init-db`` and the app's startup run the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kettle import Depends, current_app

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Database:
    """An engine and its session factory.

    Example:
        >>> import asyncio
        >>> db = Database("sqlite+aiosqlite://")
        >>> asyncio.run(db.migrate())
        >>> asyncio.run(db.dispose())
    """

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            if url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"):
                # One shared connection, or each session would see its own empty database.
                from sqlalchemy.pool import StaticPool

                options["poolclass"] = StaticPool
            options["connect_args"] = {"check_same_thread": False}
            path = url.partition(":///")[2]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            options["pool_pre_ping"] = True
        self.engine = create_async_engine(url, **options)
        if url.startswith("sqlite"):
            # SQLite enforces foreign keys (ON DELETE CASCADE) only when asked, per connection.
            @event.listens_for(self.engine.sync_engine, "connect")
            def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        """Run ``SELECT 1``: the readiness check (raises when the database is unreachable)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (``init-db`` and startup)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_alembic, command.upgrade, revision)

    async def new_revision(self, message: str) -> None:
        """Write a migration for what the models changed (``db-revision``)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(
                _alembic, command.revision, message=message, autogenerate=True
            )

    async def ready(self) -> bool:
        """Whether the database answers (the readiness probe)."""
        from sqlalchemy import text

        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def _alembic(connection: Connection, run: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    from .models import Base

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = Base.metadata
    run(config, *args, **kwargs)


async def _session() -> AsyncIterator[AsyncSession]:
    database: Database = current_app.state.db
    async with database.sessions() as session:
        yield session


#: ``session: Session`` in a handler: this request's database session
Session = Annotated[AsyncSession, Depends(_session)]
