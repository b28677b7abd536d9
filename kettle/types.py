"""ASGI type aliases shared across the package, and the application as lower layers see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]


class AppLike(Protocol):
    """What the modules below the app use of it: ``request.app``, the request context,
    ``current_app`` and the lifespan.

    :class:`~kettle.Kettle` is one. Naming it here, rather than importing ``Kettle``, keeps
    those modules from importing the app that imports them.
    """

    @property
    def config(self) -> MutableMapping[str, Any]:
        """The app's settings (Flask's ``app.config``)."""

    @property
    def import_name(self) -> str:
        """The name of the module (or package) that created the app."""

    @property
    def debug(self) -> bool:
        """Whether the app runs in debug mode."""

    @property
    def thread_pool(self) -> Any:
        """The worker threads plain ``def`` handlers run in (a ``ThreadPool``)."""

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        """The path of the route named ``name``."""

    def url_for(self, endpoint: str, /, **values: Any) -> str:
        """The URL of the route named ``endpoint`` (Flask's spelling)."""

    def lifespan_context(self) -> AbstractAsyncContextManager[Mapping[str, Any] | None]:
        """The app's startup-to-shutdown context."""
