"""The JSON API under ``/api``: the same tasks, for scripts and other services.

OAuth2's password flow gives a JWT (``POST /api/token``) with the scopes the account
holds and asked for: ``tasks:read`` to list and read, ``tasks:write`` to change.
Listings are paged and filtered; a task carries an ``ETag`` (its version), so a client
can ask ``If-None-Match`` (a ``304`` when unchanged) and change it only ``If-Match``
(a ``412`` when someone else changed it first). The document is at ``/openapi.json``
and ``/docs`` has a working Authorize button.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from kettle import Depends, Header, HTTPException, Query, Response, Router, current_app
from kettle.security import (
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    Security,
    SecurityScopes,
)

from . import tasks
from .db import Session
from .models import Status, Task, User

SCOPES = {"tasks:read": "List and read tasks", "tasks:write": "Create, change and delete tasks"}
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", scopes=SCOPES)
router = Router(prefix="/api")


class Problem(BaseModel):
    """What an error says (kettle's error body)."""

    detail: str


def problems(**described: str) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for errors: ``problems(**{"404": "No such task"})``."""
    return {int(code): {"model": Problem, "description": text} for code, text in described.items()}


#: what every operation behind a token may answer
SECURED = problems(**{"401": "No valid token", "403": "The token lacks a scope"})


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    url: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    status: Status
    author: str
    created_at: datetime
    updated_at: datetime
    version: int
    attachments: list[AttachmentOut]


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=tasks.MAX_TITLE, pattern=r"\S")
    description: str = Field(default="", max_length=tasks.MAX_DESCRIPTION)
    status: Status = Status.todo


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=tasks.MAX_TITLE, pattern=r"\S")
    description: str | None = Field(default=None, max_length=tasks.MAX_DESCRIPTION)
    status: Status | None = None


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    page: int
    per_page: int
    pages: int


class Me(BaseModel):
    id: int
    email: str
    name: str
    scopes: list[str]


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.id,
        title=task.title,
        description=task.description,
        status=task.status,
        author=task.author.name,
        created_at=task.created_at,
        updated_at=task.updated_at,
        version=task.version,
        attachments=[
            AttachmentOut(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                url=f"/files/{a.stored_name}",
            )
            for a in task.attachments
        ],
    )


def etag(task: Task) -> str:
    return f'"{task.id}-{task.version}"'


_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


@router.post(
    "/token",
    response_model=Token,
    tags=["auth"],
    responses=problems(**{"401": "Incorrect email or password"}),
)
async def token(session: Session, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange an email and password for an access token (OAuth2 password flow)."""
    user = await session.scalar(select(User).where(User.email == form.username.strip().lower()))
    hasher = current_app.state.hasher
    ok = await current_app.thread_pool.run(
        hasher.verify, form.password, user.password_hash if user else None
    )
    if not ok or user is None:
        raise HTTPException(401, "Incorrect email or password", headers=_UNAUTHORIZED)
    # Every member may read and write; a client gets only the scopes it asked for (all
    # of them when it names none).
    granted = sorted(set(form.scopes) & set(SCOPES)) if form.scopes else sorted(SCOPES)
    jwt = current_app.state.tokens
    encoded = jwt.encode({"scope": " ".join(granted)}, subject=str(user.id))
    return Token(
        access_token=encoded,
        expires_in=int(jwt.expires_in.total_seconds()),
        scope=" ".join(granted),
    )


async def api_user(
    security_scopes: SecurityScopes, session: Session, raw: Annotated[str, Depends(oauth2)]
) -> User:
    # A bad, expired or forged token raises InvalidTokenError: a 401 saying why.
    claims = current_app.state.tokens.decode(raw)
    subject = str(claims.get("sub", ""))
    user = await session.get(User, int(subject)) if subject.isdigit() else None
    if user is None:
        raise HTTPException(401, "Could not validate credentials", headers=_UNAUTHORIZED)
    held = set(str(claims.get("scope", "")).split())
    if not set(security_scopes.scopes) <= held:
        challenge = f'Bearer error="insufficient_scope", scope="{security_scopes.scope_str}"'
        raise HTTPException(403, "Not enough permissions", {"WWW-Authenticate": challenge})
    return user


Reader = Annotated[User, Security(api_user, scopes=["tasks:read"])]
Writer = Annotated[User, Security(api_user, scopes=["tasks:write"])]


@router.get("/me", response_model=Me, tags=["auth"], responses=SECURED)
async def me(user: Annotated[User, Security(api_user)], raw: Annotated[str, Depends(oauth2)]) -> Me:
    scopes = sorted(str(current_app.state.tokens.decode(raw).get("scope", "")).split())
    return Me(id=user.id, email=user.email, name=user.name, scopes=scopes)


@router.get("/tasks", response_model=TaskPage, tags=["tasks"], responses=SECURED)
async def list_tasks(
    session: Session,
    user: Reader,
    q: Annotated[
        str | None, Query(max_length=100, description="Search titles and descriptions")
    ] = None,
    status: Status | None = None,
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TaskPage:
    """Tasks, newest first."""
    found = await tasks.list_tasks(
        session,
        search=q,
        status=status,
        author_id=user.id if mine else None,
        page=page,
        per_page=per_page,
    )
    return TaskPage(
        items=[task_out(t) for t in found.items],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        pages=found.pages,
    )


async def _task(session: Session, task_id: int) -> Task:
    task = await tasks.get_task(session, task_id)
    if task is None:
        raise HTTPException(404, "Task not found")
    return task


@router.get(
    "/tasks/{task_id:int}",
    tags=["tasks"],
    response_model=TaskOut,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        404: {"description": "No such task"},
    },
)
async def read_task(
    session: Session,
    user: Reader,
    task_id: int,
    response: Response,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> TaskOut | Response:
    task = await _task(session, task_id)
    tag = etag(task)
    if if_none_match is not None and tag in {t.strip() for t in if_none_match.split(",")}:
        return Response(None, 304, {"ETag": tag})
    response.headers["ETag"] = tag
    return task_out(task)


@router.post("/tasks", response_model=TaskOut, status_code=201, tags=["tasks"], responses=SECURED)
async def create_task(session: Session, user: Writer, body: TaskIn, response: Response) -> TaskOut:
    task = await tasks.create_task(session, user, body.title, body.description, body.status)
    response.headers["ETag"] = etag(task)
    response.headers["Location"] = f"/api/tasks/{task.id}"
    return task_out(task)


def _check_precondition(task: Task, if_match: str | None) -> None:
    if (
        if_match is not None
        and if_match.strip() != "*"
        and etag(task) not in {t.strip() for t in if_match.split(",")}
    ):
        raise HTTPException(412, "The task changed since you read it (If-Match)")


@router.patch(
    "/tasks/{task_id:int}",
    tags=["tasks"],
    response_model=TaskOut,
    responses={
        **SECURED,
        **problems(**{"404": "No such task", "412": "Changed since read (If-Match)"}),
    },
)
async def update_task(
    session: Session,
    user: Writer,
    task_id: int,
    body: TaskPatch,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> TaskOut:
    task = await _task(session, task_id)
    _check_precondition(task, if_match)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    task = await tasks.update_task(session, task, **changes)
    response.headers["ETag"] = etag(task)
    return task_out(task)


@router.delete(
    "/tasks/{task_id:int}",
    tags=["tasks"],
    status_code=204,
    responses={
        **SECURED,
        **problems(**{"403": "Not the author", "404": "No such task", "412": "Changed since read"}),
    },
)
async def delete_task(
    session: Session,
    user: Writer,
    task_id: int,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> None:
    task = await _task(session, task_id)
    if task.author_id != user.id:
        raise HTTPException(403, "Only the task's author can delete it")
    _check_precondition(task, if_match)
    await tasks.delete_task(session, task)
