"""What users ask for (CLI and console): start, pause, resume and cancel a job's latest run.

A request moves the run in the database; a runner that holds the run acts on it at the job's
next checkpoint. A run no runner holds (a start or a resume nobody has picked up yet) obeys
at once: pausing it leaves it ``paused``, canceling it leaves it ``canceled``, through the
same legal transitions, with the journal saying no runner held it. Each request is one
transaction, run again if the database aborts it as a deadlock (runner.core.locks).

The CLI's requests are stored with cause ``user``; the console's name their user
(``user:alice``, or ``user:web`` without basic auth) through ``actor``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from runner.core import lifecycle, locks
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
PAUSE_TARGETS = {Status.RUNNING: Status.PAUSING}
RESUME_TARGETS = {s: Status.RUNNING for s in RESTARTABLE}
CANCEL_TARGETS = {
    Status.RUNNING: Status.CANCELING,
    Status.PAUSING: Status.CANCELING,
    Status.EDITING: Status.CANCELED,
    Status.PAUSED: Status.CANCELED,
    Status.SERVER_STOPPED: Status.CANCELED,
}
# Where a request ends when no runner holds the run to finish it at a checkpoint.
UNHELD_ENDS = {Status.PAUSING: Status.PAUSED, Status.CANCELING: Status.CANCELED}


def start(db: Database, name: str, now: datetime, actor: str | None = None) -> tuple[Run, bool]:
    """Start the job: resume its paused or server-stopped run, or create a new run.

    Returns the run and whether it was resumed.
    """
    return locks.retrying(db, partial(_start, name=name, now=now, actor=actor))


def _start(session: Session, name: str, now: datetime, actor: str | None) -> tuple[Run, bool]:
    job = _job(session, name)
    latest = lifecycle.lock_job(session, job)
    if latest is not None and Status(latest.status) in RESTARTABLE:
        return _move(session, job, latest, Status.RUNNING, "resume", now, actor), True
    if latest is not None and Status(latest.status) not in FINAL:
        raise Refused(_refusal(job, latest, "start", "it already has an active run"))
    run = lifecycle.create_run(
        session, job, cause=Cause.USER, now=now, reason="jobmon start", actor=actor
    )
    assert run is not None
    return run, False


def pause(db: Database, name: str, now: datetime, actor: str | None = None) -> Run:
    """Ask the job's running run to pause at its next checkpoint."""
    return _request(db, name, "pause", now, PAUSE_TARGETS, actor)


def resume(db: Database, name: str, now: datetime, actor: str | None = None) -> Run:
    """Resume a paused run, or restart a server-stopped one, from its last checkpoint."""
    return _request(db, name, "resume", now, RESUME_TARGETS, actor)


def cancel(db: Database, name: str, now: datetime, actor: str | None = None) -> Run:
    """Cancel the job's latest run: at once if no runner holds it, else at its checkpoint."""
    return _request(db, name, "cancel", now, CANCEL_TARGETS, actor)


VERBS: dict[str, Callable[[Database, str, datetime, str | None], Run]] = {
    "start": lambda db, job, now, actor: start(db, job, now, actor)[0],
    "pause": pause,
    "resume": resume,
    "cancel": cancel,
}


def request(db: Database, job: str, verb: str, now: datetime, actor: str) -> Run:
    """A console user's request (``verb``: start, pause, resume or cancel); the run it moved.

    Stored with cause ``user:<actor>``; raises :class:`Refused` or :class:`UnknownJob` as
    the CLI's requests do, and ValueError for another verb.
    """
    act = VERBS.get(verb)
    if act is None:
        raise ValueError(f"unknown request {verb!r}: use one of {', '.join(VERBS)}")
    return act(db, job, now, actor)


def _request(
    db: Database,
    name: str,
    verb: str,
    now: datetime,
    targets: dict[Status, Status],
    actor: str | None,
) -> Run:
    work = partial(_apply, name=name, verb=verb, now=now, targets=targets, actor=actor)
    return locks.retrying(db, work)


def _apply(
    session: Session,
    name: str,
    verb: str,
    now: datetime,
    targets: dict[Status, Status],
    actor: str | None,
) -> Run:
    job = _job(session, name)
    latest = lifecycle.lock_job(session, job)
    if latest is None:
        raise Refused(f"cannot {verb} job {name!r}: it has never run")
    target = targets.get(Status(latest.status))
    if target is None:
        raise Refused(_refusal(job, latest, verb))
    run = _move(session, job, latest, target, verb, now, actor)
    end = UNHELD_ENDS.get(target)
    if end is not None and run.claimed_by is None:
        run = _move(session, job, run, end, verb, now, actor, "no runner held the run")
    return run


def _move(
    session: Session,
    job: Job,
    run: Run,
    target: Status,
    verb: str,
    now: datetime,
    actor: str | None,
    why: str | None = None,
) -> Run:
    reason = f"jobmon {verb}" + (f": {why}" if why else "")
    try:
        return lifecycle.transition(
            session, run.id, target, cause=Cause.USER, now=now, reason=reason, actor=actor
        )
    except TransitionError as exc:
        raise Refused(_refusal(job, run, verb, f"it changed meanwhile ({exc})")) from None


def _refusal(job: Job, run: Run, verb: str, why: str = "") -> str:
    status = Status(run.status)
    text = f"cannot {verb} job {job.name!r}: its latest run {run.number} is {status.value}"
    text += f" ({status.label})"
    return f"{text}; {why}" if why else text


def _job(session: Session, name: str) -> Job:
    job = job_by_name(session, name)
    if job is None or not job.defined:
        raise UnknownJob(f"no job named {name!r} in the config")
    return job
