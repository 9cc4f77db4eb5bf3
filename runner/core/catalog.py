"""Keeps the ``jobs`` table in step with the config's job definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from runner.core import locks, totals
from runner.core.config import JobBase
from runner.core.storage.db import Database
from runner.core.storage.models import Job


def sync_jobs(db: Database, jobs: Sequence[JobBase]) -> dict[str, int]:
    """Create or update a row per configured job; jobs no longer configured are marked so.

    Safe when several processes start at once (every command syncs when it starts): a lost
    insert race is tried again as an update, and a deadlock between two inserts of the same
    new job (InnoDB's duplicate-key locks) as a whole (:func:`locks.retrying`). Returns the
    job ids by name.
    """
    work = partial(_sync, jobs=jobs)
    for _ in range(3):
        try:
            return locks.retrying(db, work)
        except IntegrityError:
            continue
    return locks.retrying(db, work)


def _sync(session: Session, jobs: Sequence[JobBase]) -> dict[str, int]:
    existing = {job.name: job for job in session.scalars(select(Job))}
    ids: dict[str, int] = {}
    for spec in jobs:
        row = existing.get(spec.name)
        if row is None:
            row = Job(name=spec.name, status="editing")
            session.add(row)
        row.kind = str(getattr(spec, "kind", ""))
        row.schedule = spec.schedule or ""
        row.after = spec.after
        row.max_rejects = spec.max_rejects
        row.max_duration_seconds = spec.max_duration_seconds
        row.defined = True
        session.flush()
        totals.ensure(session, row.id)
        ids[spec.name] = row.id
    gone = [job.id for name, job in existing.items() if name not in ids and job.defined]
    if gone:
        session.execute(update(Job).where(Job.id.in_(gone)).values(defined=False, next_run_at=None))
    return ids


def job_by_name(session: Session, name: str) -> Job | None:
    """The job row called ``name``, if any."""
    return session.scalars(select(Job).where(Job.name == name)).first()


def set_next_runs(db: Database, next_runs: Mapping[str, datetime | None]) -> None:
    """Store each scheduled job's next fire time (``jobmon_job_next_run_timestamp_seconds``).

    Only the rows whose time differs are updated: an UPDATE makes the exporter read the job
    again (its revision), and most jobs keep their next fire time when one job fires.
    """
    with db.write() as session:
        for name, at in next_runs.items():
            changed = Job.next_run_at.is_distinct_from(at)
            session.execute(update(Job).where(Job.name == name, changed).values(next_run_at=at))
