"""``FileStorage``: an uploaded file with Werkzeug's synchronous API, for Flask code.

``request.files["doc"]`` in a Flask-style view is one. It reads and writes the upload's
spooled temporary file directly, so use it where blocking is fine (a plain ``def`` view
runs in a worker thread); ``async def`` code has :class:`~kettle.forms.UploadFile`'s
awaitable methods through ``await request.form()``.

Example:
    >>> import io
    >>> upload = FileStorage(io.BytesIO(b"a,b\\n1,2\\n"), filename="../data.csv",
    ...                      content_type="text/csv; charset=utf-8")
    >>> upload.filename, upload.mimetype, upload.mimetype_params
    ('../data.csv', 'text/csv', {'charset': 'utf-8'})
    >>> upload.readline()
    b'a,b\\n'
    >>> bool(upload), upload.read()
    (True, b'1,2\\n')
"""

from __future__ import annotations

import io
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator, Mapping
from typing import IO, Any

from kettle.datastructures import Headers, MutableHeaders
from kettle.forms import UploadFile
from kettle.mediatypes import parse_options_header

__all__ = ["FileStorage", "secure_filename"]

_NOT_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Windows treats these as devices whatever the extension ("nul.txt" too); refused on
# every system, since files saved on one are often served from another.
_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"{p}{d}" for p in ("COM", "LPT") for d in "123456789")]
)


def secure_filename(filename: str) -> str:
    """A client's file name made into a safe, ASCII-only file name (Werkzeug's rules).

    Accents are dropped to their ASCII letter, path separators and runs of whitespace
    become ``_``, anything but letters, digits, ``_``, ``.`` and ``-`` is removed, and
    leading or trailing dots and underscores are stripped; a Windows device name gets a
    ``_`` in front. The result may be empty: choose a name of your own then.

    Example:
        >>> secure_filename("My cool movie.mov"), secure_filename("../../../etc/passwd")
        ('My_cool_movie.mov', 'etc_passwd')
        >>> secure_filename("i contain cool \xfcml\xe4uts.txt"), secure_filename("NUL.txt")
        ('i_contain_cool_umlauts.txt', '_NUL.txt')
    """
    text = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    for separator in ("/", "\\"):
        text = text.replace(separator, " ")
    text = _NOT_SAFE.sub("", "_".join(text.split())).strip("._")
    if text and text.split(".", 1)[0].upper() in _DEVICES:
        text = f"_{text}"
    return text


class FileStorage:
    """An uploaded file (Werkzeug's ``FileStorage``): ``filename``, ``name`` (the form
    field), ``content_type``, ``mimetype``, ``headers``, ``stream`` and the file methods.

    ``filename`` is the client's and must not be trusted as a path: pass it through
    ``secure_filename`` (or use a name of your own) before :meth:`save`.

    Args:
        stream: a binary file object holding the data (an empty one when ``None``).
        filename: the name the client sent.
        name: the form field's name.
        content_type: the part's ``Content-Type``.
        content_length: the part's declared length (``0``: unknown).
        headers: the part's headers.
    """

    def __init__(
        self,
        stream: IO[bytes] | None = None,
        filename: str | os.PathLike[str] | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | Mapping[str, str] | None = None,
    ) -> None:
        self.stream: IO[bytes] = stream if stream is not None else io.BytesIO()
        if filename is None:
            filename = getattr(stream, "name", None)
            filename = filename if isinstance(filename, str) and filename[:1] != "<" else None
        self.filename: str | None = os.fspath(filename) if filename is not None else None
        self.name = name
        # A copy of its own: content_type= and content_length= write into it.
        if isinstance(headers, Headers):
            self.headers = MutableHeaders(raw=list(headers.raw))
        else:
            self.headers = MutableHeaders(dict(headers or {}))
        if content_type is not None:
            self.headers["content-type"] = content_type
        if content_length is not None:
            self.headers["content-length"] = str(content_length)

    @classmethod
    def from_upload(cls, upload: UploadFile, name: str | None = None) -> FileStorage:
        """The synchronous view of a parsed :class:`~kettle.forms.UploadFile`."""
        storage = cls(upload.file, upload.filename, name, headers=upload.headers)
        if upload.content_type and "content-type" not in storage.headers:
            storage.headers["content-type"] = upload.content_type
        storage._size = upload.size
        return storage

    _size: int | None = None

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type`` header, parameters included."""
        value: str | None = self.headers.get("content-type")
        return value

    @property
    def content_length(self) -> int:
        """The size: the part's ``Content-Length``, else the bytes received (``0``: unknown)."""
        declared = self.headers.get("content-length", "")
        if declared.isdigit():
            return int(declared)
        return self._size or 0

    @property
    def mimetype(self) -> str:
        """The media type, lowercase and without parameters (``"text/csv"``)."""
        return parse_options_header(self.content_type or "")[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The ``Content-Type`` parameters (``{"charset": "utf-8"}``)."""
        return parse_options_header(self.content_type or "")[1]

    def save(self, dst: str | os.PathLike[str] | IO[bytes], buffer_size: int = 16384) -> None:
        """Write the whole file to ``dst``, a path (created or replaced) or a binary file.

        Example:
            >>> import io, pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp(), "copy.txt")
            >>> FileStorage(io.BytesIO(b"kept")).save(path)
            >>> path.read_bytes()
            b'kept'
        """
        if isinstance(dst, str | os.PathLike):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self.stream, out, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that remain by default)."""
        return self.stream.read(size)

    def readline(self, size: int = -1) -> bytes:
        return self.stream.readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self.stream.readlines(hint)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def close(self) -> None:
        """Close the stream (kettle also closes uploads once the response is sent)."""
        self.stream.close()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.stream)

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __getattr__(self, name: str) -> Any:
        # Other file methods (fileno, readable...) are the stream's, as in Werkzeug.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.stream, name)

    def __repr__(self) -> str:
        return f"<FileStorage: {self.filename!r} ({self.content_type!r})>"
