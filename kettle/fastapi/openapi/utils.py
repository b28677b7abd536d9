"""``fastapi.openapi.utils``: ``get_openapi``, for an app writing its own document.

Example:
    >>> from kettle.fastapi import FastAPI
    >>> from kettle.fastapi.openapi.utils import get_openapi
    >>> app = FastAPI()
    >>> get_openapi(title="Custom", version="2.5.0", routes=app.routes)["info"]
    {'title': 'Custom', 'version': '2.5.0'}
"""

from kettle.openapi.document import get_openapi

__all__ = ["get_openapi"]
