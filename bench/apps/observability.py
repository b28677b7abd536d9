"""kettle's bench app with observability middleware on, for the observed scenarios.

Each variant is a fresh copy of ``bench/apps/kettle_app.py`` (the same routes, built anew
so the main suite's app stays bare) with some of metrics, tracing and the access log:

- ``traced``: ``TracingMiddleware`` with no OpenTelemetry SDK configured (what most apps
  run with): its cost must not be measurable;
- ``metered``: ``MetricsMiddleware`` and the unconfigured ``TracingMiddleware``;
- ``observed``: both, plus ``AccessLogMiddleware`` writing JSON lines to the null device
  (formatting and the write are part of what an access log costs).
"""

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from kettle import AccessLogMiddleware, Kettle, MetricsMiddleware, TracingMiddleware
from kettle.middleware.accesslog import JSONFormatter, RequestIdFilter

_SOURCE = Path(__file__).with_name("kettle_app.py")


def fresh_kettle_app(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench.apps._{name}", _SOURCE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def _silent_access_log() -> logging.Logger:
    logger = logging.getLogger("bench.access")
    if not logger.handlers:
        handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (process-long)
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(JSONFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def build(name: str, *, metrics: bool, access_log: bool) -> Kettle:
    app: Kettle = fresh_kettle_app(name)
    if access_log:
        app.add_middleware(AccessLogMiddleware, logger=_silent_access_log())
    app.add_middleware(TracingMiddleware)
    if metrics:
        app.add_middleware(MetricsMiddleware, path="/metrics")
    return app
