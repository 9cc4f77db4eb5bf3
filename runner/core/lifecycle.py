"""The one writer of run status: SPEC §1's transitions applied by conditional updates.

Every status change goes through :func:`transition`, which checks :data:`TRANSITIONS`, updates
the run only if it is still in the status just read (and, for a runner, only while it still
holds the claim), and writes the transition row, a journal line and the job's totals in the same
transaction. Losing a race or asking for an illegal move changes nothing and raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from runner.core import locks, totals
from runner.core.fencing import Fence
from runner.core.states import ACTIVE, FINAL, Cause, Level, Status, caused_by, is_legal
from runner.core.storage.models import Job, JournalEntry, Run, Transition, job_totals


class TransitionError(Exception):
    """A transition that was refused; nothing was changed."""

    def __init__(self, run_id: int, current: Status, target: Status, detail: str = "") -> None:
        self.run_id, self.current, self.target = run_id, current, target
        message = f"run {run_id} is {current.value} ({current.label}): cannot move to {target}"
        super().__init__(f"{message}{': ' + detail if detail else ''}")


def transition(
    session: Session,
    run_id: int,
    target: Status,
    *,
    cause: Cause,
    now: datetime,
    reason: str | None = None,
    fence: Fence | None = None,
    claim_by: str | None = None,
    actor: str | None = None,
) -> Run:
    """Move a run to ``target`` or raise :class:`TransitionError`; returns the updated run.

    ``fence`` makes the move conditional on the runner's claim; ``claim_by`` takes a new
    claim (a runner starting the run), bumping the attempt number; ``actor`` names the
    console user who asked (stored as cause ``user:<actor>``).
    """
    # The job's turn, then the run (see runner.core.locks): a second request waits here,
    # then sees the first one's outcome. (Left to the UPDATE, MariaDB may search the status
    # index and deadlock two requests.)
    locks.run_turn(session, run_id)
    run = _load(session, run_id, latest=True)
    current = Status(run.status)
    if fence is not None and not fence.holds(run):
        raise fence.lost()
    if not is_legal(current, target):
        raise TransitionError(run_id, current, target)
    where = [Run.id == run_id, Run.status == current.value, Run.attempt == run.attempt]
    if fence is not None:
        where += fence.held()
    values = _run_values(run, target, now, claim_by)
    result = execute_dml(session, update(Run).where(*where).values(values))
    if result.rowcount != 1:
        _raise_lost(session, run_id, target, fence)
    _record(session, run, current, target, caused_by(cause, actor), reason, now)
    session.refresh(run)
    return run


def execute_dml(session: Session, statement: Executable) -> CursorResult[Any]:
    """Execute a DML statement; its result is a cursor result (rowcount, inserted key)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result


def _load(session: Session, run_id: int, *, latest: bool = False) -> Run:
    # ``latest``: a locking read, which sees the newest committed row even where the
    # transaction reads from a snapshot (MariaDB's REPEATABLE READ). PostgreSQL takes the
    # lock an UPDATE of the run takes anyway (FOR NO KEY UPDATE); SQLite has no row locks.
    lock = {"key_share": True} if latest else None
    run = session.get(Run, run_id, populate_existing=True, with_for_update=lock)
    if run is None:
        raise LookupError(f"run {run_id} does not exist")
    return run


def _run_values(run: Run, target: Status, now: datetime, claim_by: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"status": target.value}
    if target is Status.RUNNING:
        values["heartbeat_at"] = now
        if run.started_at is None:
            values["started_at"] = now
    if claim_by is not None:
        values.update(claimed_by=claim_by, attempt=run.attempt + 1)
    elif target not in ACTIVE:
        values["claimed_by"] = None
    if target in FINAL:
        values["ended_at"] = now
    return values


def _raise_lost(session: Session, run_id: int, target: Status, fence: Fence | None) -> None:
    run = _load(session, run_id, latest=True)
    if fence is not None and not fence.holds(run):
        raise fence.lost()
    raise TransitionError(run_id, Status(run.status), target, "it changed concurrently")


def _record(
    session: Session,
    run: Run,
    current: Status,
    target: Status,
    cause: str,
    reason: str | None,
    now: datetime,
) -> None:
    text = f"Status changed from {current.label} to {target.label} by {cause}"
    _add_transition(session, run.id, current, target, cause, reason, now, text)
    start = run.started_at or now
    duration = max(0.0, (now - start).total_seconds()) if target in FINAL else None
    counts = totals.transition_counts(target, duration)
    totals.bump(session, run.job_id, counts, _last_times(current, target, now))
    session.execute(
        update(Job)
        .where(Job.id == run.job_id, Job.latest_run_id == run.id)
        .values(status=target.value)
    )
    session.flush()


def _add_transition(
    session: Session,
    run_id: int,
    current: Status | None,
    target: Status,
    cause: str,
    reason: str | None,
    now: datetime,
    text: str,
) -> None:
    """The transition row and its journal line (``text``, then the reason if any)."""
    session.add(
        Transition(
            run_id=run_id,
            at=now,
            from_status=current.value if current is not None else None,
            to_status=target.value,
            cause=cause,
            reason=reason,
        )
    )
    message = f"{text}: {reason}" if reason else text
    session.add(JournalEntry(run_id=run_id, at=now, level=Level.INFO.value, message=message))


def _last_times(current: Status, target: Status, now: datetime) -> dict[str, datetime]:
    """The totals' last start, success and failure times a transition sets."""
    times: dict[str, datetime] = {}
    if current is Status.EDITING and target is Status.RUNNING:
        times["last_start_at"] = now
    if target is Status.FINISHED:
        times["last_success_at"] = now
    elif target is Status.FINISHED_WITH_ERRORS:
        times["last_failure_at"] = now
    return times


def create_run(
    session: Session,
    job: Job,
    *,
    cause: Cause,
    now: datetime,
    fire_key: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> Run | None:
    """Create a run in ``editing``; None if this (job, fire time) already has one."""
    # Creators of a job's runs take the job's turn like every writer (runner.core.locks):
    # two runners inserting the same fire do not deadlock on MariaDB.
    locks.job_turn(session, job.id)
    run_id = _insert_run(session, job, fire_key, now)
    if run_id is None:
        return None
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(latest_run_id=run_id, status=Status.EDITING.value)
    )
    who = caused_by(cause, actor)
    text = f"Run created by {who}"
    _add_transition(session, run_id, None, Status.EDITING, who, reason, now, text)
    counts = totals.transition_counts(Status.EDITING, None)
    counts["runs_total"] = 1
    totals.bump(session, job.id, counts)
    session.flush()
    return _load(session, run_id)


def _insert_run(session: Session, job: Job, fire_key: str | None, now: datetime) -> int | None:
    """The new run's id; None if (job, fire time) already has a run."""
    # The caller holds the job's turn, so no other run of the job is being numbered.
    runs_so_far = session.scalar(
        select(job_totals.c.runs_total).where(job_totals.c.job_id == job.id)
    )
    values = {
        "job_id": job.id,
        "number": (runs_so_far or 0) + 1,
        "fire_key": fire_key,
        "status": Status.EDITING.value,
        "attempt": 0,
        "created_at": now,
        "records": 0,
        "rejects": 0,
    }
    try:
        with session.begin_nested():
            created = execute_dml(session, insert(Run).values(values))
    except IntegrityError:
        return None
    key = created.inserted_primary_key
    assert key is not None
    return int(key[0])


def latest_run(session: Session, job: Job, *, locked: bool = False) -> Run | None:
    """The job's latest run, or None if it never ran (``locked``: as last committed)."""
    if job.latest_run_id is None:
        return None
    lock = {"key_share": True} if locked else None
    return session.get(Run, job.latest_run_id, populate_existing=True, with_for_update=lock)


def lock_job(session: Session, job: Job) -> Run | None:
    """Take the job's turn to create or restart runs; its latest run as last committed.

    Whoever decides from the latest run whether to create one (a fire, ``jobmon start``) must
    hold this until commit, or a fire and a start at the same moment could both create one.
    The job's turn is taken first, as every writer does (runner.core.locks).
    """
    locks.job_turn(session, job.id)
    session.refresh(job, with_for_update=True)
    return latest_run(session, job, locked=True)


def claim(session: Session, run: Run, runner_id: str, now: datetime) -> Fence:
    """Take a run for ``runner_id``: start an ``editing`` run, or pick up a resumed one.

    A resumed or restarted run is already ``running`` with no runner; claiming it bumps the
    attempt number, so whoever held it before can no longer write.
    """
    locks.job_turn(session, run.job_id)
    if run.status == Status.EDITING.value:
        started = transition(
            session,
            run.id,
            Status.RUNNING,
            cause=Cause.RUNNER,
            now=now,
            claim_by=runner_id,
            reason=f"claimed by runner {runner_id}",
        )
        return Fence(run.id, runner_id, started.attempt)
    attempt = run.attempt + 1
    condition = (
        Run.id == run.id,
        Run.status == Status.RUNNING.value,
        Run.claimed_by.is_(None),
        Run.attempt == run.attempt,
    )
    values = {"claimed_by": runner_id, "attempt": attempt, "heartbeat_at": now}
    if execute_dml(session, update(Run).where(*condition).values(values)).rowcount != 1:
        current = _load(session, run.id, latest=True)
        raise TransitionError(run.id, Status(current.status), Status.RUNNING, "already claimed")
    message = f"Picked up by runner {runner_id} (attempt {attempt})"
    session.add(JournalEntry(run_id=run.id, at=now, level=Level.INFO.value, message=message))
    totals.bump(session, run.job_id, {"journal_info": 1})
    return Fence(run.id, runner_id, attempt)
