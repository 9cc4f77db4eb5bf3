"""The runner's database moves: create fired runs, claim runs, heartbeat, reap stale runs."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from runner.core import lifecycle, locks
from runner.core.catalog import job_by_name
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.states import ACTIVE, FINAL, Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run, Transition
from runner.core.views import run_name


@dataclass(frozen=True)
class Fire:
    """A schedule firing: which job, and the fire time it was due at."""

    job_name: str
    at: datetime

    @property
    def key(self) -> str:
        """The run's unique fire key: the scheduled time in UTC, to the second."""
        return self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_fired_runs(db: Database, fires: Iterable[Fire], now: datetime) -> list[str]:
    """Create a run per fire unless one exists for that fire time or the job is still busy.

    Returns a line per fire saying what happened, for the runner's log.
    """
    outcomes: list[str] = []
    for fire in fires:
        outcomes.append(locks.retrying(db, partial(_create_fired_run, fire=fire, now=now)))
    return outcomes


def _create_fired_run(session: Session, fire: Fire, now: datetime) -> str:
    job = job_by_name(session, fire.job_name)
    if job is None:
        return f"{fire.job_name}: fire at {fire.key} ignored: job not in the database"
    latest = lifecycle.lock_job(session, job)
    if latest is not None and latest.status == Status.SERVER_STOPPED.value:
        # Interrupted by infrastructure, not by a person: the schedule restarts it from its
        # last checkpoint. A paused run stays paused until someone resumes it.
        try:
            lifecycle.transition(
                session,
                latest.id,
                Status.RUNNING,
                cause=Cause.SCHEDULER,
                now=now,
                reason=f"restarted from its last checkpoint by the schedule ({job.schedule})",
            )
        except TransitionError as exc:  # another runner handled the same fire first
            return f"{job.name}: fire at {fire.key} skipped: {exc}"
        return f"{job.name}: run {latest.number} restarted for fire at {fire.key}"
    if latest is not None and Status(latest.status) not in FINAL:
        return f"{job.name}: fire at {fire.key} skipped: run {latest.number} is {latest.status}"
    run = lifecycle.create_run(
        session,
        job,
        cause=Cause.SCHEDULER,
        now=now,
        fire_key=fire.key,
        reason=f"scheduled ({job.schedule})",
    )
    if run is None:
        return f"{job.name}: fire at {fire.key} already has a run"
    return f"{job.name}: run {run.number} created for fire at {fire.key}"


def claimable(job_ids: Collection[int]) -> ColumnElement[bool]:
    """Runs waiting for a runner: new ones, and resumed or restarted ones with no runner."""
    waiting = or_(
        Run.status == Status.EDITING.value,
        and_(Run.status == Status.RUNNING.value, Run.claimed_by.is_(None)),
    )
    return and_(waiting, Run.job_id.in_(list(job_ids)))


def claim_next(
    db: Database, job_ids: Collection[int], runner_id: str, now: datetime
) -> Fence | None:
    """Claim the oldest waiting run of ``job_ids``; None if there is none.

    Candidates are read without locks; each is then taken with its job's turn first, as every
    writer does (runner.core.locks). A job whose turn another transaction holds is skipped
    for now, and a run someone else claimed meanwhile is refused by the claim's conditions.
    """
    if not job_ids:
        return None
    with db.read() as session:
        query = select(Run.id, Run.job_id).where(claimable(job_ids)).order_by(Run.id).limit(20)
        candidates = [(row[0], row[1]) for row in session.execute(query)]
    for run_id, job_id in candidates:
        claim = partial(_claim, run_id=run_id, job_id=job_id, runner_id=runner_id, now=now)
        fence = locks.retrying(db, claim)
        if fence is not None:
            return fence
    return None


def _claim(
    session: Session, run_id: int, job_id: int, runner_id: str, now: datetime
) -> Fence | None:
    if not locks.job_turn(session, job_id, skip_locked=True):
        return None
    run = session.get(Run, run_id, populate_existing=True, with_for_update={"key_share": True})
    if run is None:
        return None
    try:
        return lifecycle.claim(session, run, runner_id, now)
    except TransitionError:
        return None


def restart_stopped(
    db: Database, job_ids: Collection[int], max_restarts: int, now: datetime
) -> list[str]:
    """Restart from their checkpoints the jobs' latest runs that are ``server_stopped``, each
    at most ``max_restarts`` times; then a stopped run waits for a person. A line each."""
    if not job_ids or max_restarts <= 0:
        return []
    latest = select(Job.latest_run_id).where(Job.id.in_(list(job_ids)))
    stopped = and_(Run.id.in_(latest), Run.status == Status.SERVER_STOPPED.value)
    with db.read() as session:
        runs = [
            (row[0], row[1]) for row in session.execute(select(Run.id, Run.job_id).where(stopped))
        ]
    restart = partial(_restart, max_restarts=max_restarts, now=now)
    lines = [locks.retrying(db, partial(restart, run_id=r, job_id=j)) for r, j in runs]
    return [line for line in lines if line]


AUTOMATIC = "restarted automatically"


def _restart(session: Session, run_id: int, job_id: int, max_restarts: int, now: datetime) -> str:
    if not locks.job_turn(session, job_id, skip_locked=True):
        return ""  # held by another transaction: the next pass
    run = session.get(Run, run_id, populate_existing=True, with_for_update={"key_share": True})
    if run is None or run.status != Status.SERVER_STOPPED.value:
        return ""
    done = (
        session.scalar(
            select(func.count()).where(
                Transition.run_id == run_id, Transition.reason.like(f"{AUTOMATIC}%")
            )
        )
        or 0
    )
    if done >= max_restarts:
        return ""
    last = (
        " (the last: if it stops again, it waits for a person)" if done + 1 == max_restarts else ""
    )
    reason = f"{AUTOMATIC} from its last checkpoint, {done + 1} of {max_restarts}{last}"
    lifecycle.transition(
        session, run_id, Status.RUNNING, cause=Cause.RUNNER, now=now, reason=reason
    )
    return f"{run_name(session, run_id)}: {reason}"


def claim_run(db: Database, run_id: int, runner_id: str, now: datetime) -> Fence:
    """Claim one given run (``run_once``); raises if it is not waiting for a runner."""
    with db.write() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return lifecycle.claim(session, run, runner_id, now)


def heartbeat(db: Database, fences: Iterable[Fence], now: datetime) -> list[Fence]:
    """Refresh the heartbeat of each held run; returns the fences that were lost."""
    lost: list[Fence] = []
    with db.write() as session:
        for fence in fences:
            held = update(Run).where(*fence.held()).values(heartbeat_at=now)
            if lifecycle.execute_dml(session, held).rowcount != 1:
                lost.append(fence)
    return lost


def reap_stale(db: Database, stale_after: float, now: datetime) -> list[str]:
    """Mark ``server_stopped`` every active run whose heartbeat is older than ``stale_after``."""
    cutoff = now - timedelta(seconds=stale_after)
    stale = _stale(Run.heartbeat_at < cutoff)
    with db.read() as session:
        run_ids = list(session.scalars(select(Run.id).where(stale).order_by(Run.id)))
    reap = partial(_reap, stale=stale, stale_after=stale_after, now=now)
    lines = [locks.retrying(db, partial(reap, run_id=r)) for r in run_ids]
    return [line for line in lines if line]


def _stale(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(Run.status.in_([s.value for s in ACTIVE]), condition)


def _reap(
    session: Session, run_id: int, stale: ColumnElement[bool], stale_after: float, now: datetime
) -> str:
    """Reap the run if it is still stale once its job's turn and the run are locked (a turn
    another transaction holds is left for the next pass: the runner's loop never waits)."""
    if not locks.run_turn(session, run_id, skip_locked=True):
        return ""
    locked = select(Run).where(Run.id == run_id, stale).with_for_update(key_share=True)
    run = session.scalars(locked.execution_options(populate_existing=True)).first()
    if run is None:
        return ""  # it moved on (a heartbeat, an end) since it was found
    owner = f"runner {run.claimed_by}" if run.claimed_by else "no runner"
    reason = f"no heartbeat for {stale_after:g}s ({owner})"
    try:
        lifecycle.transition(
            session, run.id, Status.SERVER_STOPPED, cause=Cause.REAPER, now=now, reason=reason
        )
    except (TransitionError, LostClaim) as exc:
        return f"{run_name(session, run.id)}: not reaped: {exc}"
    return f"{run_name(session, run.id)}: server_stopped ({reason})"
