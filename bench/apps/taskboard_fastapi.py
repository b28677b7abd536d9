"""The taskboard's board page (``GET /``) and API read (``GET /api/tasks/{id}``) written
for FastAPI, on the same database, models, queries, templates, token check and output
model, for ``bench/taskboard.py``.

Run by uvicorn as ``bench.apps.taskboard_fastapi:app`` with the taskboard's environment
(``TASKBOARD_DATABASE_URL``, ``TASKBOARD_SECRET_KEY``): the same SQLite file the kettle
server made and seeded.

The page reads the session cookie kettle's login wrote (itsdangerous, the same key, salt
and digest; Starlette's own session middleware signs another format), loads the user, runs
``examples/taskboard/tasks.list_tasks`` and renders the example's ``tasks/list.html``
through ``Jinja2Templates``.
"""

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Cookie, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordBearer
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from examples.taskboard import api as taskboard_api
from examples.taskboard import tasks
from examples.taskboard.db import Database
from examples.taskboard.models import Status, Task, User
from examples.taskboard.settings import Settings
from kettle.security.tokens import JWT

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "taskboard"
settings = Settings()
database = Database(settings.database_url)
tokens = JWT(
    settings.secret_key,
    issuer="taskboard",
    audience="taskboard-api",
    expires_in=timedelta(minutes=settings.token_minutes),
)
# kettle's session cookie: Flask's format, HMAC-SHA256.
cookies = URLSafeTimedSerializer(
    settings.secret_key,
    salt="cookie-session",
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
)
csrf_signer = URLSafeTimedSerializer(settings.secret_key, salt="kettle.csrf")
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token")
app = FastAPI(openapi_url=None)
app.mount("/static", StaticFiles(directory=EXAMPLE / "static"), name="static")
templates = Jinja2Templates(directory=EXAMPLE / "templates")


@pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    # The example's templates say url_for('static', filename=...), Flask's spelling.
    if "filename" in params:
        params["path"] = params.pop("filename")
    return str(context["request"].app.url_path_for(name, **params))


def csrf_input(secret: object) -> Markup:
    # As kettle's: the session's CSRF secret, signed (the page's forms carry it).
    token = csrf_signer.dumps(secret if isinstance(secret, str) else "")
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(token))


templates.env.globals["url_for"] = url_for


async def session() -> AsyncIterator[AsyncSession]:
    async with database.sessions() as opened:
        yield opened


async def reader(
    raw: Annotated[str, Depends(oauth2)], db: Annotated[AsyncSession, Depends(session)]
) -> User:
    claims = tokens.decode(raw)
    subject = str(claims.get("sub", ""))
    user = await db.get(User, int(subject)) if subject.isdigit() else None
    if user is None or "tasks:read" not in str(claims.get("scope", "")).split():
        raise HTTPException(401, "Could not validate credentials")
    return user


def cookie_session(cookie: Annotated[str | None, Cookie(alias="session")] = None) -> dict[str, Any]:
    if not cookie:
        return {}
    try:
        data = cookies.loads(cookie, max_age=31 * 24 * 3600)
    except BadData:
        return {}
    return data if isinstance(data, dict) else {}


@app.get("/", response_class=HTMLResponse)
async def board(
    request: Request,
    data: Annotated[dict[str, Any], Depends(cookie_session)],
    db: Annotated[AsyncSession, Depends(session)],
) -> Response:
    user_id = str(data.get("_user_id", ""))
    user = await db.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None:
        return RedirectResponse("/login", status_code=302)
    page = await tasks.list_tasks(db, per_page=settings.page_size)
    return templates.TemplateResponse(
        request,
        "tasks/list.html",
        {
            "page": page,
            "search": "",
            "status": None,
            "statuses": list(Status),
            "current_user": user,
            "csrf_input": lambda: csrf_input(data.get("_csrf_secret")),
            "get_flashed_messages": lambda with_categories=False: [],
        },
    )


@app.get("/api/tasks/{task_id}", response_model=taskboard_api.TaskOut)
async def read_task(
    task_id: int,
    user: Annotated[User, Depends(reader)],
    db: Annotated[AsyncSession, Depends(session)],
) -> taskboard_api.TaskOut:
    task = await db.get(Task, task_id)
    if task is None:
        raise HTTPException(404, "Task not found")
    return taskboard_api.task_out(task)


# The names the example's templates link to (url_for): never requested by the benchmark.
async def _unused() -> None:
    raise HTTPException(404)


for _path, _name, _method in (
    ("/tasks/new", "pages.create", "GET"),
    ("/tasks/{task_id:int}", "pages.detail", "GET"),
    ("/login", "auth.login", "GET"),
    ("/signup", "auth.signup", "GET"),
    ("/logout", "auth.logout", "POST"),
    ("/profile", "auth.profile", "GET"),
):
    app.add_api_route(_path, _unused, methods=[_method], name=_name, include_in_schema=False)
