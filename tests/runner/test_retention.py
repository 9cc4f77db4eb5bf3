"""Retention prunes old runs with their rows, never a job's latest run, never the totals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from runner.core import retention
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Reject, Run, Transition
from tests.runner.support import (
    T0,
    add_jobs,
    count,
    dump,
    every_outcome,
    run_in,
    totals_by_job,
)

FAR_FUTURE = T0 + timedelta(days=1000)


def _run_ids(db: Database) -> set[int]:
    with db.read() as session:
        return set(session.scalars(select(Run.id)))


def _latest_ids(db: Database) -> set[int]:
    with db.read() as session:
        return {i for i in session.scalars(select(Job.latest_run_id)) if i is not None}


def test_prune_keeps_latest_runs_and_totals(db: Database) -> None:
    every_outcome(db)
    totals, runs, latest = totals_by_job(db), _run_ids(db), _latest_ids(db)
    assert count(db, Reject, Reject.run_id.not_in(latest)) > 0, "old runs have rejects"

    pruned = retention.prune(db, 30, FAR_FUTURE)

    assert pruned == len(runs - latest)
    assert _run_ids(db) == latest
    for child in (JournalEntry, Transition, Reject):
        assert count(db, child, child.run_id.not_in(latest)) == 0, child.__tablename__
    assert count(db, Transition) > 0
    assert totals_by_job(db) == totals
    assert retention.prune(db, 30, FAR_FUTURE) == 0


def test_prune_keeps_recent_and_unfinished_runs(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    ended = T0 + timedelta(seconds=1)  # what force_status gives final runs
    old = run_in(db, job_id, Status.FINISHED)
    for status in (Status.PAUSED, Status.SERVER_STOPPED, Status.RUNNING, Status.EDITING):
        run_in(db, job_id, status)
    run_in(db, job_id, Status.CANCELED)  # the latest
    before = dump(db)

    assert retention.prune(db, 30, ended + timedelta(days=30)) == 0
    assert dump(db) == before
    assert retention.prune(db, 30, ended + timedelta(days=30, seconds=1)) == 1
    assert old not in _run_ids(db)
    assert len(_run_ids(db)) == 5


def test_prune_works_in_batches(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = add_jobs(db, "job")["job"]
    for _ in range(7):
        run_in(db, job_id, Status.FINISHED)
    monkeypatch.setattr(retention, "BATCH", 2)

    assert retention.prune(db, 1, FAR_FUTURE) == 6
    assert len(_run_ids(db)) == 1


def test_prune_after_a_job_left_the_config_keeps_its_latest_run(db: Database) -> None:
    job_id = add_jobs(db, "gone")["gone"]
    run_in(db, job_id, Status.FINISHED)
    last = run_in(db, job_id, Status.FINISHED)
    add_jobs(db, "other")  # "gone" is no longer configured

    assert retention.prune(db, 1, FAR_FUTURE) == 1
    assert _run_ids(db) == {last}


def test_prune_never_lowers_the_highest_revision(db: Database) -> None:
    """A scrape's watermark on SQLite is the highest revision plus one: pruning the run that
    holds it would let the next write take a revision below a watermark already handed out.
    So that run is kept until a later write (elsewhere nothing needs it kept)."""
    from sqlalchemy import func, update

    job_id = add_jobs(db, "job")["job"]
    old = run_in(db, job_id, Status.FINISHED)
    run_in(db, job_id, Status.CANCELED)  # the latest
    with db.write() as session:  # the old run is written last: it holds the highest revision
        session.execute(update(Run).where(Run.id == old).values(records=7))

    def highest() -> int:
        with db.read() as session:
            tables = (Job.revision, Run.revision)
            return max(session.scalar(select(func.max(c))) or 0 for c in tables)

    before = highest()
    pruned = retention.prune(db, 30, FAR_FUTURE)
    if db.dialect == "sqlite":
        assert (pruned, highest()) == (0, before)
        add_jobs(db, "other")  # a later write
        assert retention.prune(db, 30, FAR_FUTURE) == 1
        assert highest() > before
    else:
        assert pruned == 1
