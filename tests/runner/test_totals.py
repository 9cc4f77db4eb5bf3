"""Per-job totals agree with what the runs, transitions, journal and rejects tables say."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import FINAL, Level, RejectReason, Status
from runner.core.storage.db import Database
from runner.core.storage.models import (
    JournalEntry,
    Reject,
    Run,
    Transition,
    bucket_column,
    entered_column,
    journal_column,
    rejects_column,
)
from tests.runner.support import every_outcome, totals_by_job


def _from_tables(db: Database, job_id: int) -> dict[str, Any]:
    """What the totals must be, recomputed from the detailed tables."""
    with db.read() as session:
        runs = list(session.scalars(select(Run).where(Run.job_id == job_id)))
        ids = [r.id for r in runs]
        moves = list(
            session.scalars(select(Transition.to_status).where(Transition.run_id.in_(ids)))
        )
        levels = list(
            session.scalars(select(JournalEntry.level).where(JournalEntry.run_id.in_(ids)))
        )
        reasons = list(session.scalars(select(Reject.reason).where(Reject.run_id.in_(ids))))
    entered, journal, rejects = Counter(moves), Counter(levels), Counter(reasons)
    ended = [r for r in runs if Status(r.status) in FINAL]
    durations = [(r.ended_at - (r.started_at or r.ended_at)).total_seconds() for r in ended]  # type: ignore[operator]
    expected: dict[str, Any] = {
        "job_id": job_id,
        "runs_total": len(runs),
        "records_total": sum(r.records for r in runs),
        "duration_count": len(ended),
        "duration_sum": sum(durations),
        "last_start_at": _latest(r.started_at for r in runs),
        "last_success_at": _latest(r.ended_at for r in runs if r.status == "finished"),
        "last_failure_at": _latest(r.ended_at for r in runs if r.status == "finished_with_errors"),
    }
    expected |= {entered_column(s): entered[s.value] for s in Status}
    expected |= {journal_column(lv): journal[lv.value] for lv in Level}
    expected |= {rejects_column(r): rejects[r.value] for r in RejectReason}
    expected |= {bucket_column(b): sum(d <= b for d in durations) for b in DURATION_BUCKETS}
    return expected


def _latest(times: Any) -> datetime | None:
    return max((t for t in times if t is not None), default=None)


def test_totals_match_the_tables_after_every_outcome(db: Database) -> None:
    every_outcome(db)

    totals = totals_by_job(db)
    for name, row in totals.items():
        del row["name"]
        assert row == _from_tables(db, row["job_id"]), name
    assert totals["too-many"]["rejects_other"] == 10
    assert totals["failing"]["entered_finished_with_errors"] == 2
    assert totals["ok"]["entered_canceled"] == 1
    noop = totals["noop"]
    assert (noop["entered_paused"], noop["entered_server_stopped"], noop["runs_total"]) == (1, 1, 3)
    # Durations spread over several buckets, so the histogram is not trivially all ones.
    assert len({totals["ok"][bucket_column(b)] for b in DURATION_BUCKETS}) > 1
