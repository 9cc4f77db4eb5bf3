"""``jobmon jobs`` and ``jobmon show`` as a user types them: terminal widths, run numbers,
the General tab's fields, masked secrets and "no runner up"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from runner.core.config import load
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor import worker
from tests.e2e.procs import JOBMON, Proc, jobmon, wait_until, write_config
from tests.runner.support import Ticker
from tests.runner.terminal import in_terminal

SECRET = "hunter2-very-secret"
HEADERS = ("status", "job", "last run", "next run", "records", "rejects")


def _job(name: str, **extra: object) -> dict[str, object]:
    params = {"total": 12, "step": 4, "delay": 0, "reject_every": 5}
    return {"name": name, "kind": "python", "callable": "runner.examples:count",
            "params": params, **extra}  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Jobs with long names and runs interleaved, so run numbers differ from run ids."""
    jobs = [
        _job(
            "nightly-customer-balances-reconciliation",
            schedule="@every 1h",
            max_rejects=1,
            description="Balances [checked] against the ledger",
        ),
        _job(
            "short",
            params={
                "total": 3,
                "step": 1,
                "delay": 0,
                "password": SECRET,
                "dsn": f"postgresql://u:{SECRET}@db/x",
            },
        ),
        _job("never-run", schedule="@every 30s"),
    ]
    path = write_config(tmp_path / "c.yaml", f"sqlite:///{tmp_path / 'j.db'}", jobs)
    loaded = load(path)
    db = Database(loaded.database.url)
    upgrade(db)
    for name in ("short", "nightly-customer-balances-reconciliation", "short"):
        worker.run_once(loaded, db, name, clock=Ticker())
    db.dispose()
    return path


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def test_jobs_fits_80_columns_and_keeps_what_matters(config: Path) -> None:
    code, screen = in_terminal([JOBMON, "--config", str(config), "jobs"], columns=80)
    assert code == 0, screen
    lines = _lines(screen)
    assert all(cell_len(line) <= 80 for line in lines), screen
    header = lines[0]
    assert [h for h in HEADERS if h in header] == list(HEADERS), screen
    assert "kind" not in header and "schedule" not in header  # dropped first
    by_job = {line.split()[2]: line for line in lines[1:]}
    assert "✖ Finished with errors" in screen and "✔ Finished" in screen
    assert "#2" in by_job["short"]  # the job's second run, whatever its id
    assert "nightly-" in screen and "…" in screen  # the long name is cut, not wrapped
    assert "never" in screen and "no runner up" in screen


def test_jobs_uses_a_wide_terminal(config: Path) -> None:
    code, screen = in_terminal([JOBMON, "--config", str(config), "jobs"], columns=200)
    assert code == 0, screen
    lines = _lines(screen)
    assert all(cell_len(line) <= 200 for line in lines)
    assert "kind" in lines[0] and "schedule" in lines[0]
    assert "nightly-customer-balances-reconciliation" in screen
    assert " ago" in screen and ":" in screen  # local time to the second, and how long ago
    assert re.search(r" \d+/1\n", screen), screen  # rejects against the limit


def test_show_is_the_general_tab(config: Path) -> None:
    name = "nightly-customer-balances-reconciliation"
    code, screen = in_terminal([JOBMON, "--config", str(config), "show", name], columns=80)
    assert code == 0, screen
    assert all(cell_len(line) <= 80 for line in _lines(screen)), screen
    for expected in (
        "Balances [checked] against the ledger",
        "python",
        "@every 1h",
        "function runner.examples:count",
        "at most 1 reject; no time limit",
        "total=12",
        "run 1: ✖ Finished with errors",
        "limit 1",
        "duration",
    ):
        assert expected in screen, (expected, screen)
    assert " ago)" in screen
    assert re.search(r"next run +no runner up", screen), screen


def test_show_masks_secrets_and_names_runs_by_number(config: Path) -> None:
    shown = jobmon(config, "show", "short", "--run", "2", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["run"]["number"] == 2 and document["runner_up"] is False
    assert document["job"]["parameters"]["password"] == "***"
    human = jobmon(config, "show", "short")
    assert SECRET not in shown.stdout + human.stdout + human.stderr
    assert "run 2:" in human.stdout
    missing = jobmon(config, "show", "short", "--run", "3")
    assert missing.returncode == 2 and "job 'short' has no run 3" in missing.stderr


def test_next_run_shows_once_a_runner_is_up(config: Path, procs: list[Proc]) -> None:
    runner = Proc(config, "run")
    procs.append(runner)

    def next_run_shown() -> str | None:
        out = jobmon(config, "show", "never-run").stdout
        return out if not re.search(r"next run +no runner up", out) else None

    screen = wait_until(next_run_shown, what="a runner's heartbeat")
    assert "(in " in screen or "just now" in screen, screen
    wait_until(lambda: "listening" in runner.output(), what="the exporter")
    runner.signal(15)
    assert runner.wait() == 0
    assert runner.output().count("listening") == 1, runner.output()
    assert re.search(r"next run +no runner up", jobmon(config, "show", "never-run").stdout)
