"""``fastapi.staticfiles`` (and ``starlette.staticfiles``): kettle's safe static serving."""

from kettle.staticfiles import StaticFiles

__all__ = ["StaticFiles"]
