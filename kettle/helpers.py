"""Flask's helpers: flashing, responses, redirects, sending files, streaming in context.

``flash``, ``get_flashed_messages`` and ``url_for`` need a request (or app) context; the
others work anywhere. ``send_from_directory`` is the safe way to serve a file named by
the client: :func:`safe_join` refuses every name that could leave the folder.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate
from html import escape
from typing import IO, TYPE_CHECKING, Any, TypeVar

from kettle.exceptions import HTTPException
from kettle.globals import _request_context, current_app, current_context, session
from kettle.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
    to_response,
)
from kettle.signals import message_flashed

# stream_with_context lives in kettle.streamcontext; still importable from here.
from kettle.streamcontext import stream_with_context as stream_with_context
from kettle.types import RawHeaders
from kettle.urlprocessing import build_url as build_url

if TYPE_CHECKING:
    from kettle.fileresponse import FileResponse

__all__ = [
    "build_url",
    "flash",
    "get_flashed_messages",
    "jsonify",
    "make_response",
    "plain_redirect",
    "redirect",
    "safe_join",
    "send_file",
    "send_from_directory",
    "stream_with_context",
    "url_for",
]

T = TypeVar("T")

_FLASHES = "_flashes"


# -- flashing ------------------------------------------------------------------------------


def flash(message: Any, category: str = "message") -> None:
    """Keep ``message`` in the session for the next page (``get_flashed_messages``).

    Categories are free-form strings; ``"message"``, ``"error"``, ``"info"`` and
    ``"warning"`` are the usual ones. Needs a session (a ``SECRET_KEY``).
    """
    # Reassigned rather than appended in place, so the session notices the change.
    flashes = list(session.get(_FLASHES, ()))
    flashes.append((category, message))
    session[_FLASHES] = flashes
    if message_flashed.receivers:
        message_flashed.send(current_app._get_current_object(), message=message, category=category)  # type: ignore[attr-defined]


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    """Take the flashed messages out of the session: shown once, then gone.

    Within one request every call returns the same messages.

    Args:
        with_categories: return ``(category, message)`` pairs instead of messages.
        category_filter: only messages of these categories.
    """
    ctx = _request_context()
    flashes = ctx.flashes
    if flashes is None:
        # "in" first: popping from a null session (no SECRET_KEY) would raise.
        stored = session.pop(_FLASHES) if _FLASHES in session else []
        flashes = ctx.flashes = [(str(c), m) for c, m in stored]
    wanted = set(category_filter)
    if wanted:
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return list(flashes)
    return [message for _, message in flashes]


# -- URLs and redirects --------------------------------------------------------------------


def url_for(endpoint: str, /, **values: Any) -> str:
    """The URL of route ``endpoint``; extra values become the query string.

    Delegates to the current app's ``url_for`` (``_external``, ``_anchor``, ``_scheme``
    and ``_method`` as in Flask; ``".name"`` is relative to the current blueprint).
    """
    return current_app.url_for(endpoint, **values)


def redirect(location: str, code: int = 302) -> Response:
    """Redirect the client to ``location`` (302 by default, as in Flask): the current
    app's ``app.redirect`` inside an app context (an app may replace it), else
    :func:`plain_redirect`."""
    ctx = current_context()
    return (ctx.app.redirect if ctx is not None else plain_redirect)(location, code)


def plain_redirect(location: str, code: int = 302) -> Response:
    """A redirect response to ``location`` (302 by default, as in Flask).

    The URL is sent as given, only percent-encoded where a header needs it, so a CR or
    LF cannot add headers and a backslash cannot become ``/``. Nothing stops an
    off-site URL: never redirect to a URL taken from the request unchecked; build it
    with ``url_for``.

    Example:
        >>> from kettle.helpers import plain_redirect
        >>> r = plain_redirect("/login?next=/a b")
        >>> r.status_code, r.headers["location"]
        (302, '/login?next=/a%20b')
        >>> plain_redirect("/x\\r\\nSet-Cookie: a=b").headers["location"]
        '/x%0D%0ASet-Cookie:%20a=b'
    """
    response = RedirectResponse(location, status_code=code)
    target = escape(response.headers["location"])
    # A short page for clients that do not follow redirects, as Flask sends.
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target "
        f'URL: <a href="{target}">{target}</a>. If not, click the link.\n'
    ).encode()
    response.body = body
    response.headers["content-length"] = str(len(body))
    response.headers["content-type"] = "text/html; charset=utf-8"
    return response


# -- responses ---------------------------------------------------------------------------


def make_response(*args: Any) -> Response:
    """Turn what a view may return into a :class:`Response`, to change it before returning.

    No argument: an empty 200. One: the value (``str``, ``dict``, a response, a
    ``(body, status, headers)`` tuple...). Several: treated as that tuple.

    Example:
        >>> from kettle.helpers import make_response
        >>> r = make_response("<p>hi</p>", 201, {"X-Id": "7"})
        >>> r.status_code, r.headers["x-id"], r.headers["content-type"]
        (201, '7', 'text/html; charset=utf-8')
    """
    if not args:
        return _of_app_class(to_response(""))  # Flask's empty response: an empty page
    value = args[0] if len(args) == 1 else args
    if type(value) is tuple and value and _is_stream(value[0]):
        value = (StreamingResponse(value[0], media_type="text/html"), *value[1:])
    elif _is_stream(value):
        return StreamingResponse(value, media_type="text/html")
    return _of_app_class(to_response(value))


def _of_app_class(response: Response) -> Response:
    """``response`` as the current app's ``response_class`` when that is a ``Response``
    subclass of the app's own (Flask's ``app.response_class``): the built response takes
    the subclass's methods and class attributes; its ``__init__`` does not run again."""
    context = current_context()
    cls = getattr(context.app, "response_class", Response) if context is not None else Response
    if cls is not Response and type(response) in _PLAIN and issubclass(cls, Response):
        response.__class__ = cls
    return response


# what make_response builds: the classes a response_class subclass may stand in for
_PLAIN = (Response, HTMLResponse, JSONResponse, PlainTextResponse)


def _is_stream(value: Any) -> bool:
    return isinstance(value, Iterator | AsyncIterator)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """A JSON response of the argument, the arguments as a list, or the keywords as a dict.

    Written by the current app's ``app.json`` provider (sorted keys, HTTP dates, its
    ``mimetype``, indented in debug mode); kettle's typed responses use orjson directly.

    Example:
        >>> from kettle.helpers import jsonify
        >>> jsonify(1, 2).body, jsonify(user="ada").body, jsonify({"a": None}).body
        (b'[1,2]\\n', b'{"user":"ada"}\\n', b'{"a":null}\\n')
    """
    if args and kwargs:
        raise TypeError("jsonify() takes args or kwargs, not both")
    from kettle.jsonprovider import provider

    response: Response = provider().response(*args, **kwargs)
    return response


# -- files ----------------------------------------------------------------------------------

# Names Windows maps to devices in every folder, whatever the extension ("nul.txt"):
# opening one reads a device, not a file.
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{kind}{n}" for kind in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"}
)
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_join(directory: str | os.PathLike[str], *paths: str) -> str | None:
    """The real path of ``paths`` under ``directory``, or ``None`` if it could leave it.

    Refused: absolute paths, ``..`` segments, backslashes, drive letters (``c:``), control
    characters (NUL included), Windows device names (``CON``, ``NUL``, ``AUX``, ``PRN``,
    ``COM1``-``9``, ``LPT1``-``9``, with any extension), UNC paths, and anything whose
    real path (symlinks resolved) is not inside the real ``directory`` (so neither a
    symlink out nor a sibling ``static1`` next to ``static`` passes). The paths are taken
    literally: ``%2e%2e`` is a file name, not ``..``.

    Example:
        >>> from kettle.helpers import safe_join
        >>> safe_join("/srv/static", "css/site.css")
        '/srv/static/css/site.css'
        >>> [safe_join("/srv/static", p) for p in ("../etc/passwd", "/etc/passwd", "a\\\\b")]
        [None, None, None]
    """
    root = os.path.realpath(directory)
    segments: list[str] = []
    for path in paths:
        if not isinstance(path, str):
            raise TypeError(f"safe_join() takes str paths, not {type(path).__name__}")
        if "\\" in path or path.startswith("/") or _CONTROL.search(path):
            return None
        for segment in path.split("/"):
            if segment in ("", "."):
                continue
            if segment == ".." or _DRIVE.match(segment) or _is_device(segment):
                return None
            if os.name == "nt" and (":" in segment or segment[-1] in ". "):
                # NTFS streams ("a.txt::$DATA") and names Windows silently trims.
                return None  # pragma: no cover - Windows only
            segments.append(segment)
    candidate = os.path.realpath(os.path.join(root, *segments))
    prefix = root if root.endswith(os.sep) else root + os.sep
    if candidate != root and not candidate.startswith(prefix):
        return None
    return candidate


def _is_device(segment: str) -> bool:
    stem = segment.split(".", 1)[0].rstrip(" ").upper()
    return stem in _WINDOWS_DEVICES


def send_from_directory(directory: str | os.PathLike[str], path: str, **kwargs: Any) -> Response:
    """Send file ``path`` from ``directory``, where ``path`` may come from the client.

    ``directory`` is relative to the app's ``root_path`` (the working directory outside
    an app context). Any name :func:`safe_join` refuses, and anything that is not a
    regular file, is a 404. Keyword arguments go to :func:`send_file`.

    Raises:
        HTTPException: 404.

    Example:
        >>> import pathlib, tempfile
        >>> from kettle import Kettle
        >>> from kettle.helpers import send_from_directory
        >>> from kettle.testing import TestClient
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (root / "notes.txt").write_text("hello")
        >>> app = Kettle(__name__)
        >>> @app.get("/files/{name:path}")
        ... def files(name: str):
        ...     return send_from_directory(root, name)
        >>> client = TestClient(app)
        >>> client.get("/files/notes.txt").text, client.get("/files/%2e%2e/etc/passwd").status_code
        ('hello', 404)
    """
    return send_file(existing_file(_app_relative(directory), path), **kwargs)


def existing_file(directory: str | os.PathLike[str], path: str) -> str:
    """The real path of regular file ``path`` inside ``directory``, or a 404.

    Raises:
        HTTPException: 404 when :func:`safe_join` refuses the path, or nothing (or not a
            regular file: a folder, a device) is there.
    """
    target = safe_join(directory, path)
    # "hello.txt/" (or "hello.txt/.") names a folder: serving the file there would give
    # one file many URLs, and relative links in it would resolve against the wrong base.
    if target is None or path.rpartition("/")[2] in ("", "."):
        raise HTTPException(404)
    # PERF: one stat on the request path (~1 us on a local disk) instead of a thread hop
    # (~50 us); the file itself is opened and read off the event loop by FileResponse.
    try:
        mode = os.stat(target).st_mode
    except (OSError, ValueError):
        raise HTTPException(404) from None
    if not stat.S_ISREG(mode):
        raise HTTPException(404)
    return target


def _app_relative(path: str | os.PathLike[str]) -> str:
    ctx = current_context()
    root = getattr(ctx.app, "root_path", None) if ctx is not None else None
    return os.path.join(root, path) if root else os.fspath(path)


def send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | timedelta | Callable[[str | None], int | None] | None = None,
) -> Response:
    """Send a file from disk (or a binary file object) to the client.

    Never pass a path taken from the request: use :func:`send_from_directory`.

    Args:
        path_or_file: a path (relative to the app's ``root_path``) or an open binary file
            (``BytesIO`` too); a file object is closed once sent.
        mimetype: default: guessed from ``download_name``, then the path.
        as_attachment: ``Content-Disposition: attachment`` (a download) instead of inline.
        download_name: the file name the browser shows or saves.
        conditional: answer ``If-None-Match``/``If-Modified-Since``/``Range`` (paths only).
        etag: send an ``ETag`` (made from mtime and size), or this value.
        last_modified: overrides the file's modification time.
        max_age: seconds browsers may cache it (``Cache-Control: public, max-age=N``);
            ``None``: ``SEND_FILE_MAX_AGE_DEFAULT``, and ``no-cache`` if that is unset.

    Example:
        >>> import io
        >>> from kettle.helpers import send_file
        >>> r = send_file(io.BytesIO(b"a,b"), mimetype="text/csv", as_attachment=True,
        ...               download_name="data.csv")
        >>> r.headers["content-disposition"], r.headers["cache-control"]
        ('attachment; filename="data.csv"', 'no-cache')
    """
    name: str | None = None
    if isinstance(path_or_file, str | os.PathLike):
        name = _app_relative(path_or_file)
    filename = download_name
    if filename is None and as_attachment and name is not None:
        filename = os.path.basename(name)
    disposition = "attachment" if as_attachment else "inline"
    headers: dict[str, str] = {}
    if isinstance(etag, str):
        headers["etag"] = etag if etag.startswith(('"', 'W/"')) else f'"{etag}"'
    if last_modified is not None:
        headers["last-modified"] = _http_date(last_modified)
    seconds = _max_age(max_age, name)
    if seconds is None:
        headers["cache-control"] = "no-cache"
    elif seconds > 0:
        headers["cache-control"] = f"public, max-age={seconds}"
    else:
        headers["cache-control"] = "no-cache, max-age=0"
    if name is not None:
        from kettle.fileresponse import FileResponse

        response_class = FileResponse if conditional else _unconditional_file_response()
        response = response_class(
            name,
            headers=headers,
            media_type=mimetype,
            filename=filename,
            content_disposition_type=disposition,
        )
        if not conditional:
            del response.headers["accept-ranges"]
        if etag is False:
            # FileResponse derives an ETag from the file unless told not to.
            response.derive_etag = False
        return response
    return _send_file_object(path_or_file, mimetype, filename, disposition, headers)


def _send_file_object(
    file: Any,
    mimetype: str | None,
    filename: str | None,
    disposition: str,
    headers: dict[str, str],
) -> Response:
    from kettle.fileresponse import content_disposition, guess_media_type

    if isinstance(file, io.TextIOBase):
        raise ValueError("Files must be opened in binary mode or use BytesIO.")
    if mimetype is None and filename is not None:
        mimetype = guess_media_type(filename)
    if mimetype is None:
        raise ValueError(
            "Unable to detect the MIME type because a file name is not available. Either "
            "set 'download_name', pass a path instead of a file, or set 'mimetype'."
        )
    if filename is not None:
        headers["content-disposition"] = content_disposition(filename, disposition)
    if isinstance(file, io.BytesIO):
        data = file.read()
        file.close()
        return Response(data, headers=headers, media_type=mimetype)
    size = _remaining_size(file)
    if size is not None:
        headers["content-length"] = str(size)
    return StreamingResponse(_read_file(file), headers=headers, media_type=mimetype)


def _remaining_size(file: Any) -> int | None:
    try:
        return os.fstat(file.fileno()).st_size - file.tell()  # type: ignore[no-any-return]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _read_file(file: Any, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    # A plain iterator: StreamingResponse runs each step in a worker thread.
    try:
        while chunk := file.read(chunk_size):
            yield chunk
    finally:
        file.close()


def _max_age(
    max_age: int | timedelta | Callable[[str | None], int | None] | None, name: str | None
) -> int | None:
    value: Any = max_age
    if callable(value):
        value = value(name)
    if value is None:
        ctx = current_context()
        app = ctx.app if ctx is not None else None
        decide = getattr(app, "get_send_file_max_age", None)  # an app subclass may decide
        config = getattr(app, "config", None)
        if decide is not None:
            value = decide(name)
        elif config is not None:
            value = config.get("SEND_FILE_MAX_AGE_DEFAULT")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return None if value is None else int(value)


def _http_date(value: datetime | int | float) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # naive datetimes are taken as UTC, as in Flask
            value = value.replace(tzinfo=UTC)
        return format_datetime(value.astimezone(UTC), usegmt=True)
    return formatdate(float(value), usegmt=True)


@functools.cache
def _unconditional_file_response() -> type[FileResponse]:
    # Built on first use: kettle.fileresponse stays off the import path until a file is sent.
    from kettle.fileresponse import FileResponse

    class UnconditionalFileResponse(FileResponse):
        """Sends the whole file whatever the conditional and ``Range`` headers say."""

        def _evaluate(
            self, method: str, raw: RawHeaders, size: int
        ) -> tuple[int, list[tuple[int, int]] | None]:
            return self.status_code, None

    return UnconditionalFileResponse
