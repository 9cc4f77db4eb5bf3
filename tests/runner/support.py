"""Helpers for the runner tests: jobs and runs in a given state, and full table dumps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from runner import catalog, lifecycle
from runner.config import PythonJob
from runner.db import Database
from runner.models import Base, Job, Run, job_totals
from runner.states import ACTIVE, FINAL, Cause, Status

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RUNNER = "runner-a"


def python_job(name: str, func_name: str = "noop", **fields: Any) -> PythonJob:
    """A ``kind: python`` job calling one of :mod:`runner.examples`."""
    return PythonJob(kind="python", name=name, callable=f"runner.examples:{func_name}", **fields)


def add_jobs(db: Database, *names: str) -> dict[str, int]:
    """Create jobs (``noop``) by name; their ids by name."""
    return catalog.sync_jobs(db, [python_job(name) for name in names])


def new_run(db: Database, job_id: int, now: datetime = T0, fire_key: str | None = None) -> int:
    """A new ``editing`` run of the job (the job's latest run); its id."""
    with db.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        run = lifecycle.create_run(session, job, cause=Cause.USER, now=now, fire_key=fire_key)
        assert run is not None
        return run.id


def force_status(db: Database, run_id: int, status: Status, **extra: Any) -> None:
    """Put a run straight into ``status`` (test setup only), with plausible run fields."""
    values: dict[str, Any] = {"status": status.value}
    if status is not Status.EDITING:
        values["started_at"] = T0
    if status in ACTIVE:
        values.update(claimed_by=RUNNER, attempt=1, heartbeat_at=T0)
    if status in FINAL:
        values["ended_at"] = T0 + timedelta(seconds=1)
    values.update(extra)
    with db.write() as session:
        session.execute(update(Run).where(Run.id == run_id).values(values))
        session.execute(update(Job).where(Job.latest_run_id == run_id).values(status=status.value))


def run_in(db: Database, job_id: int, status: Status, **extra: Any) -> int:
    """A new run of the job put straight into ``status``; its id."""
    run_id = new_run(db, job_id)
    force_status(db, run_id, status, **extra)
    return run_id


def get_run(db: Database, run_id: int) -> Run:
    with db.read() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run


def get_job(db: Database, job_id: int) -> Job:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def totals_of(db: Database, job_id: int) -> dict[str, Any]:
    """The job's totals row as a mapping."""
    with db.read() as session:
        row = session.execute(select(job_totals).where(job_totals.c.job_id == job_id)).one()
    return dict(row._mapping)


def count(db: Database, model: Any, *where: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every jobmon table, in primary key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in conn.execute(query)]
    return tables


class Ticker:
    """An injected clock that moves ``step`` seconds on every reading."""

    def __init__(self, start: datetime = T0, step: float = 1.0) -> None:
        self.now, self.step = start, timedelta(seconds=step)

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def pairs() -> Iterator[tuple[Status, Status]]:
    """Every (from, to) pair of statuses."""
    for current in Status:
        for target in Status:
            yield current, target
