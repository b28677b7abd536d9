"""Streaming a body with the request's context: :func:`stream_with_context`.

A streamed body is produced while the response is sent, after the handler returned, in
whatever thread or task runs each step. :func:`stream_with_context` makes each step run
with the context that created the stream, so ``request``, ``session`` and ``g`` work in
it. The request context lives until the body is sent anyway: dispatch sends the body
before the teardown functions run and before the context is reset; what the wrapper adds
is the context *variable*, which a worker thread does not inherit.

The session can still be read while streaming, but not changed: its cookie left with the
headers (see :mod:`kettle.context`).

A handler may return the wrapped stream as it is (it is sent as ``text/html``, as Flask
sends a returned generator) or hand it to ``Response(...)`` under Flask's API, which
streams an iterator it is given (:func:`streaming_variant`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar, overload

from kettle.context import current as _current
from kettle.responses import Response, StreamingResponse

__all__ = ["AsyncContextStream", "ContextStream", "stream_with_context", "streaming_variant"]

T = TypeVar("T")
R = TypeVar("R", bound=Response)


@overload
def stream_with_context(generator_or_function: AsyncIterator[T]) -> AsyncIterator[T]: ...
@overload
def stream_with_context(generator_or_function: Iterable[T]) -> Iterator[T]: ...
@overload
def stream_with_context(
    generator_or_function: Callable[..., Any],
) -> Callable[..., Any]: ...
def stream_with_context(generator_or_function: Any) -> Any:
    """Keep the current request context for a generator that runs while the response is sent.

    Accepts a sync or async generator (or iterable), or decorates a generator function.
    Each step runs with ``request``, ``session`` and ``g`` of the request that created it,
    and so does the iterator's ``close()`` once the body is sent.

    Example:
        >>> from kettle import Kettle, request
        >>> from kettle.streamcontext import stream_with_context
        >>> app = Kettle(__name__)
        >>> @app.route("/greet")
        ... def greet():
        ...     @stream_with_context
        ...     def pieces():
        ...         yield "Hello "
        ...         yield request.args["name"]
        ...     return pieces()
        >>> app.test_client().get("/greet?name=Ada").text
        'Hello Ada'
    """
    if callable(generator_or_function) and not isinstance(
        generator_or_function, Iterator | AsyncIterator
    ):
        function = generator_or_function

        def decorated(*args: Any, **kwargs: Any) -> Any:
            return stream_with_context(function(*args, **kwargs))

        decorated.__name__ = getattr(function, "__name__", "generator")
        decorated.__doc__ = function.__doc__
        return decorated
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError(
            "stream_with_context() can only be used while handling a request "
            "(or inside an app context)"
        )
    if isinstance(generator_or_function, AsyncIterator):
        return AsyncContextStream(_in_context_async(ctx, generator_or_function))
    return ContextStream(_in_context(ctx, iter(generator_or_function)))


class ContextStream(Iterator[T]):
    """What :func:`stream_with_context` returns for a sync iterable: its steps, each run
    in the request's context. Returned by a handler, it is sent as a streamed page."""

    #: a handler's return value with this flag becomes a streamed ``text/html`` response
    streams_as_html = True

    __slots__ = ("_steps",)

    def __init__(self, steps: Iterator[T]) -> None:
        self._steps = steps

    def __next__(self) -> T:
        return next(self._steps)

    def close(self) -> None:
        """Stop the stream now (the wrapped iterator's ``close()`` runs in the context)."""
        close = getattr(self._steps, "close", None)
        if close is not None:
            close()


class AsyncContextStream(AsyncIterator[T]):
    """:class:`ContextStream` for an async iterable."""

    streams_as_html = True

    __slots__ = ("_steps",)

    def __init__(self, steps: AsyncIterator[T]) -> None:
        self._steps = steps

    async def __anext__(self) -> T:
        return await anext(self._steps)

    async def aclose(self) -> None:
        """Stop the stream now (the wrapped iterator's ``aclose()`` runs in the context)."""
        aclose = getattr(self._steps, "aclose", None)
        if aclose is not None:
            await aclose()


def _in_context(ctx: Any, iterator: Iterator[T]) -> Iterator[T]:
    # Set and reset around each step, inside whatever thread or task runs that step.
    try:
        while True:
            token = _current.set(ctx)
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                _current.reset(token)
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            token = _current.set(ctx)
            try:
                close()
            finally:
                _current.reset(token)


async def _in_context_async(ctx: Any, iterator: AsyncIterator[T]) -> AsyncIterator[T]:
    try:
        while True:
            token = _current.set(ctx)
            try:
                item = await iterator.__anext__()
            except StopAsyncIteration:
                return
            finally:
                _current.reset(token)
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            token = _current.set(ctx)
            try:
                await aclose()
            finally:
                _current.reset(token)


_VARIANTS: dict[type[Response], type[Response]] = {}


def streaming_variant(cls: type[R]) -> type[R]:
    """``cls`` streaming its body: a subclass of both ``cls`` and
    :class:`~kettle.responses.StreamingResponse` (made once per class).

    Werkzeug's ``Response(iterator)`` streams the iterator; kettle's ``Response`` holds
    bytes. Flask's ``Response`` picks this class when it is given an iterator, so the
    result is still an instance of the class the code named.

    Example:
        >>> from kettle.responses import HTMLResponse
        >>> from kettle.streamcontext import streaming_variant
        >>> r = streaming_variant(HTMLResponse)(iter(["a", "b"]))
        >>> isinstance(r, HTMLResponse), r.streams, r.get_data()
        (True, True, b'ab')
    """
    if issubclass(cls, StreamingResponse):
        return cls
    if cls is Response:
        return StreamingResponse  # type: ignore[return-value]
    variant = _VARIANTS.get(cls)
    if variant is None:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        variant = _VARIANTS[cls] = type(cls.__name__, (cls, StreamingResponse), namespace)
    return variant  # type: ignore[return-value]
