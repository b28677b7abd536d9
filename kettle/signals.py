"""Signals sent while the app works, on blinker (the library Flask's signals use).

Connect a receiver to watch what happens without changing the code that does it: tests
record the templates rendered, extensions count requests. Each signal's sender is the
app; the keyword arguments it carries are listed beside it. A signal nobody listens to
costs one attribute read where it would be sent (``signal.receivers`` is empty); the six
sent around every request cost one read per request together, of :data:`lifecycle`.

Example:
    >>> from kettle.signals import message_flashed
    >>> seen = []
    >>> def record(sender, message, category):
    ...     seen.append((message, category))
    >>> message_flashed.connect(record)  # doctest: +ELLIPSIS
    <function record at ...>
    >>> message_flashed.send("app", message="Saved", category="info")
    [(<function record at ...>, None)]
    >>> seen
    [('Saved', 'info')]
    >>> message_flashed.disconnect(record)
"""

from __future__ import annotations

from typing import Any, TypeVar

from blinker import ANY, NamedSignal, Namespace, Signal

F = TypeVar("F")

__all__ = [
    "Namespace",
    "Signal",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "lifecycle",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "template_rendered",
]

_signals = Namespace()


class Lifecycle:
    """Whether a signal sent around every request ever had a receiver connected.

    Dispatch reads :attr:`connected` once per request and sends nothing (checks nothing
    more) while it is false. It is raised on the first ``connect`` and never lowered: a
    receiver that went away leaves each signal's own (empty) receiver check.
    """

    __slots__ = ("connected",)

    def __init__(self) -> None:
        self.connected = False


#: read by dispatch once per request (see :class:`Lifecycle`)
lifecycle = Lifecycle()


class LifecycleSignal(NamedSignal):
    """A signal sent around every request: connecting to it raises :data:`lifecycle`."""

    def connect(self, receiver: F, sender: Any = ANY, weak: bool = True) -> F:
        lifecycle.connected = True
        return super().connect(receiver, sender, weak)  # type: ignore[type-var]


def _lifecycle_signal(name: str) -> NamedSignal:
    signal = _signals[name] = LifecycleSignal(name)
    return signal


#: ``template``, ``context``: a template was rendered.
template_rendered = _signals.signal("template-rendered")
#: ``template``, ``context``: a template is about to be rendered.
before_render_template = _signals.signal("before-render-template")
#: a request's handling starts (before the ``before_request`` hooks).
request_started = _lifecycle_signal("request-started")
#: ``response``: the response is ready (after the ``after_request`` hooks and the session
#: save, before it is sent).
request_finished = _lifecycle_signal("request-finished")
#: ``exc``: a request's teardown runs (``exc`` is the unhandled exception or ``None``).
request_tearing_down = _lifecycle_signal("request-tearing-down")
#: ``exception``: a handler raised an exception no error handler answered.
got_request_exception = _signals.signal("got-request-exception")
#: ``exc``: an app context's teardown runs (after each request, too).
appcontext_tearing_down = _lifecycle_signal("appcontext-tearing-down")
#: an app context was pushed (each request has one).
appcontext_pushed = _lifecycle_signal("appcontext-pushed")
#: an app context was popped (each request's, once it is over).
appcontext_popped = _lifecycle_signal("appcontext-popped")
#: ``message``, ``category``: :func:`~kettle.flash` stored a message.
message_flashed = _signals.signal("message-flashed")
