"""Driving an ASGI app in-process: synthetic scopes, lifespan, and verified single calls.

Nothing here touches a socket. The scope mirrors what uvicorn's httptools protocol hands an app,
so the frameworks take the same code paths they take behind a real server.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.apps.common import ASGIApp, Message, Scope
from bench.scenarios import ANY_MEDIA_TYPE, APPLICATION_JSON, Scenario

LIFESPAN_TIMEOUT_S = 10.0

REQUEST_HEADERS: list[tuple[bytes, bytes]] = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"kettle-bench/1"),
    (b"accept", b"*/*"),
]

EMPTY_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop when installed (what uvicorn runs in production), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def loop_name() -> str:
    return "uvloop" if loop_factory() is not asyncio.new_event_loop else "asyncio"


def make_scope(scenario: Scenario, state: dict[str, Any] | None = None) -> Scope:
    """A template HTTP scope; callers copy it per request because frameworks add keys to it."""
    headers = REQUEST_HEADERS + list(scenario.headers)
    if scenario.body:
        headers.append((b"content-length", str(len(scenario.body)).encode("ascii")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": scenario.method,
        "scheme": "http",
        "path": scenario.path,
        "raw_path": scenario.path.encode("ascii"),
        "query_string": scenario.query.encode("ascii"),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        # uvicorn gives every request a shallow copy of the lifespan state.
        "state": dict(state or {}),
    }


async def receive_empty() -> Message:
    return EMPTY_BODY


def make_receive(scenario: Scenario) -> Callable[[], Any]:
    """The ASGI ``receive`` for a scenario: its whole body in one message."""
    if not scenario.body:
        return receive_empty
    message: Message = {"type": "http.request", "body": scenario.body, "more_body": False}

    async def receive() -> Message:
        return message

    return receive


async def discard(message: Message) -> None:
    return None


@dataclass(slots=True)
class Recorder:
    """An ASGI ``send`` that keeps every message, for verification."""

    messages: list[Message] = field(default_factory=list)

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def assemble_response(messages: list[Message]) -> Response:
    """Check the ASGI message sequence and join the body; raise ValueError if it is malformed."""
    if not messages or messages[0].get("type") != "http.response.start":
        raise ValueError("first message is not http.response.start")
    start, rest = messages[0], messages[1:]
    if not rest or any(message.get("type") != "http.response.body" for message in rest):
        raise ValueError("response.start is not followed only by response.body messages")
    if rest[-1].get("more_body", False):
        raise ValueError("the last body message still says more_body=True")
    headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in start.get("headers", [])
    }
    body = b"".join(bytes(message.get("body", b"")) for message in rest)
    return Response(int(start["status"]), headers, body)


async def call_once(app: ASGIApp, scenario: Scenario, state: dict[str, Any]) -> Response:
    recorder = Recorder()
    await app(make_scope(scenario, state), make_receive(scenario), recorder)
    return assemble_response(recorder.messages)


def _media_type(content_type: str) -> tuple[str, str | None]:
    media_type, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media_type.strip().lower(), charset


def verify(scenario: Scenario, response: Response) -> list[str]:
    """Every way ``response`` differs from what the scenario requires (empty when correct)."""
    problems: list[str] = []
    if response.status != scenario.status:
        problems.append(f"status {response.status}, expected {scenario.status}")
    media_type, charset = _media_type(response.headers.get("content-type", ""))
    for name, value in scenario.response_headers:
        if response.headers.get(name) != value:
            problems.append(f"{name}: {response.headers.get(name)!r}, expected {value!r}")
    if scenario.media_type == ANY_MEDIA_TYPE:
        pass
    elif media_type != scenario.media_type:
        problems.append(f"content-type {media_type or '(none)'}, expected {scenario.media_type}")
    elif charset not in (None, "utf-8") or (media_type != APPLICATION_JSON and charset is None):
        # JSON is UTF-8 by definition; text must say so.
        problems.append(f"charset {charset}, expected utf-8")
    length = response.headers.get("content-length")
    if length is not None and length != str(len(response.body)):
        problems.append(f"content-length {length} but body has {len(response.body)} bytes")
    problems.extend(_body_problems(scenario, response.body))
    return problems


def _body_problems(scenario: Scenario, body: bytes) -> list[str]:
    if scenario.expected == "any":
        return []  # error bodies differ between frameworks; the status is what is checked
    if scenario.media_type == APPLICATION_JSON:
        try:
            decoded = orjson.loads(body)
        except orjson.JSONDecodeError:
            return [f"body is not JSON: {body[:80]!r}"]
        if decoded != scenario.expected:
            return [f"body {decoded!r}, expected {scenario.expected!r}"]
        return []
    if body != str(scenario.expected).encode("utf-8"):
        return [f"body {body[:80]!r}, expected {scenario.expected!r}"]
    return []


async def check(app: ASGIApp, scenario: Scenario, state: dict[str, Any]) -> list[str]:
    """Call ``app`` once for ``scenario``; an exception is a failure like any other."""
    try:
        response = await call_once(app, scenario, state)
    except Exception as exc:
        return [f"raised {type(exc).__name__}: {exc}"]
    return verify(scenario, response)


class Lifespan:
    """Runs an app's lifespan protocol the way uvicorn's ``--lifespan auto`` does.

    An app that raises or returns before answering startup is treated as not supporting
    lifespan; an app that reports ``lifespan.startup.failed`` is an error.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.state: dict[str, Any] = {}
        self.supported = False

    async def _run(self) -> None:
        scope: Scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self._app(scope, self._to_app.get, self._from_app.put)
        except Exception:
            pass  # Same as uvicorn's auto mode: an app that rejects lifespan simply lacks it.
        finally:
            await self._from_app.put(None)

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        reply = await asyncio.wait_for(self._from_app.get(), LIFESPAN_TIMEOUT_S)
        if reply is None:
            return
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"lifespan startup failed: {reply.get('message', '')}")
        self.supported = reply["type"] == "lifespan.startup.complete"

    async def shutdown(self) -> None:
        if self._task is None:
            return
        if self.supported:
            await self._to_app.put({"type": "lifespan.shutdown"})
            await asyncio.wait_for(self._from_app.get(), LIFESPAN_TIMEOUT_S)
        # An app that keeps its lifespan task alive is cancelled by wait_for; that is fine here.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._task, LIFESPAN_TIMEOUT_S)


async def _startup_and_first_response(app: ASGIApp, scenario: Scenario) -> float:
    lifespan = Lifespan(app)
    started = time.perf_counter()
    await lifespan.startup()
    problems = await check(app, scenario, lifespan.state)
    elapsed = time.perf_counter() - started
    await lifespan.shutdown()
    if problems:
        raise RuntimeError(f"{scenario.name}: {'; '.join(problems)}")
    return elapsed


def time_to_first_response(app: ASGIApp, scenario: Scenario) -> float:
    """Seconds from lifespan startup to the first verified response, on a new event loop.

    Captures work a framework defers to startup or to its first request (route compilation,
    caches), which the import timing alone would miss.
    """
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(_startup_and_first_response(app, scenario))
