"""Taskboard: a small team task board built with kettle (pages, a typed API, live updates)."""
