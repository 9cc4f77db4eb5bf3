"""The JSON documents of a job: what ``jobmon show --output json`` prints and the console's
API serves, built in one place so the two stay the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from runner.core import presence, views
from runner.core.config import Config
from runner.core.definition import definition
from runner.core.storage.models import Job, Run, Transition


def runner_up(session: Session, config: Config, now: datetime) -> bool:
    """Whether any runner wrote a heartbeat lately (else no run will start)."""
    return presence.runners_up(session, now, config.runner.stale_after_seconds) > 0


def run_document(run: Run, reason: str | None) -> dict[str, Any]:
    """A run as the General tab gives it, with the reason for its status."""
    return views.run_dict(run) | {"reason": reason}


def general(
    fields: dict[str, Any],
    job: Job,
    run: Run | None,
    reason: str | None,
    moves: list[Transition],
    up: bool,
) -> dict[str, Any]:
    """The General tab: the job's definition, next run, the run and its transitions."""
    # Without a runner up, nothing will start at the planned time: no next run to promise.
    next_run = job.next_run_at.isoformat() if job.next_run_at and up else None
    return {
        "job": fields,
        "next_run_at": next_run,
        "runner_up": up,
        "run": None if run is None else run_document(run, reason),
        "transitions": [views.row_dict(t) for t in moves],
    }


def general_of(
    session: Session, config: Config, job: Job, run: Run | None, up: bool
) -> dict[str, Any]:
    """:func:`general`, read in ``session`` (``run``: the one shown, None if it never ran)."""
    moves = views.transitions(session, run) if run else []
    reason = views.run_reason(session, run) if run else None
    fields = definition(config.job(job.name), config.secrets())
    return general(fields, job, run, reason, moves, up)
