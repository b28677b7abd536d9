"""``fastapi.background``."""

from kettle.background import BackgroundTasks

__all__ = ["BackgroundTasks"]
