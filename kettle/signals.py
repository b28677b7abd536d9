"""Signals sent while the app works, on blinker (the library Flask's signals use).

Connect a receiver to watch what happens without changing the code that does it: tests
record the templates rendered, extensions count requests. Each signal's sender is the
app; the keyword arguments it carries are listed beside it. A signal nobody listens to
costs one attribute read where it would be sent (``signal.receivers`` is empty).

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

from blinker import Namespace, Signal

__all__ = [
    "Namespace",
    "Signal",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "template_rendered",
]

_signals = Namespace()

#: ``template``, ``context``: a template was rendered.
template_rendered = _signals.signal("template-rendered")
#: ``template``, ``context``: a template is about to be rendered.
before_render_template = _signals.signal("before-render-template")
#: a request's handling starts (before the ``before_request`` hooks).
request_started = _signals.signal("request-started")
#: ``response``: the response is ready (after the ``after_request`` hooks).
request_finished = _signals.signal("request-finished")
#: ``exc``: a request's teardown runs (``exc`` is the unhandled exception or ``None``).
request_tearing_down = _signals.signal("request-tearing-down")
#: ``exception``: a handler raised an exception no error handler answered.
got_request_exception = _signals.signal("got-request-exception")
#: ``exc``: an app context's teardown runs.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: an app context was pushed.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: an app context was popped.
appcontext_popped = _signals.signal("appcontext-popped")
#: ``message``, ``category``: :func:`~kettle.flash` stored a message.
message_flashed = _signals.signal("message-flashed")
