"""Uploaded files: size- and type-limited, stored under names of our own.

The type is read from the file's first bytes, never from the name or the ``Content-Type``
the browser sent (both are the client's to choose). The file is stored under a random
name in the upload folder; the name the user gave is kept only for display.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kettle import current_app
from kettle.forms import UploadFile

#: the magic numbers of the images an avatar may be
IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
#: what a task attachment may be: an image, a PDF or plain UTF-8 text
ATTACHMENT_TYPES = {**IMAGE_TYPES, b"%PDF-": "application/pdf"}
TEXT = "text/plain; charset=utf-8"
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    TEXT: ".txt",
}


class UploadRefused(Exception):
    """The upload is missing, too large or of a type we do not take."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    stored_name: str
    filename: str
    content_type: str
    size: int


def _sniff(head: bytes, allowed: dict[bytes, str], text: bool) -> str | None:
    for magic, kind in allowed.items():
        if head.startswith(magic):
            return kind
    if text and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the end of the sample is still text.
            if exc.start < len(head) - 3:
                return None
        return TEXT
    return None


def upload_dir() -> Path:
    folder: Path = current_app.state.settings.upload_dir
    return folder


async def save_upload(upload: Any, allowed: dict[bytes, str], *, text: bool = False) -> Stored:
    """Check ``upload`` and store it; what was stored.

    Raises:
        UploadRefused: no file, an empty one, one past ``max_upload_bytes`` (413) or one
            whose content is not of an ``allowed`` type (415).
    """
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadRefused("Choose a file to upload.")
    limit: int = current_app.state.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if not data:
        raise UploadRefused("The file is empty.")
    if len(data) > limit:
        raise UploadRefused(f"Files are at most {limit // 1024} KiB.", 413)
    kind = _sniff(data[:512], allowed, text)
    if kind is None:
        names = sorted(
            {_EXTENSIONS[k].lstrip(".") for k in allowed.values()} | ({"txt"} if text else set())
        )
        raise UploadRefused(f"This kind of file is not accepted (use {', '.join(names)}).", 415)
    stored_name = secrets.token_hex(16) + _EXTENSIONS[kind]
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / stored_name
    # O_EXCL: never overwrite (a random name makes a clash all but impossible anyway).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    shown = (upload.safe_filename or "file")[:255]
    return Stored(stored_name, shown, kind, len(data))
