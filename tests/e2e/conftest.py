"""Real-browser tests: Playwright (sync API) driving Debian's chromium against `live_server`.

Policy: without /usr/bin/chromium the browser tests are skipped on a developer machine (and
the end of the run says so plainly), but fail in CI (``CI=true``), where they must run.
Never run ``playwright install``: the browser is Debian's own package.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the test thread, so Django would see
# an "async context" and refuse ORM calls from the test code; the code is in fact synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian chromium is missing at /usr/bin/chromium; CI must run the browser tests")
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the reference data back once the live-server test has flushed the database.

    A live-server test runs as a TransactionTestCase, which empties every table when it ends,
    including the countries and other rows that data migrations load. ``serialized_rollback``
    reloads them before each browser test; reloading them after the flush as well keeps the
    database complete for whatever runs next, and for the next run under ``--reuse-db``.
    """
    result = yield
    if item.get_closest_marker("e2e") is not None:
        _restore_reference_data(item)
    return result


def _restore_reference_data(item) -> None:
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    contents = getattr(connection, "_test_serialized_contents", None)
    if not contents:
        return
    with item.config.stash[blocking_manager_key].unblock():
        connection.creation.deserialize_db_from_string(contents)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if any(SKIP_REASON in str(getattr(report, "longrepr", "")) for report in skipped):
        terminalreporter.write_line(SKIP_SUMMARY, yellow=True, bold=True)
