"""The taskboard's board page (``GET /``) and API read (``GET /api/tasks/<id>``) written for
Flask, on the same database, models, templates and output model, for ``bench/taskboard.py``.

Served by gunicorn (one sync worker) as ``bench.apps.taskboard_flask:app`` with the
taskboard's environment (``TASKBOARD_DATABASE_URL``, ``TASKBOARD_SECRET_KEY``): the same
SQLite file the kettle server made and seeded, read through SQLAlchemy's synchronous
``sqlite3`` driver (a Flask app has no event loop for aiosqlite).

The page reads the session cookie kettle's login wrote (Flask's cookie format, signed with
the same key; kettle signs with SHA-256 where Flask defaults to SHA-1), loads the user,
counts and lists the tasks as ``examples/taskboard/tasks.py`` does, and renders the
example's own ``tasks/list.html`` with Flask's Jinja2. The API read checks the bearer JWT
with PyJWT (signature, issuer, audience, expiry, scope), loads the user and the task, and
answers the example's ``TaskOut`` as JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup, escape
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response as BaseResponse

from examples.taskboard import api as taskboard_api
from examples.taskboard.models import Status, Task, User
from examples.taskboard.settings import Settings
from examples.taskboard.tasks import Page

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "taskboard"
settings = Settings()
# The example's URL names the async driver; the same file through the sync one.
engine = create_engine(
    settings.database_url.replace("+aiosqlite", ""),
    connect_args={"check_same_thread": False},
)
sessions = sessionmaker(engine, expire_on_commit=False)
csrf_signer = URLSafeTimedSerializer(settings.secret_key, salt="kettle.csrf")


class KettleCookieSession(SecureCookieSessionInterface):
    """Flask's signed cookie session, with the digest kettle signs with."""

    digest_method = staticmethod(hashlib.sha256)


app = Flask(
    __name__,
    template_folder=str(EXAMPLE / "templates"),
    static_folder=str(EXAMPLE / "static"),
)
app.secret_key = settings.secret_key
app.session_interface = KettleCookieSession()


@contextmanager
def database() -> Iterator[Session]:
    with sessions() as opened:
        yield opened


def csrf_input() -> Markup:
    # As kettle's: the session's CSRF secret, signed (the page's forms carry it).
    secret = session.get("_csrf_secret")
    token = csrf_signer.dumps(secret if isinstance(secret, str) else "")
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


app.jinja_env.globals["csrf_input"] = csrf_input


def list_tasks(db: Session, page: int, per_page: int) -> Page:
    """The queries of ``examples/taskboard/tasks.list_tasks`` without a filter."""
    query = select(Task)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Task.created_at.desc(), Task.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(rows.unique()), total, page, per_page)


@app.get("/")
def board() -> str | BaseResponse:
    user_id = str(session.get("_user_id", ""))
    with database() as db:
        user = db.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None:
            return redirect("/login")
        page = list_tasks(db, 1, settings.page_size)
        return render_template(
            "tasks/list.html",
            page=page,
            search="",
            status=None,
            statuses=list(Status),
            current_user=user,
        )


@app.get("/api/tasks/<int:task_id>")
def read_task(task_id: int) -> Response:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw:
        abort(401)
    try:
        claims = jwt.decode(
            raw,
            settings.secret_key,
            algorithms=["HS256"],
            issuer="taskboard",
            audience="taskboard-api",
            options={"require": ["aud", "exp", "iat", "iss"]},
        )
    except jwt.InvalidTokenError:
        abort(401)
    subject = str(claims.get("sub", ""))
    with database() as db:
        user = db.get(User, int(subject)) if subject.isdigit() else None
        if user is None or "tasks:read" not in str(claims.get("scope", "")).split():
            abort(401)
        task = db.get(Task, task_id)
        if task is None:
            abort(404)
        body = taskboard_api.task_out(task).model_dump_json()
    return Response(body, mimetype="application/json")


# The names the example's templates link to (url_for): never requested by the benchmark.
pages = Blueprint("pages", __name__)
auth = Blueprint("auth", __name__)


@pages.get("/tasks/new")
def create() -> Response:
    abort(404)


@pages.get("/tasks/<int:task_id>")
def detail(task_id: int) -> Response:
    abort(404)


@auth.get("/login")
def login() -> Response:
    abort(404)


@auth.get("/signup")
def signup() -> Response:
    abort(404)


@auth.post("/logout")
def logout() -> Response:
    abort(404)


@auth.get("/profile")
def profile() -> Response:
    abort(404)


app.register_blueprint(pages)
app.register_blueprint(auth)
