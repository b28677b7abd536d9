"""In-process benchmark: every app, every scenario, one process, one event loop.

Each app goes through lifespan startup, is verified against every scenario and check, warmed
up, and then timed with ``time.perf_counter_ns`` over repeated batches of calls; the best batch
counts. Apps are interleaved batch by batch so slow drift of the machine hits all of them alike.
Fresh-process import timings (bench/startup.py) follow unless ``--no-startup``.

Run from the repo root: ``python -m bench.run [--quick] [--json PATH]``.
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
import asyncio
import gc
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import startup
from bench.apps.common import ASGIApp, Message, Receive, Scope, Send
from bench.driver import (
    Lifespan,
    check,
    discard,
    loop_factory,
    loop_name,
    make_receive,
    make_scope,
    receive_empty,
)
from bench.report import (
    environment,
    format_ratio,
    format_table,
    ratio,
    write_json,
)
from bench.scenarios import CHECKS, SCENARIOS, Scenario, select_scenarios
from bench.targets import (
    BASELINE,
    load_app,
    parse_app_names,
    unavailable_line,
)

HARNESS = "(harness)"
MIN_CALLS = 200


@dataclass(frozen=True, slots=True)
class Settings:
    calls: int
    repeats: int
    max_seconds: float
    apps: list[str]
    scenarios: list[Scenario]
    json_path: Path | None
    startup: bool
    startup_runs: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """An app that imported and went through lifespan startup."""

    name: str
    app: ASGIApp
    lifespan: Lifespan
    suite: str = "main"


@dataclass(frozen=True, slots=True)
class Timing:
    best_ns: float  # best batch, per call
    calls: int  # calls per batch
    repeats: int


@dataclass(slots=True)
class InProcessResults:
    # scenario -> app -> timing, or None when the app failed that scenario.
    timings: dict[str, dict[str, Timing | None]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    harness_ns: float | None = None


_HARNESS_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")],
}
_HARNESS_BODY: Message = {"type": "http.response.body", "body": b"Hello, World!"}


async def _harness_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Sends a fixed response: its time is the cost of the timing loop itself."""
    await send(_HARNESS_START)
    await send(_HARNESS_BODY)


# The receive callable that goes with each template scope (scenarios with a request body).
_RECEIVERS: dict[int, Any] = {}


def _scope_for(scenario: Scenario, state: dict[str, Any]) -> Scope:
    scope = make_scope(scenario, state)
    _RECEIVERS[id(scope)] = make_receive(scenario)
    return scope


async def _time_batch(app: ASGIApp, template: Scope, calls: int) -> int:
    # A fresh scope per call, as a server gives: frameworks add keys (route, path_params, ...).
    receive = _RECEIVERS.get(id(template), receive_empty)
    started = time.perf_counter_ns()
    for _ in range(calls):
        await app(template.copy(), receive, discard)
    return time.perf_counter_ns() - started


def _batch_size(per_call_ns: float, settings: Settings) -> int:
    """``--n`` calls, fewer when that would exceed ``--max-seconds`` (slow routing misses)."""
    budget = int(settings.max_seconds * 1e9 / max(per_call_ns, 1.0))
    return max(MIN_CALLS, min(settings.calls, budget))


async def _measure(
    contenders: dict[str, tuple[ASGIApp, Scope]], settings: Settings
) -> dict[str, Timing]:
    """Warm up, size the batches, then time interleaved batches and keep each app's best."""
    sizes: dict[str, int] = {}
    for name, (app, template) in contenders.items():
        warmup = max(MIN_CALLS, settings.calls // 10)
        sizes[name] = _batch_size(await _time_batch(app, template, warmup) / warmup, settings)
    best: dict[str, float] = {}
    for _ in range(settings.repeats):
        for name, (app, template) in contenders.items():
            gc.collect()  # Don't bill one app for garbage the previous one left behind.
            per_call = await _time_batch(app, template, sizes[name]) / sizes[name]
            best[name] = min(best.get(name, per_call), per_call)
    return {name: Timing(best[name], sizes[name], settings.repeats) for name in contenders}


async def _start(names: list[str], results: InProcessResults, suite: str) -> list[Candidate]:
    candidates: list[Candidate] = []
    for name in names:
        loaded = load_app(name, suite)
        if loaded.app is None:
            results.unavailable[name] = loaded.error or "unknown error"
            print(unavailable_line(loaded), flush=True)
            continue
        lifespan = Lifespan(loaded.app)
        try:
            await lifespan.startup()
        except Exception as exc:
            results.unavailable[name] = f"lifespan: {type(exc).__name__}: {exc}"
            print(f"{name}: not available (lifespan: {exc})", flush=True)
            continue
        candidates.append(Candidate(name, loaded.app, lifespan, suite))
    return candidates


async def _verify(
    candidates: list[Candidate], settings: Settings, results: InProcessResults
) -> dict[str, set[str]]:
    """Run every scenario and check once per app; returns the scenarios each app failed.

    New problems are printed and recorded; an app that fails any check is flagged in the table,
    and a timed scenario it fails is not timed at all.
    """
    failed: dict[str, set[str]] = {candidate.name: set() for candidate in candidates}
    suite = suite_of(candidates)
    for candidate in candidates:
        recorded = results.problems.setdefault(candidate.name, [])
        for scenario in [*settings.scenarios, *CHECKS]:
            if scenario.suite != suite:
                continue
            problems = await check(candidate.app, scenario, candidate.lifespan.state)
            if not problems:
                continue
            failed[candidate.name].add(scenario.name)
            message = f"{scenario.name} {scenario.target}: {'; '.join(problems)}"
            if message not in recorded:
                recorded.append(message)
                print(f"{candidate.name}: FAILED {message}", flush=True)
        if not recorded:
            del results.problems[candidate.name]
    return failed


def suite_of(candidates: list[Candidate]) -> str:
    return candidates[0].suite if candidates else "main"


async def run_in_process(settings: Settings) -> InProcessResults:
    results = InProcessResults()
    suites = list(dict.fromkeys(scenario.suite for scenario in settings.scenarios))
    plaintext = SCENARIOS[0]
    harness = await _measure({HARNESS: (_harness_app, make_scope(plaintext))}, settings)
    results.harness_ns = harness[HARNESS].best_ns
    for suite in suites:
        await _run_suite(settings, results, suite)
    return results


async def _run_suite(settings: Settings, results: InProcessResults, suite: str) -> None:
    candidates = await _start(settings.apps, results, suite)
    try:
        failed = await _verify(candidates, settings, results)
        for scenario in settings.scenarios:
            if scenario.suite != suite:
                continue
            contenders = {
                candidate.name: (candidate.app, _scope_for(scenario, candidate.lifespan.state))
                for candidate in candidates
                if scenario.name not in failed[candidate.name]
            }
            timings: dict[str, Timing | None] = dict(await _measure(contenders, settings))
            for candidate in candidates:
                timings.setdefault(candidate.name, None)
            results.timings[scenario.name] = timings
            print(f"  measured {scenario.name}", file=sys.stderr, flush=True)
        # Re-verify after the load: an app whose caches went wrong under repetition must not pass.
        await _verify(candidates, settings, results)
    finally:
        for candidate in candidates:
            await candidate.lifespan.shutdown()


def _cell(timing: Timing | None, baseline: Timing | None) -> str:
    if timing is None:
        return "FAIL"
    base = baseline.best_ns if baseline else None
    return f"{timing.best_ns / 1000:.2f} µs ({format_ratio(ratio(timing.best_ns, base))})"


def print_in_process(results: InProcessResults, settings: Settings) -> None:
    names = [name for name in settings.apps if name not in results.unavailable]
    flagged = {name for name, problems in results.problems.items() if problems}
    header = ["scenario", *[f"{name}*" if name in flagged else name for name in names]]
    rows: list[list[str]] = []
    for scenario in settings.scenarios:
        timings = results.timings.get(scenario.name, {})
        baseline = timings.get(BASELINE)
        rows.append([scenario.name, *[_cell(timings.get(name), baseline) for name in names]])
    print()
    print("In-process: µs per request (best batch) and ratio to raw")
    print(format_table(header, rows))
    if results.harness_ns is not None:
        print(f"harness overhead (no-op app, included above): {results.harness_ns / 1000:.2f} µs")
    if flagged:
        print("* failed at least one verification; see FAILED lines above")
    growth = routing_growth(results)
    if growth:
        print()
        print("Routing growth: time(/r999/1) / time(/r0/1), 1.00 = flat")
        print(format_table(["app", "growth"], [[n, f"x{g:.2f}"] for n, g in growth.items()]))


def routing_growth(results: InProcessResults) -> dict[str, float]:
    first = results.timings.get("route_first", {})
    last = results.timings.get("route_last", {})
    growth: dict[str, float] = {}
    for name, first_timing in first.items():
        last_timing = last.get(name)
        if first_timing is not None and last_timing is not None:
            growth[name] = last_timing.best_ns / first_timing.best_ns
    return growth


def in_process_json(results: InProcessResults) -> dict[str, Any]:
    scenarios: dict[str, dict[str, Any]] = {}
    for scenario, timings in results.timings.items():
        baseline = timings.get(BASELINE)
        scenarios[scenario] = {
            name: None
            if timing is None
            else {
                "us_per_request": timing.best_ns / 1000,
                "ratio_to_raw": ratio(timing.best_ns, baseline.best_ns if baseline else None),
                "calls_per_batch": timing.calls,
                "batches": timing.repeats,
            }
            for name, timing in timings.items()
        }
    return {
        "harness_overhead_us": None if results.harness_ns is None else results.harness_ns / 1000,
        "scenarios": scenarios,
        "routing_growth": routing_growth(results),
        "problems": results.problems,
        "unavailable": results.unavailable,
    }


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small batches, for a smoke run")
    parser.add_argument("--n", type=int, help="calls per batch (default 20000, quick 2000)")
    parser.add_argument("--repeats", type=int, help="batches per app (default 5, quick 3)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        help="cap on one batch's duration; slow cases get smaller batches (default 0.5)",
    )
    parser.add_argument("--apps", help="comma-separated subset of raw,starlette,fastapi,kettle")
    parser.add_argument("--scenarios", help="comma-separated subset of the timed scenarios")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--no-startup", action="store_true", help="skip fresh-process timings")
    parser.add_argument("--startup-runs", type=int, help="fresh processes per app (default 7)")
    args = parser.parse_args(argv)
    try:
        apps = parse_app_names(args.apps)
        scenarios = select_scenarios(args.scenarios)
    except ValueError as exc:
        parser.error(str(exc))
    calls = args.n or (2000 if args.quick else 20000)
    repeats = args.repeats or (3 if args.quick else 5)
    max_seconds = args.max_seconds or (0.1 if args.quick else 0.5)
    startup_runs = args.startup_runs or (3 if args.quick else 7)
    # Bounds keep every run finite whatever the flags say.
    if not (MIN_CALLS <= calls <= 1_000_000 and 1 <= repeats <= 50):
        parser.error(f"--n must be in [{MIN_CALLS}, 1000000] and --repeats in [1, 50]")
    if not (0.01 <= max_seconds <= 10 and 1 <= startup_runs <= 50):
        parser.error("--max-seconds must be in [0.01, 10] and --startup-runs in [1, 50]")
    return Settings(
        calls, repeats, max_seconds, apps, scenarios, args.json, not args.no_startup, startup_runs
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    print(
        f"Python {sys.version.split()[0]}, {loop_name()} loop, batches of up to {settings.calls} "
        f"calls (at most {settings.max_seconds}s each), best of {settings.repeats}",
        flush=True,
    )
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        results = runner.run(run_in_process(settings))
    print_in_process(results, settings)
    payload: dict[str, Any] = {
        "environment": environment(),
        "loop": loop_name(),
        "in_process": in_process_json(results),
    }
    startup_ok = True
    if settings.startup:
        startup_results = startup.measure(settings.apps, settings.startup_runs)
        startup.print_results(startup_results)
        payload["startup"] = startup.to_json(startup_results)
        startup_ok = startup.all_ok(startup_results)
    if settings.json_path is not None:
        write_json(settings.json_path, payload)
        print(f"\nwrote {settings.json_path}")
    broken = bool(results.problems) or BASELINE in results.unavailable or not startup_ok
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
