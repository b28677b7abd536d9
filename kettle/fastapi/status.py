"""``fastapi.status``: ``HTTP_404_NOT_FOUND`` and friends, from the standard library's table,
and ``WS_1008_POLICY_VIOLATION`` and friends, from kettle's table of WebSocket close codes."""

from http import HTTPStatus
from typing import Any

from kettle.socketerrors import CloseCode

_CODES = {f"HTTP_{s.value}_{s.name}": s.value for s in HTTPStatus}
_CODES.update({f"WS_{c.value}_{c.name}": c.value for c in CloseCode})
globals().update(_CODES)
__all__ = sorted(_CODES)


def __getattr__(name: str) -> Any:  # PEP 562: type checkers then accept the HTTP_* names
    raise AttributeError(f"module 'kettle.fastapi.status' has no attribute {name!r}")
