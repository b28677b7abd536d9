"""The taskboard example end to end, in headless Chromium against ``kettle run``.

Two browser contexts are two people: one signs up, creates a task and attaches a file;
the other, signed in with the demo account, sees the task appear on the open board
without reloading (Server-Sent Events on the app's channels). Then ``/docs``: Authorize
with the password flow and call a protected endpoint. Screenshots go to the run's
artifacts folder (``KETTLE_SCREENSHOTS``, set by ``scripts/test``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realservers import KettleProcess
from test_browser_authorize import _try_it
from test_browser_docs import CHROMIUM, CHROMIUM_ARGS, Browser, _chromium_or_skip

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PNG = (  # a 1x1 PNG
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@contextlib.contextmanager
def serve_taskboard(folder: Path) -> Iterator[str]:
    """``kettle run`` serving the taskboard on a loopback port, on a database of its own
    (SQLite in ``folder``, channels in memory whatever the environment says)."""
    env = {
        "TASKBOARD_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'board.sqlite'}",
        "TASKBOARD_REDIS_URL": "",
        "TASKBOARD_UPLOAD_DIR": str(folder / "uploads"),
        "TASKBOARD_SECRET_KEY": "a browser-test secret that is long enough",
        "TASKBOARD_FAST_PASSWORD_HASHING": "true",
    }
    server = KettleProcess(folder, env, app=f"{REPO / 'examples' / 'taskboard' / 'app.py'}:app")
    try:
        yield server.wait_until_up(timeout=30).url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _chromium_or_skip()
    with serve_taskboard(tmp_path_factory.mktemp("taskboard")) as base:
        yield base


@pytest.fixture
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def person(chromium: Any, base: str) -> Browser:
    """A browser context of its own (its own cookies): one person at their desk."""
    context = chromium.new_context(viewport={"width": 1200, "height": 800}, service_workers="block")
    context.set_default_timeout(15_000)
    return Browser(context.new_page(), base)


def sign_in(who: Browser, email: str, password: str) -> None:
    page = who.page
    page.goto(f"{who.base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{who.base}/")


def test_sign_up_create_see_it_live_elsewhere_attach_and_sign_out(
    server: str, chromium: Any, tmp_path: Path
) -> None:
    ann = person(chromium, server)
    demo = person(chromium, server)

    # The demo member has the board open, with the live stream connected.
    demo.page.goto(f"{server}/login")
    assert "demo@taskboard.example" in demo.page.inner_text("[data-testid=demo-account]")
    demo.screenshot(tmp_path, "taskboard-login.png")
    sign_in(demo, "demo@taskboard.example", "kettle-demo")
    demo.page.wait_for_selector("#live-status.on")

    # Ann signs up (and is signed in by it).
    page = ann.page
    page.goto(f"{server}/signup")
    page.fill("input[name=name]", "Ann Example")
    page.fill("input[name=email]", "ann@example.com")
    page.fill("input[name=password]", "a long enough password")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{server}/")
    assert "Welcome, Ann Example!" in page.inner_text(".flash")

    # She creates a task...
    page.click("text=New task")
    page.fill("input[name=title]", "Ship the release")
    page.fill("textarea[name=description]", "Tag it, build it, announce it.")
    page.select_option("select[name=status]", "doing")
    page.click("main form button[type=submit]")  # not the nav's "Sign out"
    page.wait_for_selector("h1:has-text('Ship the release')")

    # ... and it appears on the demo member's open board, without a reload.
    demo.page.wait_for_selector(".task .title:has-text('Ship the release')")
    demo.screenshot(tmp_path, "taskboard-board.png")

    # She attaches a file to it.
    page.set_input_files(
        "input[name=file]", {"name": "diagram.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.click("form.upload button[type=submit]")
    page.wait_for_selector(".files a:has-text('diagram.png')")
    image = page.get_attribute(".files a", "href")
    assert image is not None
    assert page.request.get(f"{server}{image}").body() == PNG
    ann.screenshot(tmp_path, "taskboard-task.png")

    # And signs out.
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{server}/login")
    assert "You are signed out." in page.inner_text(".flash")
    page.goto(f"{server}/")
    assert page.url.startswith(f"{server}/login")
    for who in (ann, demo):
        assert who.blocked == []
        assert who.errors == []


def test_docs_authorize_then_call_the_api(server: str, chromium: Any, tmp_path: Path) -> None:
    visitor = person(chromium, server)
    page = visitor.page
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    page.locator(".btn.authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.wait_for()
    dialog.locator("#oauth_username").fill("demo@taskboard.example")
    dialog.locator("#oauth_password").fill("kettle-demo")
    for scope_name in ("tasks:read", "tasks:write"):
        scope = dialog.locator(f"input[type=checkbox][data-value='{scope_name}']")
        if not scope.is_checked():
            dialog.locator(f"label[for='{scope.get_attribute('id')}']").click()
    dialog.locator(".auth-btn-wrapper .btn.authorize").click()
    dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for()
    assert dialog.locator(".errors").count() == 0
    dialog.locator(".btn-done").click()
    operation = page.locator(".opblock-get", has_text="/api/me")
    body = _try_it(page, operation, "200")
    assert "demo@taskboard.example" in body
    visitor.screenshot(tmp_path, "taskboard-docs.png")
    assert visitor.blocked == []
