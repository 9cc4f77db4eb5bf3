"""Helpers for the runner tests: jobs and runs in a given state, and full table dumps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update

from runner.core import catalog, claims, config, control, lifecycle
from runner.core.config import Config, PythonJob
from runner.core.states import ACTIVE, FINAL, Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Base, Job, Run, job_totals
from runner.executor import worker

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
    """The job's totals row as a mapping (its counters and times: not its revision, which
    only says how many times the row was written)."""
    with db.read() as session:
        row = session.execute(select(job_totals).where(job_totals.c.job_id == job_id)).one()
    return {name: value for name, value in row._mapping.items() if name != "revision"}


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


EXAMPLE_JOBS: list[dict[str, Any]] = [
    {"name": "ok", "params": {"total": 30, "step": 10}},
    {"name": "tolerated", "params": {"total": 30, "step": 10, "reject_every": 7}, "max_rejects": 9},
    {"name": "too-many", "params": {"total": 30, "step": 10, "reject_every": 4}, "max_rejects": 3},
    {"name": "failing", "params": {"total": 30, "step": 10, "reject_every": 4, "fail_at": 15}},
    {"name": "crash", "callable": "runner.examples:crash"},
    {"name": "noop", "callable": "runner.examples:noop"},
]


def example_config() -> Config:
    """A config of ``runner.examples`` jobs with every outcome a run can have on its own."""
    jobs = [{"kind": "python", "callable": "runner.examples:count", **job} for job in EXAMPLE_JOBS]
    return config.parse({"runner": {"id": RUNNER}, "jobs": jobs})


def every_outcome(db: Database) -> None:
    """Runs of the example jobs ending every way, including paused, canceled and reaped."""
    config = example_config()
    for step in (1, 7):  # short runs, then runs long enough for other duration buckets
        for job in config.jobs:
            worker.run_once(config, db, job.name, clock=Ticker(step=step))
    ticker = Ticker(start=T0 + timedelta(days=1), step=3)
    run, _ = control.start(db, "ok", ticker())
    control.cancel(db, "ok", ticker())  # editing -> canceled: never started
    run, _ = control.start(db, "noop", ticker())
    fence = claims.claim_run(db, run.id, "r1", ticker())
    control.pause(db, "noop", ticker())
    with db.write() as session:
        lifecycle.transition(
            session, run.id, Status.PAUSED, cause=Cause.RUNNER, now=ticker(), fence=fence
        )
    control.start(db, "noop", ticker())  # resumed
    claims.claim_next(db, [run.job_id], "r2", ticker())
    claims.reap_stale(db, 1, ticker())  # no heartbeat: server_stopped
    control.cancel(db, "noop", ticker())


def totals_by_job(db: Database) -> dict[str, dict[str, Any]]:
    with db.read() as session:
        query = select(Job.name, job_totals).join(job_totals, job_totals.c.job_id == Job.id)
        return {
            row[0]: {k: v for k, v in row._mapping.items() if k != "revision"}
            for row in session.execute(query)
        }


T = TypeVar("T")


def at_once(db_url: str, action: Callable[[Database, int], T]) -> list[T]:
    """Run ``action(db, i)`` in two threads, each with its own Database, released together."""
    dbs = [Database(db_url), Database(db_url)]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(dbs[i], i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for db in dbs:
        db.dispose()
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results
