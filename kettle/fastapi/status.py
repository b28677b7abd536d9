"""``fastapi.status``: ``HTTP_404_NOT_FOUND`` and friends, from the standard library's table."""

from http import HTTPStatus
from typing import Any


def _name(status: HTTPStatus) -> str:
    return f"HTTP_{status.value}_{status.name}"


_CODES = {_name(s): s.value for s in HTTPStatus}
globals().update(_CODES)
__all__ = sorted(_CODES)


def __getattr__(name: str) -> Any:  # for type checkers and typos alike
    raise AttributeError(f"module 'kettle.fastapi.status' has no attribute {name!r}")
