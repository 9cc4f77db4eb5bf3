"""``after:`` with real runner processes: several runners, a runner killed before it could
start the chained run, and the shipped example config run as it is."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Run
from tests.e2e.procs import (
    JOBMON,
    Proc,
    counting_job,
    jobmon,
    wait_status,
    wait_until,
    write_config,
)
from tests.promtools import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOOP = {"kind": "python", "callable": "runner.examples:noop"}


def _runs(db: Database, job_name: str) -> list[Run]:
    with db.read() as session:
        query = select(Run).join(Job, Job.id == Run.job_id).where(Job.name == job_name)
        return list(session.scalars(query.order_by(Run.id)))


def _journal(db: Database, run_id: int) -> list[str]:
    with db.read() as session:
        query = select(JournalEntry.message).where(JournalEntry.run_id == run_id)
        return list(session.scalars(query.order_by(JournalEntry.id)))


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_two_runners_start_one_chained_run_per_finished_upstream_run(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    jobs = [counting_job("up", total=3, delay=0.05), {"name": "down", "after": "up", **NOOP}]
    config = write_config(tmp_path / "c.yaml", db_url, jobs)
    procs.extend([Proc(config), Proc(config)])
    for number in range(1, 6):
        started = jobmon(config, "start", "up", "--wait", "--timeout", "60")
        assert started.returncode == 0, started.stdout + started.stderr
        wait_until(
            lambda n=number: (
                len(_runs(db, "down")) == n
                and _runs(db, "down")[-1].status == Status.FINISHED.value
            ),
            what=f"down's run {number}",
        )
    for proc in procs:
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0, proc.output()
    ups, downs = _runs(db, "up"), _runs(db, "down")
    assert [r.status for r in ups] == [Status.FINISHED.value] * 5
    assert [r.fire_key for r in downs] == [f"after:{r.id}" for r in ups]
    assert [r.status for r in downs] == [Status.FINISHED.value] * 5
    for proc in procs:
        assert "Traceback" not in proc.output()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_chained_run_is_started_by_the_next_runner_when_the_first_died_before(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    jobs = [counting_job("up", total=3, delay=0.05), {"name": "down", "after": "up", **NOOP}]
    # The first runner claims the waiting run on its first pass, then sleeps an hour between
    # passes: it records the upstream's end but never gets to look for the chained run.
    sleepy = write_config(tmp_path / "sleepy.yaml", db_url, jobs, poll_seconds=3600)
    assert jobmon(sleepy, "start", "up").returncode == 0
    first = Proc(sleepy)
    procs.append(first)
    up = wait_status(db, "up", Status.FINISHED)
    assert _runs(db, "down") == []
    first.signal(signal.SIGKILL)
    first.wait()

    procs.append(Proc(write_config(tmp_path / "c.yaml", db_url, jobs)))
    down = wait_status(db, "down", Status.FINISHED)
    assert down.fire_key == f"after:{up.id}"
    assert "Run created by scheduler: after up run 1 finished" in _journal(db, down.id)
    assert len(_runs(db, "down")) == 1


class Example:
    """``jobmon run`` on a copy of config.example.yaml in a directory of its own."""

    def __init__(self, workdir: Path) -> None:
        shutil.copytree(ROOT / "examples", workdir / "examples")
        port = free_port()
        text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
        assert "listen_address: 127.0.0.1:9736" in text
        text = text.replace("127.0.0.1:9736", f"127.0.0.1:{port}")
        (workdir / "jobmon.yaml").write_text(text, encoding="utf-8")
        self.workdir, self.exporter = workdir, f"http://127.0.0.1:{port}"
        self.db = Database(f"sqlite:///{workdir / 'jobmon.db'}")  # the example's default
        self.log = (workdir / "jobmon.log").open("wb")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "JOBMON_DATABASE_URL"}
        command = [JOBMON, "--config", "jobmon.yaml", "run"]
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def metrics(self) -> str:
        """The exposition; empty while the exporter is not up yet (it starts after the
        database is migrated)."""
        try:
            with urllib.request.urlopen(f"{self.exporter}/metrics", timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            return ""

    def stop(self) -> int | None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        self.db.dispose()
        return None if self.process is None else self.process.returncode


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Example]:
    started = Example(tmp_path)
    yield started
    started.stop()


def _sleep_until_early_in_a_slot(phase: float = 10.0, latest: float = 14.0) -> None:
    """Sleep until ``phase`` seconds into a 30 s slot of the example's ``@every 30s`` grid: the
    start that made the export race the import when it had a schedule of its own."""
    while not phase <= time.time() % 30 < latest:
        time.sleep((phase - time.time() % 30) % 30)


def _exports_answered(example: Example, imports_wanted: int) -> bool:
    imports = [r for r in _runs(example.db, "import-customers") if r.status == "finished"]
    exports = {r.fire_key: r for r in _runs(example.db, "export-active-customers")}
    return len(imports) >= imports_wanted and all(
        (export := exports.get(f"after:{r.id}")) is not None and export.status == "finished"
        for r in imports
    )


# README's promise: the example shows no error a user did not put there in its first two minutes.
FIRST_MINUTES = 120.0


@pytest.mark.long
def test_example_config_runs_the_export_after_each_finished_import(example: Example) -> None:
    _sleep_until_early_in_a_slot()
    started = time.monotonic()
    example.start()
    wait_until(example.metrics, what="the exporter")
    wait_until(lambda: _exports_answered(example, 2), timeout=150, what="two imports exported")
    info = 'jobmon_job_info{after="import-customers",job_name="export-active-customers"'
    assert info in example.metrics()
    time.sleep(max(0.0, started + FIRST_MINUTES - time.monotonic()))  # the whole promise
    assert example.stop() == 0

    imports = _runs(example.db, "import-customers")
    exports = _runs(example.db, "export-active-customers")
    everything = [*imports, *exports, *_runs(example.db, "count-sample")]
    assert Status.FINISHED_WITH_ERRORS.value not in {r.status for r in everything}
    ended = {f"after:{r.id}": r.ended_at for r in imports if r.status == "finished"}
    assert exports and all(r.fire_key in ended for r in exports)
    for export in exports:
        upstream_end = ended[export.fire_key or ""]
        assert upstream_end is not None and export.created_at >= upstream_end
