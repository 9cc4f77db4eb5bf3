"""The browser set-up works end to end: Debian's chromium, driven by Playwright, opens the job
list of a real exporter (in this process, on a SQLite database) and saves a screenshot.

In CI (``CI=true``) a missing chromium fails this test; elsewhere it skips it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, ConsoleMessage

from exporter.server import ExporterServer
from runner.core.config import load
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor import worker
from tests.console.browser import chromium, new_page, require_chromium, screenshot

pytestmark = pytest.mark.slow

JOBS = [
    {"name": "nightly-count", "kind": "python", "callable": "runner.examples:count"},
    {"name": "never-run", "kind": "python", "callable": "runner.examples:noop"},
]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module."""
    require_chromium()
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ExporterServer]:
    """An exporter with its console on 127.0.0.1 and a free port; one job has run once."""
    url = f"sqlite:///{tmp_path / 'jobmon.db'}"
    path = tmp_path / "jobmon.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": url}, "jobs": JOBS}), encoding="utf-8")
    config = load(path)
    db = Database(url)
    upgrade(db)
    worker.run_once(config, db, "nightly-count")
    db.dispose()
    exporter = ExporterServer(config, listen_address="127.0.0.1:0")
    exporter.start()
    try:
        yield exporter
    finally:
        exporter.stop()


def test_browser_smoke_opens_the_job_list_and_saves_a_screenshot(
    browser: Browser, server: ExporterServer, tmp_path: Path
) -> None:
    problems: list[str] = []

    def console_error(message: ConsoleMessage) -> None:
        if message.type == "error":  # a script error or a CSP refusal
            problems.append(message.text)

    with new_page(browser, viewport={"width": 1280, "height": 800}) as page:
        page.on("console", console_error)
        page.on("pageerror", lambda error: problems.append(str(error)))
        response = page.goto(f"{server.url}/jobs", wait_until="load")
        assert response is not None and response.status == 200
        assert page.locator("h1").first.inner_text() == "Jobs"
        table = page.locator("#jobs-table")
        for job in JOBS:
            assert table.get_by_role("link", name=job["name"], exact=True).is_visible()
        shot = screenshot(page, tmp_path / "shots" / "jobs.png")

    assert shot.read_bytes().startswith(PNG)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    assert problems == []


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_browser_smoke_missing_chromium_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="scripts/setup --test installs Debian's chromium"):
        require_chromium(tmp_path / "chromium")
