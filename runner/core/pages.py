"""Paged read views for the console and its API: the job list with counts per status and a
name search, a job's runs, and a run's journal and rejects, one page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from runner.core.states import Level, Status
from runner.core.storage.models import Job, JournalEntry, Reject, Run
from runner.core.views import JobRow, job_row

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items, with where it sits in the whole."""

    items: Sequence[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, -(-self.total // self.size))


def _page(session: Session, query: Select[T], number: int, size: int) -> Page[T]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = max(1, min(number, max(1, -(-(total or 0) // size))))
    items = list(session.scalars(query.offset((number - 1) * size).limit(size)))
    return Page(items, int(total or 0), number, size)


def status_counts(session: Session) -> dict[Status, int]:
    """How many configured jobs are in each status (every status present, maybe 0)."""
    query = select(Job.status, func.count()).where(Job.defined.is_(True)).group_by(Job.status)
    counts = dict.fromkeys(Status, 0)
    for status, count in session.execute(query):
        counts[Status(status)] = int(count)
    return counts


def job_page(
    session: Session,
    *,
    runner_up: bool,
    status: Status | None = None,
    search: str = "",
    number: int = 1,
    size: int = 50,
) -> Page[JobRow]:
    """A page of the job list by name, filtered by status and a part of the name."""
    query = select(Job).where(Job.defined.is_(True)).order_by(Job.name)
    if status is not None:
        query = query.where(Job.status == status.value)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Job.name.like(pattern, escape="\\"))
    jobs = _page(session, query, number, size)
    ids = [job.latest_run_id for job in jobs.items if job.latest_run_id is not None]
    runs = {run.id: run for run in session.scalars(select(Run).where(Run.id.in_(ids)))}
    rows = [job_row(job, runs.get(job.latest_run_id or 0), runner_up) for job in jobs.items]
    return Page(rows, jobs.total, jobs.number, jobs.size)


def runs_page(session: Session, job: Job, number: int = 1, size: int = 50) -> Page[Run]:
    """A page of the job's runs, newest first."""
    query = select(Run).where(Run.job_id == job.id).order_by(Run.id.desc())
    return _page(session, query, number, size)


def journal_page(
    session: Session, run: Run, *, level: Level | None = None, number: int = 1, size: int = 100
) -> Page[JournalEntry]:
    """A page of the run's journal, oldest first, at one level or all."""
    query = select(JournalEntry).where(JournalEntry.run_id == run.id).order_by(JournalEntry.id)
    if level is not None:
        query = query.where(JournalEntry.level == level.value)
    return _page(session, query, number, size)


def rejects_page(session: Session, run: Run, number: int = 1, size: int = 100) -> Page[Reject]:
    """A page of the run's rejects, by source line."""
    query = select(Reject).where(Reject.run_id == run.id).order_by(Reject.line, Reject.id)
    return _page(session, query, number, size)
