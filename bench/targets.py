"""Which apps the harness knows about, and importing them without letting one failure stop the run.

kettle's core is written alongside this harness, so its app may not import yet; the other apps
must still be measured, with a clear line saying why kettle was left out.
"""

import importlib
from dataclasses import dataclass

from bench.apps.common import ASGIApp

# Name shown in tables -> module that builds the app at import time. "raw" is the baseline.
APP_MODULES: dict[str, str] = {
    "raw": "bench.apps.raw",
    "starlette": "bench.apps.starlette_app",
    "fastapi": "bench.apps.fastapi_app",
    "kettle": "bench.apps.kettle_app",
}
BASELINE = "raw"
# Scenarios of another suite run against another app per framework (same names, same order):
# the security suite's apps carry CORS middleware, which must not touch the main scenarios.
SUITES: dict[str, dict[str, str]] = {
    "main": APP_MODULES,
    "security": {
        name: f"{module.rsplit('_app', 1)[0]}_security" for name, module in APP_MODULES.items()
    },
    # kettle with observability middleware on (bench/apps/observability.py); the other
    # apps answer as in the main suite, so the table shows what observing adds to kettle.
    **{
        suite: {**APP_MODULES, "kettle": f"bench.apps.kettle_{suite}"}
        for suite in ("traced", "metered", "observed")
    },
}


@dataclass(frozen=True, slots=True)
class LoadedApp:
    name: str
    app: ASGIApp | None
    error: str | None = None


def parse_app_names(text: str | None) -> list[str]:
    """Turn "raw,kettle" into a validated, de-duplicated list in table order; None means all."""
    if not text:
        return list(APP_MODULES)
    wanted = {name.strip() for name in text.split(",") if name.strip()}
    unknown = wanted - APP_MODULES.keys()
    if unknown:
        known = ", ".join(APP_MODULES)
        raise ValueError(f"unknown app(s): {', '.join(sorted(unknown))} (known: {known})")
    return [name for name in APP_MODULES if name in wanted]


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_app(name: str, suite: str = "main") -> LoadedApp:
    # Any exception counts: a half-written core can fail with AttributeError or TypeError while
    # the app registers its routes, not only with ImportError.
    try:
        module = importlib.import_module(SUITES[suite][name])
        return LoadedApp(name, module.app)
    except Exception as exc:
        return LoadedApp(name, None, describe_error(exc))


def unavailable_line(loaded: LoadedApp) -> str:
    return f"{loaded.name}: not available ({loaded.error})"
