"""Real-browser tests: Playwright (sync API) driving Debian's chromium against `live_server`.

Policy: without /usr/bin/chromium the browser tests are skipped on a developer machine (and
the end of the run says so plainly), but fail in CI (``CI=true``), where they must run.
Never run ``playwright install``: the browser is Debian's own package.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "browser tests skipped: Debian's chromium is not installed (apt-get install chromium)"
SKIP_SUMMARY = (
    "Browser tests were SKIPPED: install Debian's chromium (apt-get install chromium) to run them."
)
# Playwright's default timeouts are 30 s; a local server answers in milliseconds, so a
# failing expectation should fail fast.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser():
    """Debian's chromium, shared by every browser test of this package.

    Playwright's sync API keeps an asyncio event loop running in the test thread while it is
    started, so Django sees an "async context" and refuses ORM calls from the (synchronous)
    test code unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Both last exactly as long as the
    browser tests: package scope stops Playwright once the last of them is done, and the
    variable is removed again, so later tests (and the subprocesses they start, e.g.
    `check --deploy`, which rejects the variable) run as usual.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "Debian chromium is missing at /usr/bin/chromium; CI must run the browser tests"
            )
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (own cookies) on the live server; any number."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context whose relative URLs go to the live server."""
    return new_page()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if any(SKIP_REASON in str(getattr(report, "longrepr", "")) for report in skipped):
        terminalreporter.write_line(SKIP_SUMMARY, yellow=True, bold=True)
