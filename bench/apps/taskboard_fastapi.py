"""The taskboard's API read (``GET /api/tasks/{id}``) written for FastAPI, on the same
database, models, token check and output model, for ``bench/taskboard.py``.

Run by uvicorn as ``bench.apps.taskboard_fastapi:app`` with the taskboard's environment
(``TASKBOARD_DATABASE_URL``, ``TASKBOARD_SECRET_KEY``): the same SQLite file the kettle
server made and seeded.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from examples.taskboard import api as taskboard_api
from examples.taskboard.db import Database
from examples.taskboard.models import Task, User
from examples.taskboard.settings import Settings
from kettle.security.tokens import JWT

settings = Settings()
database = Database(settings.database_url)
tokens = JWT(
    settings.secret_key,
    issuer="taskboard",
    audience="taskboard-api",
    expires_in=timedelta(minutes=settings.token_minutes),
)
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token")
app = FastAPI(openapi_url=None)


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
