"""The runner as a real process: crash and restart, shutdown, pause/resume/cancel."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Run
from tests.e2e.procs import (
    Proc,
    counting_job,
    jobmon,
    latest_run,
    wait_status,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Process tests run on the embedded default and on a server database."""
    return str(request.param)


def _journal(db: Database, run_id: int) -> list[str]:
    with db.read() as session:
        query = select(JournalEntry.message).where(JournalEntry.run_id == run_id)
        return list(session.scalars(query.order_by(JournalEntry.id)))


def test_runner_sigkill_then_reaper_then_start_resumes_from_checkpoint(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=30)])
    runner = Proc(config)
    procs.append(runner)
    assert jobmon(config, "start", "count").returncode == 0
    wait_until(lambda: (r := latest_run(db, "count")) is not None and r.records >= 5,
               what="five records checkpointed")  # fmt: skip
    runner.signal(signal.SIGKILL)
    runner.wait()
    killed = latest_run(db, "count")
    assert killed is not None and killed.status == Status.RUNNING.value
    # A new runner reaps the dead one's run once its heartbeat is stale.
    procs.append(Proc(config))
    stopped = wait_status(db, "count", Status.SERVER_STOPPED, timeout=20)
    checkpoint = json.loads(stopped.checkpoint or "{}")["position"]
    assert checkpoint >= 5
    started = jobmon(config, "start", "count", "--wait", "--timeout", "60")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "resumed from its last checkpoint" in started.stdout
    done = latest_run(db, "count")
    assert done is not None and done.status == Status.FINISHED.value and done.id == killed.id
    journal = _journal(db, done.id)
    assert f"counting from {checkpoint} to 30" in journal
    assert any("by reaper" in line for line in journal)


def test_runner_sigterm_marks_server_stopped_and_exits_0(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=500)])
    runner = Proc(config)
    procs.append(runner)
    assert jobmon(config, "start", "count").returncode == 0
    wait_status(db, "count", Status.RUNNING)
    wait_until(lambda: (r := latest_run(db, "count")) is not None and r.records >= 2)
    runner.signal(signal.SIGTERM)
    assert runner.wait(timeout=15) == 0
    run = latest_run(db, "count")
    assert run is not None and run.status == Status.SERVER_STOPPED.value
    assert any("runner shutting down" in line for line in _journal(db, run.id))


def test_pause_then_resume_then_finished(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=25)])
    procs.append(Proc(config))
    assert jobmon(config, "start", "count").returncode == 0
    wait_until(lambda: (r := latest_run(db, "count")) is not None and r.records >= 2)
    paused = jobmon(config, "pause", "count")
    assert paused.returncode == 0 and "Pausing" in paused.stdout
    run = wait_status(db, "count", Status.PAUSED)
    position = json.loads(run.checkpoint or "{}")["position"]
    assert 0 < position < 25
    assert jobmon(config, "resume", "count").returncode == 0
    done = wait_status(db, "count", Status.FINISHED)
    assert done.id == run.id and done.records == 25
    assert f"counting from {position} to 25" in _journal(db, run.id)


def test_cancel_while_paused_is_canceled(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=200)])
    procs.append(Proc(config))
    assert jobmon(config, "start", "count").returncode == 0
    wait_status(db, "count", Status.RUNNING)
    assert jobmon(config, "pause", "count").returncode == 0
    wait_status(db, "count", Status.PAUSED)
    canceled = jobmon(config, "cancel", "count")
    assert canceled.returncode == 0 and "Canceled" in canceled.stdout
    run = latest_run(db, "count")
    assert run is not None and run.status == Status.CANCELED.value


def test_pause_on_finished_job_exits_3_and_changes_nothing(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=3, delay=0)])
    procs.append(Proc(config))
    assert jobmon(config, "start", "count", "--wait", "--timeout", "30").returncode == 0
    before = _dump(db)
    refused = jobmon(config, "pause", "count")
    assert refused.returncode == 3
    assert "finished (Finished)" in refused.stdout + refused.stderr
    assert _dump(db) == before


def _dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every table but the live runners' heartbeats, which move on their own."""
    from runner.core.storage.models import Base

    with db.read() as session:
        return {
            t.name: sorted(tuple(map(repr, row)) for row in session.execute(select(t)))
            for t in Base.metadata.sorted_tables
            if t.name != "runners"
        }


def test_second_runner_on_sqlite_is_refused(tmp_path: Path, procs: list[Proc]) -> None:
    url = f"sqlite:///{tmp_path / 'jobmon.db'}"
    config = write_config(tmp_path / "c.yaml", url, [counting_job("count")])
    first = Proc(config)
    procs.append(first)
    wait_until(lambda: "started with" in first.output(), what="first runner up")
    second = jobmon(config, "runner", timeout=30)
    assert second.returncode == 1
    assert "SQLite allows one runner at a time" in second.stdout + second.stderr


def test_runs_are_counted_once_per_fire(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    """Scheduled fires on one runner: one run per fire time, none while one is active."""
    job = counting_job("tick", total=2, delay=0) | {"schedule": "@every 1s"}
    config = write_config(tmp_path / "c.yaml", db_url, [job])
    procs.append(Proc(config))

    def finished_runs() -> int:
        with db.read() as session:
            query = select(func.count()).where(Run.status == Status.FINISHED.value)
            return int(session.scalar(query) or 0)

    wait_until(lambda: finished_runs() >= 3, timeout=30, what="three scheduled runs")
    with db.read() as session:
        keys = list(session.scalars(select(Run.fire_key)))
    assert len(keys) == len(set(keys)) and all(keys)


def test_schedule_restarts_a_server_stopped_run_from_its_checkpoint(
    tmp_path: Path, procs: list[Proc]
) -> None:
    url = f"sqlite:///{tmp_path / 'jobmon.db'}"
    job = counting_job("count", total=30) | {"schedule": "@every 2s"}
    config = write_config(tmp_path / "c.yaml", url, [job])
    db = Database(url)
    assert jobmon(config, "db", "upgrade").returncode == 0
    runner = Proc(config)
    procs.append(runner)
    first = wait_until(lambda: (r := latest_run(db, "count")) is not None and r.records >= 3 and r)
    runner.signal(signal.SIGKILL)
    runner.wait()
    procs.append(Proc(config))
    wait_status(db, "count", Status.SERVER_STOPPED, timeout=20)
    done = wait_status(db, "count", Status.FINISHED, timeout=40)
    assert done.id == first.id
    assert any("restarted from its last checkpoint" in line for line in _journal(db, done.id))
    db.dispose()


def test_a_killed_runners_run_comes_back_on_its_own(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    """No schedule and nobody typing: the next runner up restarts the run from its checkpoint."""
    config = write_config(tmp_path / "c.yaml", db_url, [counting_job("count", total=20)],
                          max_restarts=2)  # fmt: skip
    runner = Proc(config)
    procs.append(runner)
    assert jobmon(config, "start", "count").returncode == 0
    wait_until(lambda: (r := latest_run(db, "count")) is not None and r.records >= 3)
    runner.signal(signal.SIGKILL)
    runner.wait()
    procs.append(Proc(config))
    done = wait_status(db, "count", Status.FINISHED, timeout=60)
    assert (done.records, done.attempt) == (20, 2)
    journal = _journal(db, done.id)
    assert any("by reaper" in line for line in journal)
    assert any("restarted automatically from its last checkpoint, 1 of 2" in line
               for line in journal)  # fmt: skip
