"""Benchmark harness comparing kettle with a hand-written ASGI floor, Starlette and FastAPI.

Entry points: ``python -m bench.run`` (in-process + fresh-process figures),
``python -m bench.startup`` (fresh-process figures only) and ``python -m bench.http``
(loopback HTTP through uvicorn and wrk). See bench/README.md.
"""
