"""A real browser loads the docs pages of a served app, with the network off.

Headless Chromium (Debian's ``chromium`` package, installed by ``scripts/install-browser``)
is driven through the ``playwright`` package. Every request to anything but the app's own
address is aborted and recorded, so the pages must render from what the app serves. The
screenshots are saved in the test's temporary folder, and also in ``$KETTLE_SCREENSHOTS``
when that is set.

Outside CI a machine without Chromium skips these tests (with the reason); in CI (``CI``
set) a missing browser is a failure.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("KETTLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

APP = textwrap.dedent(
    '''
    from typing import Annotated

    from pydantic import BaseModel, Field

    from kettle import Depends, Form, Header, HTTPException, Kettle, Router
    from kettle.forms import UploadFile
    from kettle.openapi import SecurityScheme

    app = Kettle(
        __name__,
        title="Teapot API",
        version="1.0.0",
        description="Teapots, served offline.",
        openapi_tags=[{"name": "pots", "description": "Every teapot we have."}],
    )


    class Pot(BaseModel):
        name: str = Field(examples=["Brown Betty"])
        litres: float = Field(1.0, gt=0)


    class Problem(BaseModel):
        detail: str


    def api_key(x_api_key: Annotated[str, Header()] = "") -> str:
        return x_api_key


    api_key.openapi_security = SecurityScheme(
        "apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    )

    pots = Router(prefix="/pots", tags=["pots"])


    @pots.get("/{pot_id:int}", responses={404: {"model": Problem}})
    async def get_pot(pot_id: int) -> Pot:
        """Find a teapot by its number."""
        if pot_id > 100:
            raise HTTPException(404, "no such pot")
        return Pot(name=f"pot {pot_id}")


    @pots.post("", status_code=201)
    async def add_pot(pot: Pot, key: str = Depends(api_key)) -> Pot:
        """Add a teapot to the shelf."""
        return pot


    @pots.post("/{pot_id:int}/photo")
    async def upload_photo(
        pot_id: int, photo: UploadFile, caption: Annotated[str, Form()] = ""
    ) -> dict[str, int]:
        return {"size": len(await photo.read())}


    app.include_router(pots)


    @app.route("/brew/<tea>", methods=["GET", "POST"])
    def brew(tea):
        return f"Brewing {tea}"
    '''
)

#: The operations the app documents, as Swagger UI shows them.
OPERATIONS = 5


def _chromium_or_skip() -> None:
    problems = []
    if not Path(CHROMIUM).is_file():
        problems.append(f"{CHROMIUM} is missing")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed")
    if problems:
        reason = f"{' and '.join(problems)}: run scripts/install-browser"
        if os.environ.get("CI"):
            pytest.fail(f"the browser test cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_app(folder: Path, module: str, source: str) -> Iterator[str]:
    """``source`` written as ``module.py`` in ``folder`` and served by ``kettle run`` on a
    loopback port; yields its base URL once ``/openapi.json`` answers, stops it after."""
    (folder / f"{module}.py").write_text(source)
    port = _free_port()
    log = folder / "server.log"
    repo = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), repo])}
    args = [sys.executable, "-m", "kettle", "run", f"{module}:app", "--port", str(port)]
    with (
        log.open("wb") as out,
        subprocess.Popen(args, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT) as proc,
    ):
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not come up:\n{log.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo app served by ``kettle run`` on a loopback port."""
    _chromium_or_skip()
    with serve_app(tmp_path_factory.mktemp("docs-app"), "teapots", APP) as base:
        yield base


class Browser:
    """One page in headless Chromium that may only talk to the app."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.route("**/*", self._only_the_app)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )

    def _only_the_app(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def screenshot(self, folder: Path, name: str) -> Path:
        path = folder / name
        self.page.screenshot(path=str(path), full_page=False)
        keep = os.environ.get("KETTLE_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / name)
        return path


@contextlib.contextmanager
def open_browser(base: str) -> Iterator[Browser]:
    """A page of headless Chromium (Debian's) that may only talk to ``base``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(
                viewport={"width": 1280, "height": 1000}, service_workers="block"
            )
            yield Browser(context.new_page(), base)
        finally:
            chromium.close()


@pytest.fixture
def browser(server: str) -> Iterator[Browser]:
    with open_browser(server) as page:
        yield page


def _csp_blocked_image(message: str) -> bool:
    """ReDoc's footer logo points at its CDN; the page's policy blocks it, offline."""
    return "Content Security Policy" in message and "img-src" in message


def test_swagger_ui_renders_every_operation_offline(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    page.goto(f"{browser.base}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() == OPERATIONS
    assert page.locator(".info .title").inner_text().startswith("Teapot API")
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/pots/{pot_id}" in summaries
    assert page.locator(".btn.authorize").count() == 1
    # Call the API from the page: "Try it out" on GET /pots/{pot_id}.
    operation = page.locator(".opblock-get", has_text="/pots/{pot_id}")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator("input[placeholder='pot_id']").fill("7")
    operation.locator(".execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip() == "200"
    assert "pot 7" in operation.locator(".live-responses-table").inner_text()
    shot = browser.screenshot(tmp_path, "swagger-ui.png")
    # A multipart upload, file picker included.
    upload = page.locator(".opblock-post", has_text="/pots/{pot_id}/photo")
    upload.locator(".opblock-summary").click()
    upload.locator(".try-out__btn").click()
    upload.locator("input[placeholder='pot_id']").fill("3")
    upload.locator("input[type=file]").set_input_files(
        {"name": "pot.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"0" * 96}
    )
    upload.locator(".execute").click()
    status = upload.locator(".live-responses-table tr.response .response-col_status")
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip() == "200"
    assert '"size": 100' in upload.locator(".live-responses-table").inner_text()
    assert shot.stat().st_size > 10_000
    assert browser.blocked == []
    assert browser.errors == []


def test_redoc_renders_every_operation_offline(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    page.goto(f"{browser.base}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
    sections = page.eval_on_selector_all(
        "[data-section-id^='operation/']", "found => found.map(e => e.dataset.sectionId)"
    )
    assert len(set(sections)) == OPERATIONS
    headings = page.locator("h2").all_inner_texts()
    assert headings == ["pots", "Get Pot", "Add Pot", "Upload Photo", "Brew", "Brew"]
    assert page.locator("h1").first.inner_text().startswith("Teapot API")
    shot = browser.screenshot(tmp_path, "redoc.png")
    assert shot.stat().st_size > 10_000
    assert browser.blocked == []
    assert [e for e in browser.errors if not _csp_blocked_image(e)] == []


def test_oauth2_redirect_page_loads_without_an_opener(browser: Browser) -> None:
    page = browser.page
    page.goto(f"{browser.base}/docs/oauth2-redirect?code=abc&state=xyz")
    page.wait_for_function("document.body.textContent.length > 0", timeout=10_000)
    assert "No authorization is waiting" in page.locator("body").inner_text()
    assert browser.blocked == []
    assert browser.errors == []
