"""Small helpers for looking at callables (startup only, never per request)."""

from __future__ import annotations

import asyncio.coroutines
import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any


def describe(func: Callable[..., Any]) -> str:
    """``name (file:line)`` for error messages that point at a handler."""
    target = inspect.unwrap(func)
    name = getattr(target, "__qualname__", None) or repr(target)
    try:
        file = inspect.getsourcefile(target) or "?"
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return name
    return f"{name} ({file}:{line})"


def is_async_callable(func: Any) -> bool:
    """True for ``async def`` functions, partials of them and objects with an async ``__call__``."""
    while isinstance(func, functools.partial):
        func = func.func
    if isinstance(func, type):
        return False  # calling a class constructs it, whatever its __call__ does
    return _is_coroutine_function(func) or (
        callable(func) and _is_coroutine_function(getattr(func, "__call__", None))  # noqa: B004
    )


def mark_coroutine_function(func: Callable[..., Any]) -> None:
    """Mark a plain function that returns an awaitable so that it counts as ``async def``.

    Servers and libraries (uvicorn's interface detection, :func:`is_async_callable`) then
    treat it as a coroutine function.
    """
    if sys.version_info >= (3, 12):
        inspect.markcoroutinefunction(func)
    else:
        # 3.11 has no marker in inspect; asyncio.iscoroutinefunction (which uvicorn uses)
        # reads this attribute.
        func._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]


def _is_coroutine_function(func: Any) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    return marker is not None and getattr(func, "_is_coroutine", None) is marker


def generator_kind(func: Any) -> str | None:
    """``"async"`` or ``"sync"`` for generator functions (or objects whose ``__call__`` is one)."""
    while isinstance(func, functools.partial):
        func = func.func
    if isinstance(func, type):
        return None
    call = (
        func
        if inspect.isfunction(func) or inspect.ismethod(func)
        else getattr(func, "__call__", None)  # noqa: B004 - the method itself, not callable()
    )
    if inspect.isasyncgenfunction(func) or inspect.isasyncgenfunction(call):
        return "async"
    if inspect.isgeneratorfunction(func) or inspect.isgeneratorfunction(call):
        return "sync"
    return None
