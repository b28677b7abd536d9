"""``app.logger``: the app's own :mod:`logging` logger, set up the way Flask sets up its.

The logger is ``logging.getLogger(app.name)``. In debug mode, and while its level is
unset, it logs ``DEBUG``. If nothing would print its records (no handler up the chain
handles its level), it gets :data:`default_handler`, which writes to standard error
with the time, the level and the module; configure :mod:`logging` before the first
use of ``app.logger`` and it stays untouched.

Example:
    >>> import logging
    >>> from kettle import Kettle
    >>> app = Kettle("shop")
    >>> app.logger is logging.getLogger("shop")
    True
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

__all__ = ["create_logger", "default_handler", "has_level_handler", "wsgi_errors_stream"]


class _ErrorStream:
    """Standard error as it is at each write (tests and servers replace ``sys.stderr``)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


#: where the default handler writes: ``sys.stderr`` at the time of each record
#: (Flask writes to the WSGI server's error stream; an ASGI server has none)
wsgi_errors_stream: IO[str] = _ErrorStream()  # type: ignore[assignment]

#: the handler an app's logger gets when logging is not configured
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler on ``logger`` or its ancestors (as far as records propagate)
    handles the logger's effective level.

    Example:
        >>> alone = logging.getLogger("kettle.doctest.alone")
        >>> alone.propagate = False  # records stop here: only its own handlers count
        >>> has_level_handler(alone)
        False
        >>> alone.addHandler(logging.NullHandler()); has_level_handler(alone)
        True
    """
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Any) -> logging.Logger:
    """The logger of ``app`` (named after ``app.name``, else its import name), with the
    debug level and the default handler when logging is not set up.

    Example:
        >>> from kettle import Kettle
        >>> create_logger(Kettle("inventory")).name
        'inventory'
    """
    logger = logging.getLogger(getattr(app, "name", None) or app.import_name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
