"""Form bodies: urlencoded and multipart (placeholder until the parser lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kettle.datastructures import MultiDict

if TYPE_CHECKING:
    from kettle.requests import Request


class UploadFile:
    """An uploaded file."""


class FormData(MultiDict["str | UploadFile"]):
    """Parsed form fields and files."""

    async def close(self) -> None:
        pass


async def parse_form(request: Request) -> FormData:
    raise NotImplementedError
