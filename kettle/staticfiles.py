"""Serving a folder of static files (the app's and each blueprint's ``static/``).

Files never leave their folder (see :func:`kettle.helpers.safe_join`), folders are not
listed (404), and ``ETag``/``Last-Modified``, conditional GET and ranges come from
:class:`~kettle.fileresponse.FileResponse`. A ``style.css.gz`` is served as
``application/gzip`` with no ``Content-Encoding``, exactly the bytes on disk; asking for
``style.css`` never returns the compressed file.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import timedelta

from kettle.exceptions import HTTPException
from kettle.helpers import existing_file
from kettle.requests import Request
from kettle.responses import Response

__all__ = ["cache_control", "serve_static", "static_endpoint"]

MaxAge = int | timedelta | None


def cache_control(max_age: MaxAge) -> str:
    """``Cache-Control`` for static files: ``public, max-age=N``, or ``no-cache``.

    ``no-cache`` (the default) still lets browsers keep the file, but they revalidate it
    with its ``ETag`` each time: a cheap 304, and never a stale file after a deploy.

    Example:
        >>> from datetime import timedelta
        >>> cache_control(None), cache_control(3600), cache_control(timedelta(days=1))
        ('no-cache', 'public, max-age=3600', 'public, max-age=86400')
    """
    seconds = int(max_age.total_seconds()) if isinstance(max_age, timedelta) else max_age
    if not seconds or seconds < 0:
        return "no-cache"
    return f"public, max-age={seconds}"


def serve_static(
    root: str | os.PathLike[str],
    path: str,
    request: Request | None = None,
    max_age: MaxAge = None,
) -> Response:
    """The response for static file ``path`` (as it came in the URL) under ``root``.

    Args:
        root: the static folder.
        path: the part of the URL after the static prefix.
        request: when given, methods other than GET and HEAD get a 405.
        max_age: seconds browsers may use the file without asking (see
            :func:`cache_control`).

    Raises:
        HTTPException: 404 for anything that is not a regular file inside ``root``;
            405 for other methods.

    Example:
        >>> import pathlib, tempfile
        >>> from kettle import Kettle
        >>> from kettle.staticfiles import serve_static
        >>> from kettle.testing import TestClient
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "site.css").write_text("body {}")
        >>> app = Kettle(__name__)
        >>> @app.get("/static/{filename:path}")
        ... async def static(filename: str):
        ...     return serve_static(root, filename, max_age=60)
        >>> r = TestClient(app).get("/static/site.css")
        >>> r.status_code, r.headers["content-type"], r.headers["cache-control"]
        (200, 'text/css; charset=utf-8', 'public, max-age=60')
    """
    if request is not None and request.method not in ("GET", "HEAD"):
        raise HTTPException(405, headers={"Allow": "GET, HEAD"})
    target = existing_file(root, path)
    from kettle.fileresponse import FileResponse

    return FileResponse(
        target,
        headers={"cache-control": cache_control(max_age)},
        content_disposition_type="inline",
    )


def static_endpoint(
    root: str | os.PathLike[str],
    max_age: MaxAge | Callable[[], MaxAge] = None,
) -> Callable[[str], Awaitable[Response]]:
    """A route handler serving ``root``, for ``/static/{filename:path}``.

    ``max_age`` may be a callable, read on each request (so a config change applies).

    Example:
        >>> import tempfile
        >>> from kettle import Kettle
        >>> from kettle.staticfiles import static_endpoint
        >>> app = Kettle(__name__)
        >>> _ = app.add_route("/static/{filename:path}", static_endpoint(tempfile.mkdtemp()),
        ...                   name="static")
        >>> app.url_path_for("static", filename="css/site.css")
        '/static/css/site.css'
    """
    folder = os.fspath(root)

    async def static(filename: str) -> Response:
        age = max_age() if callable(max_age) else max_age
        return serve_static(folder, filename, max_age=age)

    return static
