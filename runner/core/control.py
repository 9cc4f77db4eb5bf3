"""What users ask for (CLI and API): start, pause, resume and cancel a job's latest run.

These only request transitions in the database; runners act on them at their next checkpoint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from runner.core import lifecycle
from runner.core.catalog import job_by_name
from runner.core.lifecycle import TransitionError
from runner.core.states import FINAL, Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run


class Refused(Exception):
    """A request the job's current status does not allow; nothing was changed (exit 3)."""


class UnknownJob(LookupError):
    """No job of that name in the database (is it in the config?)."""


RESTARTABLE = frozenset({Status.PAUSED, Status.SERVER_STOPPED})


def start(db: Database, name: str, now: datetime) -> tuple[Run, bool]:
    """Start the job: resume its paused or server-stopped run, or create a new run.

    Returns the run and whether it was resumed.
    """
    with db.write() as session:
        job = _job(session, name)
        latest = lifecycle.lock_job(session, job)
        if latest is not None and Status(latest.status) in RESTARTABLE:
            return _move(session, job, latest, Status.RUNNING, "resume", now), True
        if latest is not None and Status(latest.status) not in FINAL:
            raise Refused(_refusal(job, latest, "start", "it already has an active run"))
        run = lifecycle.create_run(session, job, cause=Cause.USER, now=now, reason="jobmon start")
        assert run is not None
        return run, False


def pause(db: Database, name: str, now: datetime) -> Run:
    """Ask the job's running run to pause at its next checkpoint."""
    return _request(db, name, "pause", now, {Status.RUNNING: Status.PAUSING})


def resume(db: Database, name: str, now: datetime) -> Run:
    """Resume a paused run, or restart a server-stopped one, from its last checkpoint."""
    return _request(db, name, "resume", now, {s: Status.RUNNING for s in RESTARTABLE})


CANCEL_TARGETS = {
    Status.RUNNING: Status.CANCELING,
    Status.PAUSING: Status.CANCELING,
    Status.EDITING: Status.CANCELED,
    Status.PAUSED: Status.CANCELED,
    Status.SERVER_STOPPED: Status.CANCELED,
}


def cancel(db: Database, name: str, now: datetime) -> Run:
    """Cancel the job's latest run: at once if no runner holds it, else at its checkpoint."""
    return _request(db, name, "cancel", now, CANCEL_TARGETS)


def _request(
    db: Database, name: str, verb: str, now: datetime, targets: dict[Status, Status]
) -> Run:
    with db.write() as session:
        job = _job(session, name)
        latest = lifecycle.latest_run(session, job)
        if latest is None:
            raise Refused(f"cannot {verb} job {name!r}: it has never run")
        target = targets.get(Status(latest.status))
        if target is None:
            raise Refused(_refusal(job, latest, verb))
        return _move(session, job, latest, target, verb, now)


def _move(session: Session, job: Job, run: Run, target: Status, verb: str, now: datetime) -> Run:
    try:
        return lifecycle.transition(
            session, run.id, target, cause=Cause.USER, now=now, reason=f"jobmon {verb}"
        )
    except TransitionError as exc:
        raise Refused(_refusal(job, run, verb, f"it changed meanwhile ({exc})")) from None


def _refusal(job: Job, run: Run, verb: str, why: str = "") -> str:
    status = Status(run.status)
    text = f"cannot {verb} job {job.name!r}: its latest run {run.id} is {status.value}"
    text += f" ({status.label})"
    return f"{text}; {why}" if why else text


def _job(session: Session, name: str) -> Job:
    job = job_by_name(session, name)
    if job is None or not job.defined:
        raise UnknownJob(f"no job named {name!r} in the config")
    return job
