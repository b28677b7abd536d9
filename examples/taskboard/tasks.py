"""What the pages and the API both do with tasks: list, search, page, change.

Every change is published on the ``tasks`` channel (:mod:`.live`), so the board open in
other browsers updates itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Status, Task, User

MAX_TITLE = 200
MAX_DESCRIPTION = 5000


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list[Task]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _like(text: str) -> str:
    # The user's % and _ are matched literally.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_tasks(
    session: AsyncSession,
    *,
    search: str | None = None,
    status: Status | None = None,
    author_id: int | None = None,
    page: int = 1,
    per_page: int = 10,
) -> Page:
    """Tasks, newest first, filtered by a search text (title or description), a status
    and an author."""
    query = select(Task)
    if search:
        pattern = _like(search)
        query = query.where(
            or_(
                Task.title.ilike(pattern, escape="\\"), Task.description.ilike(pattern, escape="\\")
            )
        )
    if status is not None:
        query = query.where(Task.status == status)
    if author_id is not None:
        query = query.where(Task.author_id == author_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Task.created_at.desc(), Task.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(rows.unique()), total, page, per_page)


async def get_task(session: AsyncSession, task_id: int) -> Task | None:
    return await session.get(Task, task_id)


def check(title: str, description: str) -> list[str]:
    """What is wrong with a task's fields (empty: nothing)."""
    problems = []
    if not title.strip():
        problems.append("A task needs a title.")
    elif len(title) > MAX_TITLE:
        problems.append(f"Titles have at most {MAX_TITLE} characters.")
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"Descriptions have at most {MAX_DESCRIPTION} characters.")
    return problems


async def create_task(
    session: AsyncSession,
    author: User,
    title: str,
    description: str = "",
    status: Status = Status.todo,
) -> Task:
    task = Task(title=title.strip(), description=description, status=status, author_id=author.id)
    session.add(task)
    await session.commit()
    await session.refresh(task)
    await publish("created", task)
    return task


async def update_task(session: AsyncSession, task: Task, **changes: Any) -> Task:
    for name, value in changes.items():
        if value is not None:
            setattr(task, name, value.strip() if name == "title" else value)
    await session.commit()
    await session.refresh(task)
    await publish("updated", task)
    return task


async def delete_task(session: AsyncSession, task: Task) -> None:
    """Delete ``task``, its attachments and their stored files."""
    from . import live
    from .uploads import upload_dir

    task_id = task.id
    names = [a.stored_name for a in task.attachments]
    await session.delete(task)
    await session.commit()
    for name in names:
        (upload_dir() / name).unlink(missing_ok=True)

    await live.publish({"action": "deleted", "id": task_id})


async def publish(action: str, task: Task) -> None:
    from . import live

    await live.publish(
        {
            "action": action,
            "id": task.id,
            "title": task.title,
            "status": str(task.status),
            "author": task.author.name,
            "version": task.version,
        }
    )
