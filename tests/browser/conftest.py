"""Browser tests: pages as a person sees them, in headless Chromium (Debian's package) driven by Playwright,
against a live server on a real PostgreSQL. `make test` installs Chromium when it is missing.

Fixtures: `browser` (one Chromium for the session), `page_at(width, language)` for a fresh page of that
size and Accept-Language, and `page` (a desktop page in English). A failing test leaves a screenshot of every
page it opened in tests/browser/screenshots/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make around it are
# still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE, DESKTOP = 390, 1280


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package (apt-get install "
                    "chromium), or set CHROMIUM to its path.")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_in_call = report.failed
    return report


@pytest.fixture
def page_at(browser, request):
    """page_at(width=PHONE or DESKTOP, language="en" or "zh-hans") -> a new page of that width and language."""
    contexts = []

    def make(width: int = DESKTOP, language: str = "en"):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=language,
                                      extra_http_headers={"Accept-Language": language})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    if getattr(request.node, "failed_in_call", False):
        SCREENSHOTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{n}-{m}.png"), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_at):
    return page_at()


def messages(page):
    """The messages the admin shows after an action (the theme's list of them, above the content)."""
    return page.locator("#main li").filter(has=page.locator(".rounded-default")).first
