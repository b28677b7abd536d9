"""kettle's bench app for the `traced` scenario (see bench/apps/observability.py)."""

from bench.apps.observability import build

app = build("traced", metrics=False, access_log=False)
