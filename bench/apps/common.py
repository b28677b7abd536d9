"""Constants and ASGI type aliases shared by every benchmarked app.

Kept to the standard library's typing modules so it adds (almost) nothing to an app's import
time: the fresh-process figures must measure the framework, not this file.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

HELLO = "Hello, World!"

# How many parametrised routes /r{i}/{x:int} every app registers after its three fixed ones.
ROUTE_COUNT = 1000

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
