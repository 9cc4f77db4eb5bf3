"""Read-only views of jobs and runs for the CLI (and later the web pages): the job list,
the General tab, the Journal tab and the Rejects tab."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, select
from sqlalchemy.orm import Session

from runner.core.states import Status
from runner.core.storage.models import Job, JournalEntry, Reject, Run, Transition


@dataclass(frozen=True)
class JobRow:
    """A line of the job list."""

    name: str
    kind: str
    status: Status
    schedule: str
    # The job whose finished run starts this one (``after:``), if any.
    after: str | None
    run_id: int | None
    run_number: int | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    next_run_at: datetime | None
    records: int
    rejects: int
    max_rejects: int | None
    # False when no runner is up: the next run will not happen until one starts.
    runner_up: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return _jsonable(asdict(self)) | {"label": self.status.label}


def job_list(session: Session, runner_up: bool) -> list[JobRow]:
    """Every configured job with its latest run, by name."""
    query = (
        select(Job, Run)
        .outerjoin(Run, Run.id == Job.latest_run_id)
        .where(Job.defined.is_(True))
        .order_by(Job.name)
    )
    return [job_row(job, run, runner_up) for job, run in session.execute(query)]


def job_row(job: Job, run: Run | None, runner_up: bool) -> JobRow:
    """The job list line of ``job`` and its latest run."""
    return JobRow(
        name=job.name,
        kind=job.kind,
        status=Status(job.status),
        schedule=job.schedule,
        after=job.after,
        run_id=run.id if run else None,
        run_number=run.number if run else None,
        started_at=run.started_at if run else None,
        ended_at=run.ended_at if run else None,
        duration_seconds=run_duration(run) if run else None,
        next_run_at=job.next_run_at,
        records=run.records if run else 0,
        rejects=run.rejects if run else 0,
        max_rejects=job.max_rejects,
        runner_up=runner_up,
    )


def run_duration(run: Run) -> float | None:
    """Seconds from start to end, or to the last heartbeat while it runs; None before start."""
    if run.started_at is None:
        return None
    return ((run.ended_at or run.heartbeat_at or run.started_at) - run.started_at).total_seconds()


def find_run(session: Session, job: Job, number: int | None) -> Run | None:
    """The job's run ``number`` (1, 2, ... within the job), or its latest run; None if none."""
    if number is None:
        return None if job.latest_run_id is None else session.get(Run, job.latest_run_id)
    query = select(Run).where(Run.job_id == job.id, Run.number == number)
    return session.scalars(query).one_or_none()


def run_name(session: Session, run_id: int) -> str:
    """How people know a run: ``import-customers run 3`` (its number within the job)."""
    row = session.execute(
        select(Job.name, Run.number).join(Run, Run.job_id == Job.id).where(Run.id == run_id)
    ).first()
    return f"{row[0]} run {row[1]}" if row is not None else f"run id {run_id}"


def transitions(session: Session, run: Run) -> list[Transition]:
    """The run's transitions, oldest first."""
    return list(
        session.scalars(
            select(Transition).where(Transition.run_id == run.id).order_by(Transition.id)
        )
    )


def run_reason(session: Session, run: Run) -> str | None:
    """Why the run is in its status: the reason of the transition that put it there."""
    query = (
        select(Transition.reason)
        .where(Transition.run_id == run.id, Transition.to_status == run.status)
        .order_by(Transition.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def journal(session: Session, run: Run, limit: int | None = None) -> list[JournalEntry]:
    """The run's journal, oldest first (the newest ``limit`` lines when given)."""
    query = select(JournalEntry).where(JournalEntry.run_id == run.id)
    if limit is None:
        return list(session.scalars(query.order_by(JournalEntry.id)))
    newest = list(session.scalars(query.order_by(JournalEntry.id.desc()).limit(limit)))
    return newest[::-1]


def rejects(session: Session, run: Run) -> list[Reject]:
    """The run's rejected records by source line."""
    query = select(Reject).where(Reject.run_id == run.id).order_by(Reject.line, Reject.id)
    return list(session.scalars(query))


def run_dict(run: Run) -> dict[str, Any]:
    """The General tab's run fields, JSON-friendly."""
    status = Status(run.status)
    return _jsonable(
        {
            "number": run.number,
            "id": run.id,
            "status": status.value,
            "label": status.label,
            "fire_key": run.fire_key,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "duration_seconds": run_duration(run),
            "records": run.records,
            "rejects": run.rejects,
            "attempt": run.attempt,
            "runner": run.claimed_by,
            "heartbeat_at": run.heartbeat_at,
        }
    )


def row_dict(row: JournalEntry | Reject | Transition) -> dict[str, Any]:
    """A journal line, reject or transition as a JSON-friendly mapping.

    A reject's bytes as read are left out: they are for the CSV of the rejects, and its
    ``record`` holds the same text.
    """
    # By column type, not value: every reject has the same keys, with bytes or without.
    columns = [c for c in row.__table__.columns if not isinstance(c.type, LargeBinary)]
    return _jsonable({c.key: getattr(row, c.key) for c in columns})


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}
