"""The benchmarked applications, one module per framework.

Each module builds its app at import time and exposes it as ``app``, so it can be imported on
its own (for the fresh-process import timings) and served with ``uvicorn bench.apps.<module>:app``.
This package deliberately imports nothing, so importing one app does not pay for the others.
"""
