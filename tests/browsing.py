"""Browser fixtures for the page tests: Playwright driving Debian's chromium.

No browser is downloaded: ``./inkdex test`` installs Debian's ``chromium``; the
tests that need it skip with a message saying so when it is missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "alice-password-1"  # tests.conftest's ``user``
# A wait for recognition to finish, not a speed limit: generous for a machine busy with other work.
OCR_TIMEOUT_MS = 120_000

# Records every status text shown, so that a test can tell the page went through
# "Queued" / "Recognizing" before "Done" by itself. Survives no reload: each
# document starts its own record (a reload is detected separately).
STATUS_RECORDER = """
(() => {
  window.__statuses = [];          // note page: texts of #note-status, in order
  window.__uploadStatuses = {};    // upload page: file name -> texts of its row's status
  const snap = () => {
    const status = document.getElementById("note-status");
    if (status) {
      const text = status.textContent.trim();
      if (window.__statuses[window.__statuses.length - 1] !== text) window.__statuses.push(text);
    }
    document.querySelectorAll(".upload-row").forEach((row) => {
      const name = row.querySelector(".name").textContent;
      const seen = (window.__uploadStatuses[name] = window.__uploadStatuses[name] || []);
      const text = row.querySelector(".status").textContent.trim();
      if (seen[seen.length - 1] !== text) seen.push(text);
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    snap();
    new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
})();
"""



@pytest.fixture(scope="module")
def browser():
    """One chromium for the module.

    Module- rather than session-scoped on purpose: while Playwright's sync API is
    started, an asyncio loop runs in the main thread, and Django refuses ORM calls
    from it (SynchronousOnlyOperation) unless DJANGO_ALLOW_ASYNC_UNSAFE is set.
    Both are undone when this module's tests are over, so later test modules
    run exactly as they would without this one.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium "
            "('./inkdex test' installs it, or: sudo apt-get install chromium)."
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Browsing:
    """A fresh browser context and page for one test, collecting the page's errors."""

    def __init__(self, browser, base_url: str, viewport: dict) -> None:
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport=viewport)
        # Generous: a page on a machine busy with other work may take long; a test
        # that fails waits this long once.
        self.context.set_default_timeout(60_000)
        self.context.add_init_script(STATUS_RECORDER)
        self.errors: list[str] = []
        self.page = self.new_page()

    def new_page(self):
        page = self.context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text} @ {msg.location}"))
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("requestfailed", self._request_failed)
        return page

    def _request_failed(self, request) -> None:
        # A poll cut short by leaving the page is not an error.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.errors.append(f"request failed: {request.url} {request.failure}")

    def sign_in(self, username: str = "alice", password: str = PASSWORD):
        page = self.page
        page.goto("/upload/")  # anonymous: the login form, coming back here afterwards
        assert "/accounts/login/" in page.url
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("form button[type=submit]:text('Sign in')")
        page.wait_for_url(re.compile(r"/upload/$"))
        assert page.locator(".signout .who").inner_text() == username
        return page


@pytest.fixture
def open_browsing(browser, live_server):
    """Opens browser sessions (one per user signed in at once); each fails the
    test on any error its pages had."""
    sessions: list[Browsing] = []

    def open_session(viewport: dict | None = None) -> Browsing:
        session = Browsing(browser, live_server.url, viewport or {"width": 1280, "height": 900})
        sessions.append(session)
        return session

    yield open_session
    for session in sessions:
        session.context.close()
    errors = [error for session in sessions for error in session.errors]
    assert not errors, "errors in the browser:\n" + "\n".join(errors)


@pytest.fixture
def browsing(open_browsing, user):
    return open_browsing()


@pytest.fixture
def shots(tmp_path_factory):
    """Where screenshots go: $INKDEX_SCREENSHOT_DIR, or a temporary folder pytest keeps
    for its last few runs (look at them when a page looks wrong)."""
    folder = os.environ.get("INKDEX_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")

