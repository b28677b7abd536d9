"""Fresh-process figures: how long each app takes to import and build, and to answer first.

Every measurement runs in a new interpreter whose only import before the clock starts is
``time``, so one framework never profits from modules another one already loaded. The first
run per app is thrown away (it writes bytecode caches, even where PYTHONDONTWRITEBYTECODE is set,
so the repo's modules load like installed ones); the median of the rest is reported.

Run from the repo root: ``python -m bench.startup [--runs N] [--apps raw,kettle]``
(``python -m bench.run`` also runs it unless given ``--no-startup``).
"""

if __package__ in (None, ""):
    # Run as a file: put the repo root on sys.path and take bench/ off it, since bench/http.py
    # would otherwise shadow the standard library's http package for every later import.
    import sys
    from pathlib import Path

    _BENCH_DIR = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _BENCH_DIR]
    sys.path.insert(0, str(_BENCH_DIR.parent))

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.apps.common import ASGIApp
from bench.report import format_ratio, format_table, ratio
from bench.targets import APP_MODULES, BASELINE, parse_app_names

REPO_ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 60.0
EXIT_IMPORT_FAILED = 3
EXIT_FIRST_RESPONSE_FAILED = 4

# The child program. The clock starts before anything but ``time`` is imported; RSS is read
# inline (Linux /proc) and the harness is imported only after both figures have been taken.
CHILD_CODE = """\
import time
_started = time.perf_counter()
import importlib, sys
try:
    _app = importlib.import_module(sys.argv[1]).app
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(3)
_imported = time.perf_counter() - _started
try:
    with open("/proc/self/status") as _status:
        _rss = next(int(line.split()[1]) for line in _status if line.startswith("VmRSS:"))
except (OSError, StopIteration):
    _rss = None
from bench.startup import child_finish
child_finish(_app, _imported, _rss)
"""


@dataclass(frozen=True, slots=True)
class Sample:
    import_s: float
    first_response_s: float
    rss_kib: int | None


@dataclass(frozen=True, slots=True)
class StartupResult:
    name: str
    status: str  # "ok", "unavailable" (import failed) or "failed" (imported but misbehaved)
    import_ms: float | None = None
    first_response_ms: float | None = None
    rss_mib: float | None = None
    error: str | None = None


def child_finish(app: ASGIApp, imported_s: float, rss_kib: int | None) -> None:
    """Second half of the child program: first response, then one JSON line on stdout."""
    from bench.driver import time_to_first_response
    from bench.scenarios import SCENARIOS

    try:
        first_response_s = time_to_first_response(app, SCENARIOS[0])
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(EXIT_FIRST_RESPONSE_FAILED)
    sample = {"import_s": imported_s, "first_response_s": first_response_s, "rss_kib": rss_kib}
    print(json.dumps(sample))


def child_environment() -> dict[str, str]:
    """The current environment, minus anything that stops bytecode caches being written.

    Installed frameworks come with compiled bytecode; the repo's own modules (the bench apps,
    kettle) only get it once an import writes it. With PYTHONDONTWRITEBYTECODE set, every run
    would recompile them from source and bill kettle and raw for it.
    """
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _run_child(module: str) -> Sample | StartupResult:
    """One fresh interpreter; a StartupResult (without name) describes a failure."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD_CODE, module],
            cwd=REPO_ROOT,
            env=child_environment(),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return StartupResult("", "failed", error=f"timed out after {CHILD_TIMEOUT_S:.0f}s")
    error = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else None
    if done.returncode == EXIT_IMPORT_FAILED:
        return StartupResult("", "unavailable", error=error)
    if done.returncode != 0:
        return StartupResult("", "failed", error=error or f"exit code {done.returncode}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Sample(data["import_s"], data["first_response_s"], data["rss_kib"])


def measure_app(name: str, runs: int) -> StartupResult:
    module = APP_MODULES[name]
    samples: list[Sample] = []
    for _ in range(runs + 1):  # The first run only warms bytecode and file caches.
        outcome = _run_child(module)
        if isinstance(outcome, StartupResult):
            return StartupResult(name, outcome.status, error=outcome.error)
        samples.append(outcome)
    kept = samples[1:]
    rss = [sample.rss_kib for sample in kept if sample.rss_kib is not None]
    return StartupResult(
        name,
        "ok",
        import_ms=statistics.median(sample.import_s for sample in kept) * 1000,
        first_response_ms=statistics.median(sample.first_response_s for sample in kept) * 1000,
        rss_mib=statistics.median(rss) / 1024 if rss else None,
    )


def measure(names: list[str], runs: int) -> list[StartupResult]:
    print(f"\nFresh processes: {runs} runs per app (+1 discarded)...", flush=True)
    return [measure_app(name, runs) for name in names]


def all_ok(results: list[StartupResult]) -> bool:
    """False if any app misbehaved or the baseline is missing; a missing kettle is fine."""
    statuses = {result.name: result.status for result in results}
    return "failed" not in statuses.values() and statuses.get(BASELINE, "ok") == "ok"


def print_results(results: list[StartupResult]) -> None:
    baseline = next((r for r in results if r.name == BASELINE and r.status == "ok"), None)
    rows: list[list[str]] = []
    for result in results:
        if result.status != "ok" or result.import_ms is None:
            label = "not available" if result.status == "unavailable" else "FAILED"
            print(f"{result.name}: {label} ({result.error})")
            continue
        base = baseline.import_ms if baseline else None
        rss = "-" if result.rss_mib is None else f"{result.rss_mib:.1f}"
        rows.append(
            [
                result.name,
                f"{result.import_ms:.1f}",
                format_ratio(ratio(result.import_ms, base)),
                f"{result.first_response_ms:.1f}",
                rss,
            ]
        )
    print()
    print("Fresh process: median milliseconds (import + build includes all 1003 routes)")
    header = ["app", "import+build ms", "vs raw", "startup+1st response ms", "RSS after import MiB"]
    print(format_table(header, rows))


def to_json(results: list[StartupResult]) -> dict[str, Any]:
    baseline = next((r for r in results if r.name == BASELINE and r.status == "ok"), None)
    base = baseline.import_ms if baseline else None
    return {
        result.name: {
            "status": result.status,
            "import_build_ms": result.import_ms,
            "import_ratio_to_raw": ratio(result.import_ms, base),
            "startup_first_response_ms": result.first_response_ms,
            "rss_after_import_mib": result.rss_mib,
            "error": result.error,
        }
        for result in results
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="measured runs per app (1-50)")
    parser.add_argument("--apps", help="comma-separated subset of raw,starlette,fastapi,kettle")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 50:
        parser.error("--runs must be in [1, 50]")
    try:
        names = parse_app_names(args.apps)
    except ValueError as exc:
        parser.error(str(exc))
    results = measure(names, args.runs)
    print_results(results)
    return 0 if all_ok(results) else 1


if __name__ == "__main__":
    sys.exit(main())
