"""``starlette.types`` (and ``fastapi.types``): the ASGI type aliases."""

from kettle.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]
