"""The one order in which jobmon locks a job's rows, and retries when a database says no.

Every transaction that changes a run takes, in this order:

1. the job's **turn**: its row in ``job_totals``, which every event of the job updates anyway;
2. the **run** (``FOR NO KEY UPDATE``), read again as last committed;
3. the **job** row (its latest run and status).

Two transactions of one job therefore queue on the turn and can never hold each other's next
lock: a status change, a checkpoint, a claim, a fire and a ``jobmon start`` of one job take
turns instead of deadlocking. Heartbeats lock only runs, each in its own statement. SQLite
has no row locks; its writers take the database's write lock at BEGIN instead.

If a database still aborts a transaction as a deadlock or serialization failure (PostgreSQL
40P01/40001, MariaDB 1213/1205), :func:`retrying` runs it again, a few times, after a short
random pause.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.core.storage.db import Database
from runner.core.storage.errors import is_conflict
from runner.core.storage.models import Run, job_totals

T = TypeVar("T")
ATTEMPTS = 5
BASE_PAUSE = 0.05


def job_turn(session: Session, job_id: int, *, skip_locked: bool = False) -> bool:
    """Lock the job's turn (step 1); with ``skip_locked``, False if another has it."""
    query = select(job_totals.c.job_id).where(job_totals.c.job_id == job_id)
    query = query.with_for_update(skip_locked=skip_locked)
    return session.execute(query).first() is not None


def run_turn(session: Session, run_id: int, *, skip_locked: bool = False) -> bool:
    """Lock the turn of the job that ``run_id`` belongs to (a run's job never changes)."""
    job_id = session.scalar(select(Run.job_id).where(Run.id == run_id))
    if job_id is None:
        raise LookupError(f"run {run_id} does not exist")
    return job_turn(session, job_id, skip_locked=skip_locked)


def retrying(db: Database, work: Callable[[Session], T], attempts: int = ATTEMPTS) -> T:
    """``work`` in one write transaction, run again if the database aborts it as a conflict."""
    for attempt in range(1, attempts + 1):
        try:
            with db.write() as session:
                return work(session)
        except Exception as exc:
            if attempt == attempts or not is_conflict(exc):
                raise
            time.sleep(random.uniform(0, BASE_PAUSE * 2**attempt))
    raise AssertionError("unreachable")
