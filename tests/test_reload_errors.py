"""``kettle run --reload`` with an edit that breaks the app: every request gets an answer
(a page naming the file and line in debug mode, a plain 500 otherwise) instead of waiting
on a socket no process accepts, and the next good edit serves the app again."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from realservers import KettleProcess

pytestmark = pytest.mark.slow

GOOD = (
    "from kettle import Kettle\napp = Kettle(__name__)\n\n"
    "@app.get('/')\nasync def index():\n    return {'version': %d}\n"
)
BROKEN = "from kettle import Kettle\napp = Kettle(__name__)\n\ndef broken(:\n    pass\n"


def answer(
    url: str, deadline: float, wanted: int, save: Callable[[], object] | None = None
) -> httpx.Response:
    """The first answer with status ``wanted`` (the reloader needs a moment).

    ``save`` writes the edit; it is repeated every few seconds, as a user saves again,
    because an edit made while the reloader is still setting up its file watch is not
    seen (a loaded CI host can answer from the server before the watch is in place).
    """
    last: object = None
    next_save = time.monotonic()
    while time.monotonic() < deadline:
        if save is not None and time.monotonic() >= next_save:
            save()
            next_save = time.monotonic() + 5
        try:
            response = httpx.get(url, timeout=2)
        except httpx.HTTPError as exc:  # a timeout is the hang this guards against
            last = exc
        else:
            if response.status_code == wanted:
                return response
            last = response
        time.sleep(0.2)
    raise AssertionError(f"no {wanted} answer in time; last: {last!r}")


@contextlib.contextmanager
def reloading_server(folder: Path, *extra: str) -> Iterator[str]:
    server = KettleProcess(folder, app="web:app", options=["--reload", *extra])
    try:
        yield server.wait_until_up(timeout=30).url + "/"
    finally:
        server.stop()


@pytest.mark.parametrize("debug", [True, False])
def test_a_broken_edit_gets_an_answer_and_a_fix_serves_again(tmp_path: Path, debug: bool) -> None:
    source = tmp_path / "web.py"
    source.write_text(GOOD % 1)
    with reloading_server(tmp_path, *(["--debug"] if debug else [])) as url:
        assert answer(url, time.monotonic() + 30, 200).json() == {"version": 1}
        broken = answer(url, time.monotonic() + 30, 500, lambda: source.write_text(BROKEN))
        if debug:
            assert "SyntaxError in " in broken.text
            assert "web.py, line 4" in broken.text
            assert "def broken(:" in broken.text
        else:
            assert broken.text == "Internal Server Error"
            assert "web.py" not in broken.text
        fixed = answer(url, time.monotonic() + 30, 200, lambda: source.write_text(GOOD % 2))
        assert fixed.json() == {"version": 2}
