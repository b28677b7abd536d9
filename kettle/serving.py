"""``run_simple``: serve an app for development from Python, with Werkzeug's signature.

kettle serves ASGI; the app runs on uvicorn, as ``kettle run`` and ``app.run()`` do.
For production, start a server from the command line (``kettle run --workers N``).

Example:
    >>> from kettle.serving import run_simple
    >>> callable(run_simple)
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_simple"]

_WERKZEUG_ONLY = (
    "passthrough_errors",
    "use_evalex",
    "extra_files",
    "exclude_patterns",
    "reloader_interval",
    "reloader_type",
    "processes",
    "request_handler",
    "static_files",
)


def run_simple(
    hostname: str,
    port: int,
    application: Any,
    use_reloader: bool = False,
    use_debugger: bool = False,
    threaded: bool = True,
    **options: Any,
) -> None:
    """Serve ``application`` on ``hostname:port`` until interrupted.

    ``use_reloader`` needs an import string to re-import, which an app object is not: it
    is refused rather than ignored. ``use_debugger`` and ``threaded`` are accepted for
    Werkzeug's callers (debug pages follow the app's own ``debug``; plain ``def`` views
    always run in the thread pool).
    """
    import uvicorn

    # Werkzeug's own server settings, which uvicorn has no use for.
    for name in _WERKZEUG_ONLY:
        options.pop(name, None)
    if use_reloader:
        raise ValueError("run_simple cannot reload an app object: use `kettle run --reload`")
    log_level = options.pop("log_level", "info")
    ssl_context = options.pop("ssl_context", None)
    if ssl_context is not None and isinstance(ssl_context, tuple):
        options["ssl_certfile"], options["ssl_keyfile"] = ssl_context
    uvicorn.run(application, host=hostname, port=port, log_level=log_level, **options)
