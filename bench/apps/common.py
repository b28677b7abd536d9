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

# The security suite (bench/apps/*_security.py): one HS256 JWT every app decodes with PyJWT,
# and the one origin every app's CORS policy allows. The token is a literal so that this
# module imports nothing: {"sub": "ada", "exp": 4102444800}, signed with JWT_SECRET.
JWT_SECRET = "bench-secret-key-of-32-bytes-min!"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZGEiLCJleHAiOjQxMDI0NDQ4MDB9"
    ".0C7zGb4AWuyWnlqpj77k4NZtvJ5HpBIc6QNnPDV4SKU"
)
ALLOWED_ORIGIN = "https://app.example"
