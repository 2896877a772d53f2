"""Browser fixtures: Debian's chromium driven by Playwright (sync API) against pytest-django's live server.

Tests using ``live_server`` run on a transactional database, so rows they create are visible to the
server thread. Screenshots go to tests/e2e/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module.

    Playwright's sync API keeps an event loop running in this thread, and Django's ORM refuses to run
    inside one unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The variable is set only while the browser is
    open (module scope), so it never leaks into other tests, e.g. the ``check --deploy`` subprocess.
    """
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


@pytest.fixture
def page(browser):
    """A fresh browser context per test, as a Chinese-speaking user on a laptop screen.

    Every test also checks that no page it opened broke the Content-Security-Policy (chromium reports
    each blocked script, style or handler on the console).
    """
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if is_csp_violation(message.text) else None)
    page.csp_violations = violations
    yield page
    context.close()
    assert violations == [], violations


@pytest.fixture
def login(live_server, page):
    """Log in through the login form, as a person would."""
    from tests.conftest import PASSWORD

    def _login(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

    return _login


@pytest.fixture
def screenshot(page):
    def _shot(name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
