"""The demo account and a few tasks, so a new board has something to show."""

from __future__ import annotations

from sqlalchemy import func, select

from kettle.security.passwords import PasswordHasher

from .db import Database
from .models import Status, Task, User

DEMO_EMAIL = "demo@taskboard.example"
DEMO_PASSWORD = "kettle-demo"
DEMO_TASKS = [
    ("Write the release notes", "Summarise what changed since the last release.", Status.doing),
    (
        "Fix the login redirect",
        "After signing in, users should land where they started.",
        Status.todo,
    ),
    ("Set up the Postgres backups", "Nightly dumps, kept for 30 days.", Status.todo),
    ("Design the new board header", "", Status.done),
]


async def demo(database: Database, hasher: PasswordHasher) -> bool:
    """Add the demo account and tasks when there are no users yet; whether it did."""
    async with database.sessions() as session:
        if await session.scalar(select(func.count()).select_from(User)):
            return False
        user = User(email=DEMO_EMAIL, name="Demo User", password_hash=hasher.hash(DEMO_PASSWORD))
        session.add(user)
        await session.flush()
        for title, description, status in DEMO_TASKS:
            session.add(
                Task(title=title, description=description, status=status, author_id=user.id)
            )
        await session.commit()
    return True
