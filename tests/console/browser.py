"""Debian's chromium, headless, driven by Playwright: the real browser the console is tested in.

Playwright's own browser builds are not fetched: ``scripts/setup --test`` installs Debian's
``chromium`` package, and Playwright drives its ``/usr/bin/chromium``. The helpers fit pytest
fixtures::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Browser]:
        require_chromium()
        with chromium() as launched:
            yield launched

    def test_x(browser: Browser, tmp_path: Path) -> None:
        with new_page(browser) as page:
            page.goto(url)
            screenshot(page, tmp_path / "x.png")
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Chromium refuses to start its sandbox as root (containers, CI); the pages it opens are ours.
ARGS = ("--no-sandbox",)


def in_ci() -> bool:
    """Whether this runs in CI (``CI=true``), where a missing tool fails instead of skipping."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(executable: Path = CHROMIUM) -> str | None:
    """Why ``executable`` cannot be launched, or None when it can."""
    if os.access(executable, os.X_OK):
        return None
    return f"{executable} not found: scripts/setup --test installs Debian's chromium"


def require_chromium(executable: Path = CHROMIUM) -> None:
    """Fail the test in CI, skip it elsewhere, when chromium is missing."""
    reason = missing(executable)
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium(executable: Path = CHROMIUM, **launch_options: Any) -> Iterator[Browser]:
    """A headless chromium (and the Playwright driving it), closed on exit."""
    reason = missing(executable)
    if reason is not None:
        raise FileNotFoundError(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=list(ARGS), headless=True, **launch_options
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or cache shared), closed on exit.
    ``context_options`` go to ``Browser.new_context``: viewport, http_credentials, ..."""
    context = browser.new_context(**context_options)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, path: Path, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` (the whole page unless ``full_page`` is false) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
