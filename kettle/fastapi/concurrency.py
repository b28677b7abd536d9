"""``fastapi.concurrency`` (and ``starlette.concurrency``): on kettle's bounded thread pool."""

from kettle.blocking import contextmanager_in_threadpool, iterate_in_threadpool, run_in_threadpool

__all__ = ["contextmanager_in_threadpool", "iterate_in_threadpool", "run_in_threadpool"]
