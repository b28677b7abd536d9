"""The signals sent around each request, in Flask's order.

Dispatch calls these only while :data:`kettle.signals.lifecycle` says some receiver was
ever connected (one attribute read per request otherwise), and each sends only when its
own signal has receivers. For one request:

1. ``appcontext_pushed``, then ``request_started`` (before the ``before_request`` hooks);
2. ``request_finished`` with the response (after the ``after_request`` hooks and the
   session save, before the response is sent);
3. after the ``teardown_request`` and ``teardown_appcontext`` functions:
   ``request_tearing_down``, ``appcontext_tearing_down`` (both with the exception nothing
   handled, or ``None``), then ``appcontext_popped``.

A request served inside an app context pushed by hand (``with app.app_context():``)
belongs to that context: its push and pop send the ``appcontext_*`` signals, once.
"""

from __future__ import annotations

import logging
from typing import Any

from kettle.context import pushed_app_context
from kettle.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)

__all__ = ["finished", "started", "torn_down"]

logger = logging.getLogger("kettle.error")


def started(app: Any) -> None:
    """The request's context is set: ``appcontext_pushed``, ``request_started``."""
    if appcontext_pushed.receivers and not pushed_app_context(app):
        appcontext_pushed.send(app)
    if request_started.receivers:
        request_started.send(app)


def finished(app: Any, response: Any) -> None:
    """The response is final: ``request_finished``."""
    if request_finished.receivers:
        request_finished.send(app, response=response)


def torn_down(app: Any, exc: BaseException | None) -> None:
    """The teardown functions ran: ``request_tearing_down``, ``appcontext_tearing_down``,
    ``appcontext_popped``. A receiver's error is logged, as a teardown function's is."""
    try:
        if request_tearing_down.receivers:
            request_tearing_down.send(app, exc=exc)
        if pushed_app_context(app):
            return
        if appcontext_tearing_down.receivers:
            appcontext_tearing_down.send(app, exc=exc)
        if appcontext_popped.receivers:
            appcontext_popped.send(app)
    except Exception:
        logger.exception("Error in a receiver of a request teardown signal")
