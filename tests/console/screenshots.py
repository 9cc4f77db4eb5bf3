"""Screenshots of the console for the docs: ``.venv/bin/python -m tests.console.screenshots``.

Seeds a realistic SQLite database in a temporary directory: the jobs of config.example.yaml
run for real (``runner.executor.worker.run_once``: the count, the customer import with its bad
records, the export after it), plus jobs whose latest run is in each other status. Then serves
the console on 127.0.0.1 and a free port (basic auth, alice an operator) and saves, with
Debian's chromium driven by Playwright, into docs/screenshots/:

- jobs.png, general.png, journal.png, rejects.png, runs.png: the job list and each tab of
  import-customers at 1280x800, light;
- jobs-phone.png: the job list at 390x844; jobs-dark.png: the job list in dark mode.

Each image is the full page at that width. Run it again after changing the templates or CSS.
The status icons need a font with U+23F8 and U+23FB (⏸, ⏻): on a bare Debian with only DejaVu
they show as empty boxes; ``apt-get install fonts-symbola`` provides them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Browser, sync_playwright

from exporter.server import ExporterServer
from runner.core import catalog, claims, control, events, lifecycle, presence
from runner.core.clock import utcnow
from runner.core.config import Config, load
from runner.core.states import Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor import worker
from tests.exporter.conftest import bcrypt_hash

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
USER, PASSWORD = "alice", "screenshots"
COUNT = "runner.examples:count"
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The job whose tabs are shown.
SHOWN = "import-customers"

# Jobs next to the examples whose latest run ends up in each other status (see ``seed``).
EXTRA_JOBS: list[dict[str, Any]] = [
    {
        "name": "ledger-nightly",
        "description": "Posts the day's ledger entries in batches of 50.",
        "schedule": "@every 24h",
        "params": {"total": 1000, "step": 50},
    },
    {
        "name": "billing-reconcile",
        "description": "Matches payments to invoices; unmatched payments are rejects.",
        "params": {"total": 60, "step": 10, "reject_every": 9},
        "max_rejects": 3,
    },
    {"name": "inventory-sync", "params": {"total": 500, "step": 25}},
    {"name": "search-reindex", "params": {"total": 400, "step": 40}},
    {"name": "mailing-weekly", "params": {"total": 100, "step": 10}},
    {"name": "legacy-orders", "params": {"total": 100, "step": 10}},
    {"name": "warehouse-load", "params": {"total": 100, "step": 10}},
    {"name": "quarterly-report", "params": {"total": 100, "step": 10}},
    {"name": "audit-archive", "schedule": "@every 6h", "params": {"total": 300, "step": 30}},
]


def write_config(tmp: Path) -> Path:
    """config.example.yaml with a database, data and output in ``tmp``, basic auth for alice
    (an operator), and the extra jobs."""
    document = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    document["database"]["url"] = f"sqlite:///{tmp / 'jobmon.db'}"
    web = tmp / "web.yml"
    web.write_text(yaml.safe_dump({"basic_auth_users": {USER: bcrypt_hash(PASSWORD)}}), "utf-8")
    document["exporter"] = {"web_config_file": str(web), "console": {"operators": [USER]}}
    document["runner"]["id"] = "runner-1"
    document["runner"]["stale_after_seconds"] = 3600
    extra = [{"kind": "python", "callable": COUNT, **job} for job in EXTRA_JOBS]
    document["jobs"] += extra
    path = tmp / "jobmon.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def seed(config: Config, db: Database) -> None:
    """The example jobs run for real, then a latest run in every other status."""
    catalog.sync_jobs(db, config.jobs)
    run, _ = control.start(db, SHOWN, utcnow())  # run 1: canceled before it started
    control.cancel(db, SHOWN, utcnow())
    for name in (SHOWN, "export-active-customers", "count-sample", SHOWN, "billing-reconcile"):
        worker.run_once(config, db, name)
    worker.run_once(config, db, "mailing-weekly")
    run, fence = _claimed(db, "ledger-nightly")  # running, 40% through
    with db.write() as session:
        events.save_progress(session, fence, run.job_id, utcnow(), records=400, save_state=True)
    _claimed(db, "inventory-sync")  # pausing: asked, the runner has not stopped yet
    control.pause(db, "inventory-sync", utcnow(), "alice")
    run, fence = _claimed(db, "search-reindex")  # paused at a checkpoint
    control.pause(db, "search-reindex", utcnow(), "alice")
    with db.write() as session:
        now = utcnow()
        lifecycle.transition(
            session, run.id, Status.PAUSED, cause=Cause.RUNNER, now=now, fence=fence
        )
    _claimed(db, "legacy-orders")  # canceling
    control.cancel(db, "legacy-orders", utcnow(), "alice")
    control.start(db, "warehouse-load", utcnow())  # editing: no runner took it yet
    control.start(db, "quarterly-report", utcnow())  # canceled before a runner took it
    control.cancel(db, "quarterly-report", utcnow(), "alice")
    _claimed(db, "audit-archive", utcnow() - timedelta(minutes=10))  # no heartbeat since
    claims.reap_stale(db, 60, utcnow())  # server_stopped
    presence.beat(db, "runner-1", utcnow())


def _claimed(db: Database, name: str, now: Any = None) -> tuple[Any, Any]:
    at = now or utcnow()
    run, _ = control.start(db, name, at)
    return run, claims.claim_run(db, run.id, "runner-1", at)


def shoot(browser: Browser, base: str, out: Path) -> list[Path]:
    """Save the screenshots; their paths."""
    saved: list[Path] = []
    shots: list[tuple[str, str, dict[str, Any]]] = [
        ("jobs.png", "/jobs", {}),
        ("general.png", f"/jobs/{SHOWN}", {}),
        ("journal.png", f"/jobs/{SHOWN}/journal", {}),
        ("rejects.png", f"/jobs/{SHOWN}/rejects", {}),
        ("runs.png", f"/jobs/{SHOWN}/runs", {}),
        ("jobs-phone.png", "/jobs", {"viewport": PHONE, "is_mobile": True}),
        ("jobs-dark.png", "/jobs", {"color_scheme": "dark"}),
    ]
    for name, path, options in shots:
        settings: dict[str, Any] = {"viewport": WIDE, "color_scheme": "light", **options}
        context = browser.new_context(
            base_url=base,
            http_credentials={"username": USER, "password": PASSWORD},
            timezone_id="UTC",
            locale="en-GB",
            **settings,
        )
        page = context.new_page()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        target = out / name
        page.screenshot(path=str(target), full_page=True)
        saved.append(target)
        context.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNGs")
    args = parser.parse_args(argv)
    if not os.access(CHROMIUM, os.X_OK):
        parser.error(f"{CHROMIUM} not found: scripts/setup --test installs Debian's chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="jobmon-screenshots-"))
    cwd = Path.cwd()
    try:
        # The example's relative paths (examples/, data/) are read from the working directory.
        shutil.copytree(ROOT / "examples", tmp / "examples")
        (tmp / "data").mkdir()
        os.chdir(tmp)
        config = load(write_config(tmp))
        db = Database(config.database.url)
        upgrade(db)
        seed(config, db)
        server = ExporterServer(config, listen_address="127.0.0.1:0")
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                for path in shoot(browser, server.url, args.out):
                    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
                browser.close()
        finally:
            server.stop()
            db.dispose()
    finally:
        os.chdir(cwd)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
