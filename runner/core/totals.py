"""Per-job cumulative totals, bumped in the transaction of the event that changes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import Level, Status
from runner.core.storage.models import bucket_column, entered_column, job_totals, journal_column


def ensure(session: Session, job_id: int) -> None:
    """Create the job's totals row if it does not exist yet."""
    found = session.execute(select(job_totals.c.job_id).where(job_totals.c.job_id == job_id))
    if found.first() is None:
        session.execute(insert(job_totals).values(job_id=job_id))


def bump(
    session: Session,
    job_id: int,
    counts: Mapping[str, int | float],
    times: Mapping[str, datetime] | None = None,
) -> None:
    """Add ``counts`` to the job's counters and set the ``times`` columns, in one UPDATE."""
    values: dict[str, object] = {
        name: job_totals.c[name] + amount for name, amount in counts.items() if amount
    }
    values.update(times or {})
    if values:
        session.execute(update(job_totals).where(job_totals.c.job_id == job_id).values(values))


def transition_counts(target: Status, duration: float | None) -> dict[str, int | float]:
    """Counters a transition into ``target`` bumps: the status, its journal line, a duration."""
    counts: dict[str, int | float] = {entered_column(target): 1, journal_column(Level.INFO): 1}
    if duration is not None:
        counts.update(duration_counts(duration))
    return counts


def duration_counts(seconds: float) -> dict[str, int | float]:
    """Histogram increments for one completed run (buckets are cumulative, like ``le``)."""
    counts: dict[str, int | float] = {"duration_count": 1, "duration_sum": seconds}
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            counts[bucket_column(bound)] = 1
    return counts
