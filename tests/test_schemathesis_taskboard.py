"""The taskboard's API served by ``kettle run``: Schemathesis on every operation,
with generated valid requests (every check: no server error, status codes, content
types, headers and bodies as documented) and generated invalid ones (refused without a
server error), authorized with a token of the demo account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_browser_taskboard import serve_taskboard

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with serve_taskboard(tmp_path_factory.mktemp("taskboard-api")) as base:
        answer = httpx.post(
            f"{base}/api/token",
            data={"username": "demo@taskboard.example", "password": "kettle-demo"},
            timeout=10,
        )
        answer.raise_for_status()
        yield base, {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _run(base: str, headers: dict[str, str], *, negative: bool) -> list[str]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks

    chosen: list[Any] = [not_a_server_error]
    mode = schemathesis.GenerationMode.NEGATIVE
    if not negative:
        mode = schemathesis.GenerationMode.POSITIVE
        chosen += [
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.response_headers_conformance,
        ]
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    schema.config.generation.update(modes=[mode])
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(checks=chosen, headers=headers, timeout=10)

        check()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


def test_valid_requests_get_documented_answers(served: tuple[str, dict[str, str]]) -> None:
    ran = _run(*served, negative=False)
    assert len(ran) == 7, ran


def test_invalid_requests_are_refused_without_server_errors(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    ran = _run(*served, negative=True)
    assert len(ran) == 7, ran


def test_more_concurrent_readers_than_pooled_connections(
    served: tuple[str, dict[str, str]],
) -> None:
    """40 API reads at once against a pool of 15 connections: each request holds one
    session (its token check and its handler share it), so all are answered quickly."""
    from concurrent.futures import ThreadPoolExecutor

    base, headers = served
    # A task of its own: the Schemathesis runs may have deleted the seeded ones.
    created = httpx.post(f"{base}/api/tasks", headers=headers, json={"title": "Read me"})
    assert created.status_code == 201, created.text
    url = base + created.headers["location"]

    def read(_: int) -> int:
        return httpx.get(url, headers=headers, timeout=20).status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(read, range(40)))
    assert statuses == [200] * 40
