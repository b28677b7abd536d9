"""The taskboard's app factory, and the app ``kettle run examples/taskboard/app.py:app``
serves (``bash scripts/serve``).

``create_app(settings)`` puts the pieces together: the database (SQLAlchemy async,
migrated by Alembic at startup), login sessions, CSRF on every form, the pages, the JSON
API under ``/api`` with its OpenAPI document and ``/docs``, live updates on channels,
HTML error pages, and the ``init-db`` and ``seed`` commands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

import click

from kettle import JSONResponse, Kettle, Limits, Response, render_template, request
from kettle.channels import Channels
from kettle.globals import has_request_context
from kettle.health import Health
from kettle.login import LoginManager
from kettle.middleware.accesslog import AccessLogMiddleware, configure_logging
from kettle.middleware.csrf import CSRFMiddleware
from kettle.middleware.metrics import MetricsMiddleware
from kettle.security.passwords import PasswordHasher
from kettle.security.tokens import JWT

from . import api, auth, live, pages, seed
from .db import Database
from .settings import DEV_SECRET, Settings

logger = logging.getLogger("taskboard")


def create_app(settings: Settings | None = None) -> Kettle:
    """A new taskboard; ``settings`` default to the environment's (see ``settings.py``)."""
    settings = settings or Settings()
    if settings.secret_key == DEV_SECRET:
        logger.warning(
            "TASKBOARD_SECRET_KEY is not set: using the development key (never deploy so)"
        )
    # Uploads are the largest bodies: a form with one file, plus its other fields.
    limits = Limits(
        max_body_size=settings.max_upload_bytes + 64 * 1024,
        spool_max_size=256 * 1024,
    )
    app = Kettle(
        __name__,
        title="Taskboard API",
        version="1.0.0",
        description="The tasks of the board, for scripts and other services.",
        limits=limits,
        swagger_ui_init_oauth={"clientId": "taskboard-docs", "scopes": " ".join(api.SCOPES)},
    )
    app.secret_key = settings.secret_key
    app.state.settings = settings
    app.state.db = database = Database(settings.database_url)
    app.state.hasher = (
        PasswordHasher.for_tests() if settings.fast_password_hashing else PasswordHasher()
    )
    app.state.tokens = JWT(
        settings.secret_key,
        issuer="taskboard",
        audience="taskboard-api",
        expires_in=timedelta(minutes=settings.token_minutes),
    )
    app.state.channels = Channels(settings.redis_url, history=50, app=app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(live.bp)
    app.include_router(api.router)

    login = LoginManager(app, login_view="auth.login")
    login.user_loader(auth.load_user)
    login.login_message = "Please sign in to see the board."
    # Forms post with the session cookie: each carries the CSRF token. The API takes
    # bearer tokens, never the session, so it has nothing to protect this way.
    app.add_middleware(CSRFMiddleware, exempt=["/api/*"])
    # Operations (docs/observability.md): an access record per request, with the request
    # id every log line of that request carries; request counts and latencies by route
    # template for Prometheus when asked for.
    if settings.access_log:
        app.add_middleware(AccessLogMiddleware)
    if settings.metrics:
        app.add_middleware(MetricsMiddleware, path="/metrics")
    # Probes for the load balancer (docs/deploy.md), added last so they answer before
    # CSRF, sessions and login: /healthz while the process serves, /readyz once started,
    # while the database answers and until the worker drains for shutdown.
    health = Health(app)
    health.add_check("database", database.ping, timeout=2)

    @app.on_startup
    async def prepare() -> None:
        if settings.log_setup:
            _set_up_logging(json=settings.log_json)
        await database.migrate()
        settings.upload_dir.mkdir(parents=True, exist_ok=True)
        if settings.demo_data:
            await seed.demo(database, app.state.hasher)

    @app.on_shutdown
    async def close() -> None:
        await database.dispose()

    # HTML error pages for the pages (kettle's default error body is JSON, for APIs): the
    # blueprints' errors, requests no route takes, and unhandled errors (a 500).
    for blueprint in (auth.bp, pages.bp, live.bp):
        for status in (400, 403, 404, 405, 409, 413, 415, 422):
            blueprint.register_error_handler(status, _error_page)
    for status in (404, 405, 500):
        app.register_error_handler(status, _error_page)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create or upgrade the tables (Alembic migrations)."""
        asyncio.run(_migrate(database))
        click.echo(f"Database ready: {database.engine.url.render_as_string(hide_password=True)}")

    @app.cli.command("db-revision")
    @click.argument("message")
    def db_revision(message: str) -> None:
        """Write a migration for what changed in models.py (review it before committing)."""

        async def run() -> None:
            await database.new_revision(message)
            await database.dispose()

        asyncio.run(run())

    @app.cli.command("seed")
    def seed_command() -> None:
        """Add the demo account and a few tasks (when the database has no users)."""

        async def run() -> bool:
            await database.migrate()
            added = await seed.demo(database, app.state.hasher)
            await database.dispose()
            return added

        added = asyncio.run(run())
        click.echo(
            f"Demo account: {seed.DEMO_EMAIL} / {seed.DEMO_PASSWORD}"
            if added
            else "The database already has users: nothing added."
        )

    return app


_log_handler: logging.Handler | None = None


def _set_up_logging(*, json: bool) -> None:
    """Log lines (the access records and the app's own) on stderr, each with its request
    id; once per process, however many apps start in it."""
    global _log_handler
    if _log_handler is None:
        _log_handler = configure_logging(json=json)


async def _migrate(database: Database) -> None:
    await database.migrate()
    await database.dispose()


def _error_page(exc: Exception) -> Response | tuple[str, int, Mapping[str, str]]:
    """An error page in the site's layout; under ``/api`` kettle's JSON error body."""
    status = getattr(exc, "status_code", 500)
    headers = dict(getattr(exc, "headers", None) or {})
    if not has_request_context():
        # A refusal from middleware (CSRFMiddleware's 403) comes before any request
        # context exists: no templates or current_user there, so a bare page.
        return Response(
            f"<!doctype html><h1>{status}</h1>", status, headers, media_type="text/html"
        )
    if request.path.startswith("/api/"):
        detail = getattr(exc, "detail", None) if status < 500 else "Internal Server Error"
        return JSONResponse({"detail": detail}, status, headers)
    return render_template("error.html", error=exc, status=status), status, headers


app = create_app()
