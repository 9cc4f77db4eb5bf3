"""Journal lines, rejects and fenced progress writes, each with its totals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from runner.core import events
from runner.core.events import RejectRecord
from runner.core.fencing import Fence, LostClaim
from runner.core.states import Level, RejectReason, Status
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Reject
from tests.runner.support import RUNNER, T0, add_jobs, count, dump, get_run, run_in, totals_of


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_journal_counts_each_level(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    before = totals_of(db, job_id)

    with db.write() as session:
        for level in (Level.DEBUG, Level.WARNING, Level.ERROR, Level.ERROR):
            events.journal(session, run_id, job_id, level, f"a {level} line", T0)
        events.journal(session, run_id, job_id, Level.INFO, "x" * 5000, T0)

    assert _changes(before, totals_of(db, job_id)) == {
        "journal_debug": 1,
        "journal_warning": 1,
        "journal_error": 2,
        "journal_info": 1,
    }
    with db.read() as session:
        query = select(JournalEntry).where(JournalEntry.run_id == run_id)
        lines = list(session.scalars(query.order_by(JournalEntry.id)))
    assert [line.level for line in lines][-5:] == ["debug", "warning", "error", "error", "info"]
    assert len(lines[-1].message) == events.MAX_MESSAGE


def test_add_rejects_counts_per_reason(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    before = totals_of(db, job_id)
    rejects = [
        RejectRecord(3, "a;b", "b", RejectReason.TYPE, "not a number"),
        RejectRecord(7, "x", None, RejectReason.PARSE, "2 fields expected"),
        RejectRecord(9, "c;d", "b", RejectReason.TYPE, "not a number"),
    ]

    with db.write() as session:
        events.add_rejects(session, run_id, job_id, rejects)
        events.add_rejects(session, run_id, job_id, [])

    assert _changes(before, totals_of(db, job_id)) == {"rejects_type": 2, "rejects_parse": 1}
    assert get_run(db, run_id).rejects == 3
    with db.read() as session:
        rows = list(session.scalars(select(Reject).order_by(Reject.line)))
    stored = [(r.line, r.record, r.field, r.reason, r.message) for r in rows]
    assert stored == [
        (3, "a;b", "b", "type", "not a number"),
        (7, "x", None, "parse", "2 fields expected"),
        (9, "c;d", "b", "type", "not a number"),
    ]


def test_save_progress_under_the_claim(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    fence = Fence(run_id, RUNNER, 1)
    before = totals_of(db, job_id)

    with db.write() as session:
        events.save_progress(session, fence, job_id, T0, records=40)
        events.save_progress(
            session, fence, job_id, T0, records=2, state={"at": 42}, save_state=True
        )

    run = get_run(db, run_id)
    assert (run.records, run.heartbeat_at) == (42, T0)
    assert events.load_checkpoint(run) == {"at": 42}
    assert _changes(before, totals_of(db, job_id)) == {"records_total": 42}


@pytest.mark.parametrize(
    "fence_of", [lambda run_id: Fence(run_id, RUNNER, 0), lambda run_id: Fence(run_id, "b", 1)]
)
def test_save_progress_without_the_claim_changes_nothing(db: Database, fence_of: Any) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    before = dump(db)

    with db.write() as session, pytest.raises(LostClaim):
        events.save_progress(session, fence_of(run_id), job_id, T0, records=5, save_state=True)

    assert dump(db) == before
    assert count(db, Reject) == 0


def test_load_checkpoint_of_a_fresh_run_is_none(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    assert events.load_checkpoint(get_run(db, run_in(db, job_id, Status.EDITING))) is None


def test_journal_under_a_lost_claim_writes_nothing(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)  # held by RUNNER, attempt 1
    held, taken_over = Fence(run_id, RUNNER, 1), Fence(run_id, RUNNER, 0)
    with db.write() as session:
        events.journal(session, run_id, job_id, Level.INFO, "while held", T0, held)
    before = dump(db)

    with pytest.raises(LostClaim), db.write() as session:
        events.journal(session, run_id, job_id, Level.INFO, "after losing it", T0, taken_over)

    assert dump(db) == before
    assert count(db, JournalEntry, JournalEntry.message == "while held") == 1


def test_a_huge_rejected_record_is_stored_cut_on_every_database(db: Database) -> None:
    """A record of 100,000 characters (a validation reject of a huge field) still fits."""
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    huge = "é" * 100_000
    record = RejectRecord(2, huge, "name", RejectReason.LENGTH, "too long", huge.encode())
    with db.write() as session:
        events.add_rejects(session, run_id, job_id, [record])
    with db.read() as session:
        stored = session.scalars(select(Reject).where(Reject.run_id == run_id)).one()
    assert stored.record == huge[: events.MAX_RECORD_CHARS]
    assert stored.raw == huge.encode()[: events.MAX_RAW_BYTES]
