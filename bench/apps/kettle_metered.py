"""kettle's bench app for the `metered` scenario (see bench/apps/observability.py)."""

from bench.apps.observability import build

app = build("metered", metrics=True, access_log=False)
