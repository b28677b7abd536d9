"""Swagger UI's "Authorize" with OAuth2's password flow, in a real browser.

A served app has a token endpoint taking ``OAuth2PasswordRequestForm`` and a route behind
``Security(current_user, scopes=["me"])``. Headless Chromium opens ``/docs``, logs in
through the Authorize dialog (user name, password, the ``me`` scope), then calls the
protected route with "Try it out" and reads the user's data in the response panel. As in
``test_browser_docs.py``, the page may only talk to the app.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser_docs import Browser, _chromium_or_skip, open_browser, serve_app

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    import secrets

    from kettle import Depends, HTTPException, Kettle, Security
    from kettle.security import (
        OAuth2PasswordBearer,
        OAuth2PasswordRequestForm,
        SecurityScopes,
        compare_digest,
    )

    app = Kettle(__name__, title="Kettle accounts")
    oauth2 = OAuth2PasswordBearer(
        tokenUrl="token", scopes={"me": "Read your profile", "admin": "Run the place"}
    )
    USERS = {"ada": {"password": "correct horse", "name": "Ada Lovelace", "scopes": ["me"]}}
    TOKENS = {}


    @app.post("/token")
    async def login(form: OAuth2PasswordRequestForm = Depends()):
        user = USERS.get(form.username)
        if user is None or not compare_digest(form.password, user["password"]):
            raise HTTPException(400, "Incorrect username or password")
        token = secrets.token_urlsafe(16)
        TOKENS[token] = (form.username, [s for s in form.scopes if s in user["scopes"]])
        return {"access_token": token, "token_type": "bearer"}


    async def current_user(scopes: SecurityScopes, token: str = Depends(oauth2)):
        found = TOKENS.get(token)
        if found is None:
            raise HTTPException(401, "Invalid token", {"WWW-Authenticate": "Bearer"})
        missing = [s for s in scopes.scopes if s not in found[1]]
        if missing:
            raise HTTPException(403, "Not enough permissions")
        return found[0]


    @app.get("/users/me")
    async def me(username: str = Security(current_user, scopes=["me"])):
        return {"username": username, "name": USERS[username]["name"]}
    """
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app above served by ``kettle run`` on a loopback port."""
    _chromium_or_skip()
    with serve_app(tmp_path_factory.mktemp("authorize-app"), "accounts", APP) as base:
        yield base


@pytest.fixture
def browser(server: str) -> Iterator[Browser]:
    with open_browser(server) as page:
        yield page


def _try_it(page: object, operation: object, expected: str) -> str:
    """Execute ``operation`` from Swagger UI and wait for its live response to show the
    ``expected`` status; returns the response panel's text.

    Waiting for the status text itself, not for the cell: after a second Execute, the
    previous response stays on screen until the new one arrives.
    """
    from playwright.sync_api import expect

    operation.locator(".opblock-summary").click()  # type: ignore[attr-defined]
    try_out = operation.locator(".try-out__btn")  # type: ignore[attr-defined]
    if try_out.inner_text().strip() == "Try it out":
        try_out.click()
    clear = operation.locator(".btn-clear")  # type: ignore[attr-defined]
    if clear.count():
        clear.click()
    operation.locator(".execute").click()  # type: ignore[attr-defined]
    table = operation.locator(".live-responses-table")  # type: ignore[attr-defined]
    status = table.locator("tr.response .response-col_status")
    # The cell reads "401\nUndocumented" for a status the document does not list.
    expect(status).to_have_text(re.compile(rf"^\s*{expected}\b"), timeout=30_000)
    return str(table.inner_text())


def test_authorize_then_call_a_protected_route(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    page.goto(f"{browser.base}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    # The options kettle gave Swagger UI: an absolute redirect URL it serves itself.
    redirect = page.evaluate("window.ui.getConfigs().oauth2RedirectUrl")
    assert redirect == f"{browser.base}/docs/oauth2-redirect"
    operation = page.locator(".opblock-get", has_text="/users/me")
    # A lock on the operation: Swagger UI read its security requirement.
    assert operation.locator(".authorization__btn").count() == 1

    _try_it(page, operation, "401")

    page.locator(".btn.authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.wait_for(timeout=10_000)
    dialog.locator("#oauth_username").fill("ada")
    dialog.locator("#oauth_password").fill("correct horse")
    # Swagger UI hides the checkbox itself behind a styled label.
    scope = dialog.locator("input[type=checkbox][data-value='me']")
    dialog.locator(f"label[for='{scope.get_attribute('id')}']").click()
    assert scope.is_checked()
    dialog.locator(".auth-btn-wrapper .btn.authorize").click()
    # Logged in: the dialog now offers to log out, and shows no error.
    dialog.locator(".auth-btn-wrapper button", has_text="Logout").wait_for(timeout=15_000)
    assert dialog.locator(".errors").count() == 0
    browser.screenshot(tmp_path, "authorized.png")
    dialog.locator(".btn-done").click()

    operation.locator(".opblock-summary").click()  # folded: _try_it opens it again
    body = _try_it(page, operation, "200")
    assert "Ada Lovelace" in body
    # The request Swagger UI made, as it shows it: the token in the Authorization header.
    curl = operation.locator(".curl").inner_text()
    assert "Authorization: Bearer " in curl
    assert "access_token" not in curl
    shot = browser.screenshot(tmp_path, "protected-call.png")
    assert shot.stat().st_size > 10_000
    assert browser.blocked == []
    assert [e for e in browser.errors if "401" not in e] == []
