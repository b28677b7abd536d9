"""kettle's bench app for the `observed` scenario (see bench/apps/observability.py)."""

from bench.apps.observability import build

app = build("observed", metrics=True, access_log=True)
