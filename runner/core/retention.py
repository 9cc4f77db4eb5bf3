"""Retention: prune old finished runs with their journal, transitions and rejects.

The per-job totals are never touched, so counters do not go down; a job's latest run is kept
whatever its age, so its status stays known. On SQLite the run holding the highest revision
is kept too, until a later write (see :mod:`runner.core.storage.stamps`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from runner.core.states import FINAL
from runner.core.storage import stamps
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Reject, Run, Transition

BATCH = 500


def prune(db: Database, days: float, now: datetime) -> int:
    """Delete runs that ended more than ``days`` ago, in small batches; returns how many."""
    cutoff = now - timedelta(days=days)
    pruned = 0
    while True:
        with db.write() as session:
            latest = select(Job.latest_run_id).where(Job.latest_run_id.is_not(None))
            ids = list(
                session.scalars(
                    select(Run.id)
                    .where(
                        Run.status.in_([s.value for s in FINAL]),
                        Run.ended_at < cutoff,
                        Run.id.not_in(latest),
                        stamps.prunable(db.dialect, Run.revision),
                    )
                    .order_by(Run.id)
                    .limit(BATCH)
                )
            )
            for child in (JournalEntry, Transition, Reject):
                session.execute(delete(child).where(child.run_id.in_(ids)))
            session.execute(delete(Run).where(Run.id.in_(ids)))
        pruned += len(ids)
        if len(ids) < BATCH:
            return pruned
