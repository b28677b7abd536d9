"""Serving a folder of static files (the app's and each blueprint's ``static/``).

Files never leave their folder (see :func:`kettle.helpers.safe_join`), folders are not
listed (404), and ``ETag``/``Last-Modified``, conditional GET and ranges come from
:class:`~kettle.fileresponse.FileResponse`. A ``style.css.gz`` is served as
``application/gzip`` with no ``Content-Encoding``, exactly the bytes on disk; asking for
``style.css`` never returns the compressed file.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from kettle.exceptions import ConfigurationError, HTTPException
from kettle.fileresponse import FileResponse
from kettle.helpers import existing_file
from kettle.requests import Request
from kettle.responses import JSONResponse, RedirectResponse, Response
from kettle.routing.rootpath import route_path
from kettle.types import Receive, Scope, Send

__all__ = [
    "StaticFiles",
    "cache_control",
    "default_max_age",
    "send_static_file",
    "serve_static",
    "static_endpoint",
]

MaxAge = int | timedelta | None


def default_max_age() -> int | None:
    """The current app's ``SEND_FILE_MAX_AGE_DEFAULT`` in seconds (``None`` outside one).

    Example:
        >>> from kettle import Kettle
        >>> app = Kettle(__name__)
        >>> app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
        >>> with app.app_context():
        ...     default_max_age()
        3600
    """
    from kettle.globals import current_app, has_app_context

    value = current_app.config.get("SEND_FILE_MAX_AGE_DEFAULT") if has_app_context() else None
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return None if value is None else int(value)


def send_static_file(owner: Any, filename: str | os.PathLike[str]) -> Response:
    """``filename`` from ``owner``'s static folder, cached as its ``get_send_file_max_age``.

    ``owner`` is a blueprint or an app's router; for the app's router the app itself
    decides, so an app subclass overriding ``get_send_file_max_age`` is asked.
    """
    from kettle.globals import current_app, has_app_context
    from kettle.helpers import send_from_directory

    folder = owner.static_path
    if folder is None:
        raise RuntimeError("'static_folder' must be set to serve static files")
    name = os.fspath(filename)
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    decider = app if app is not None and getattr(app, "router", None) is owner else owner
    return send_from_directory(folder, name, max_age=decider.get_send_file_max_age(name))


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
    return FileResponse(
        target,
        headers={"cache-control": cache_control(max_age)},
        content_disposition_type="inline",
    )


def static_endpoint(
    root: str | os.PathLike[str],
    max_age: MaxAge | Callable[[], MaxAge] = None,
    max_age_for: Callable[[str], MaxAge] | None = None,
) -> Callable[[str], Awaitable[Response]]:
    """A route handler serving ``root``, for ``/static/{filename:path}``.

    ``max_age`` may be a callable, read on each request (so a config change applies);
    ``max_age_for(filename)``, when given, decides instead (``get_send_file_max_age``).

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
        if max_age_for is not None:
            age = max_age_for(filename)
        else:
            age = max_age() if callable(max_age) else max_age
        return serve_static(folder, filename, max_age=age)

    return static


class StaticFiles:
    """An ASGI app serving a folder, to mount under a prefix (Starlette's ``StaticFiles``).

    The same safe serving as :func:`serve_static`: nothing outside the folder (``..``,
    encoded or not, backslashes, absolute paths, symlinks out, a sibling ``static1``), no
    folder listings, ``ETag``/``Last-Modified``, conditional GET and ranges. With
    ``html=True`` a folder's ``index.html`` answers for the folder (``/docs`` redirects to
    ``/docs/``) and a ``404.html`` at the top answers for missing files.

    It works under any ASGI mount: the prefix is taken from ``scope["root_path"]`` when
    ``scope["path"]`` still carries it, otherwise ``scope["path"]`` is the remainder.

    Args:
        directory: the folder to serve.
        packages: packages whose ``statics`` folder is served too (a name, or a
            ``(name, folder)`` pair), searched after ``directory``.
        html: serve ``index.html`` for folders and ``404.html`` for misses.
        check_dir: refuse (``ConfigurationError``) a ``directory`` that does not exist.
        max_age: seconds browsers may use a file without asking (see :func:`cache_control`).

    Example:
        >>> import pathlib, tempfile
        >>> from kettle.staticfiles import StaticFiles
        >>> from kettle.testing import TestClient
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "site.css").write_text("body {}")
        >>> client = TestClient(StaticFiles(directory=root))
        >>> client.get("/site.css").text, client.get("/../etc/passwd").status_code
        ('body {}', 404)
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str] | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
        max_age: MaxAge = None,
    ) -> None:
        self.directory = os.fspath(directory) if directory is not None else None
        self.html = html
        self.max_age = max_age
        # follow_symlink is accepted for Starlette's signature; a symlink inside the
        # folder is always followed, one pointing out of it never is.
        self.follow_symlink = follow_symlink
        self.all_directories = self._directories(self.directory, packages or ())
        if check_dir and self.directory is not None and not os.path.isdir(self.directory):
            raise ConfigurationError(f"StaticFiles: directory {self.directory!r} does not exist")

    @staticmethod
    def _directories(directory: str | None, packages: Sequence[str | tuple[str, str]]) -> list[str]:
        found = [directory] if directory is not None else []
        for package in packages:
            name, folder = (package, "statics") if isinstance(package, str) else package
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                raise ConfigurationError(f"StaticFiles: {name!r} is not an importable package")
            path = os.path.join(next(iter(spec.submodule_search_locations)), folder)
            if not os.path.isdir(path):
                raise ConfigurationError(f"StaticFiles: package {name!r} has no {folder!r} folder")
            found.append(path)
        if not found:
            raise ConfigurationError("StaticFiles needs a directory or packages")
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ConfigurationError("StaticFiles serves HTTP only (mounted under a WebSocket?)")
        response = await self.get_response(self.get_path(scope), scope)
        await response(scope, receive, send)

    @staticmethod
    def get_path(scope: Scope) -> str:
        """The path inside the folder that ``scope`` asks for (without a leading ``/``)."""
        return route_path(scope["path"], scope.get("root_path")).lstrip("/")

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The answer for ``path`` (as :meth:`get_path` gives it) to the request ``scope``.

        Starlette's signature: a subclass may await ``super().get_response(path, scope)``
        and add headers to what it returns.
        """
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            return _error(HTTPException(405, headers={"Allow": "GET, HEAD"}))
        folder = path == "" or path.endswith("/")
        if not folder:
            found = self._serve(path)
            if found is not None:
                return found
            if self.html and self._find(path + "/index.html") is not None:
                # "/docs" is a folder: relative links in its index need "/docs/".
                return RedirectResponse(path.rpartition("/")[2] + "/", 307)
        elif self.html:
            found = self._serve(path + "index.html")
            if found is not None:
                return found
        if self.html:
            page = self._find("404.html")
            if page is not None:
                return FileResponse(page, status_code=404, content_disposition_type="inline")
        return _error(HTTPException(404))

    def _find(self, path: str) -> str | None:
        for directory in self.all_directories:
            try:
                return existing_file(directory, path)
            except HTTPException:
                continue
        return None

    def _serve(self, path: str) -> Response | None:
        target = self._find(path)
        if target is None:
            return None
        return FileResponse(
            target,
            headers={"cache-control": cache_control(self.max_age)},
            content_disposition_type="inline",
        )


def _error(exc: HTTPException) -> Response:
    # kettle's default error shape ({"detail": ...}); a mounted app answers on its own.
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)
