"""The taskboard's settings, read from the environment by pydantic-settings.

Every setting has a ``TASKBOARD_`` variable (``TASKBOARD_SECRET_KEY``...); the two URLs
the deployment shares with other services also answer to their usual names,
``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: where a local run keeps its database and uploads: ``instance/`` in the directory the
#: app is started from, never inside the package (which ``kettle new`` copies)
INSTANCE = Path.cwd() / "instance"

#: Signs sessions and tokens when no secret is set. FOR DEVELOPMENT ONLY: it is public.
DEV_SECRET = "dev-only-insecure-taskboard-secret"


class Settings(BaseSettings):
    """What the app reads at startup.

    Example:
        >>> Settings(database_url="sqlite+aiosqlite://", demo_data=False).demo_data
        False
    """

    model_config = SettingsConfigDict(env_prefix="TASKBOARD_", extra="ignore")

    #: SQLAlchemy's async URL: SQLite (aiosqlite) by default, Postgres with
    #: ``postgresql+asyncpg://user:password@host/db``
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{INSTANCE / 'taskboard.sqlite'}",
        validation_alias=AliasChoices("TASKBOARD_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    #: live updates go through Redis when set (every worker and host sees every change)
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TASKBOARD_REDIS_URL", "REDIS_URL", "redis_url"),
    )
    secret_key: str = DEV_SECRET
    #: where attachments and avatars are stored (created on startup)
    upload_dir: Path = INSTANCE / "uploads"
    max_upload_bytes: int = 2 * 1024 * 1024
    #: minutes an API access token lives
    token_minutes: int = 30
    #: tasks per page on the pages and, by default, in the API
    page_size: int = 10
    #: a demo account and a few tasks when the database is empty (shown on the login page)
    demo_data: bool = True
    #: cheap password hashing, for the test suite only
    fast_password_hashing: bool = False
    #: Prometheus metrics at ``/metrics`` (``TASKBOARD_METRICS=1``; under ``--workers N``
    #: set ``PROMETHEUS_MULTIPROC_DIR`` too, see docs/observability.md)
    metrics: bool = False
    #: one access record per request, with its request id (``X-Request-ID``)
    access_log: bool = True
    #: log lines as JSON objects rather than text (``TASKBOARD_LOG_JSON=1``)
    log_json: bool = False
    #: set up the process's logging at startup (off when the host configures it itself)
    log_setup: bool = True
