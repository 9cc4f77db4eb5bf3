"""What each of a job's tabs shows: the header every tab shares (the run shown, the latest run
and the requests it accepts), then General, Journal, Rejects and Runs, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from exporter.console.http import Request
from runner.core import control, presence, progress, views
from runner.core import pages as paged
from runner.core.config import Config
from runner.core.definition import definition
from runner.core.states import ACTIVE, FINAL, Level, Status
from runner.core.storage.models import Job, Run

TABS = ("general", "journal", "rejects", "runs")
# Lines per page: journal lines and rejects are short, runs are wide.
PER_PAGE = {"journal": 100, "rejects": 100, "runs": 50}
# The requests a run accepts, as runner.core.control decides them: a button is shown only
# where the request would be taken. Start makes a new run once the latest one is over (on a
# paused or server-stopped run it resumes, which the Resume button says better).
ACCEPTED = {
    "pause": control.PAUSE_TARGETS,
    "resume": control.RESUME_TARGETS,
    "cancel": control.CANCEL_TARGETS,
}


@dataclass(frozen=True)
class Shown:
    """A job tab's subject: the job, the run shown (None if it never ran), and the request."""

    session: Session
    config: Config
    request: Request
    job: Job
    run: Run | None
    now: datetime


def allowed_verbs(status: Status | None) -> list[str]:
    """The requests the job's latest run (``status``; None if none) accepts, in button order."""
    verbs = ["start"] if status is None or status in FINAL else []
    return verbs + [verb for verb, targets in ACCEPTED.items() if status in targets]


def header(shown: Shown) -> dict[str, Any]:
    """What every tab shows above its content."""
    job, run = shown.job, shown.run
    latest = run if run is None or run.id == job.latest_run_id else _latest(shown)
    latest_status = Status(latest.status) if latest is not None else None
    return {
        "job": job,
        "run": run,
        "run_status": Status(run.status) if run is not None else None,
        "latest": latest,
        "latest_status": latest_status,
        "is_latest": latest is run,
        "verbs": allowed_verbs(latest_status),
    }


def _latest(shown: Shown) -> Run | None:
    return views.find_run(shown.session, shown.job, None)


def general(shown: Shown) -> dict[str, Any]:
    """The definition (secrets masked), the run with its reason and progress, transitions."""
    session, job, run = shown.session, shown.job, shown.run
    stale = shown.config.runner.stale_after_seconds
    up = presence.runners_up(session, shown.now, stale) > 0
    try:
        fields: dict[str, Any] | None = definition(
            shown.config.job(job.name), shown.config.secrets()
        )
    except KeyError:  # in the database, not in this exporter's config
        fields = None
    active = run is not None and Status(run.status) in ACTIVE
    return {
        "fields": fields,
        "runner_up": up,
        "next_run_at": job.next_run_at if up else None,
        "reason": views.run_reason(session, run) if run is not None else None,
        "transitions": views.transitions(session, run) if run is not None else [],
        "progress": progress.run_progress(session, run.id) if run is not None and active else None,
    }


def journal(shown: Shown) -> dict[str, Any]:
    """A page of the run's journal at one level or all; the last page unless one is asked
    for, so a running job's new lines show as they come."""
    level = _level(shown.request)
    if shown.run is None:
        return {"level": level, "lines": None}
    number = shown.request.int_arg("page", 10**9)
    lines = paged.journal_page(
        shown.session, shown.run, level=level, number=number, size=PER_PAGE["journal"]
    )
    return {"level": level, "lines": lines}


def rejects(shown: Shown) -> dict[str, Any]:
    """A page of the run's rejects, by source line."""
    if shown.run is None:
        return {"rejects": None}
    number = shown.request.int_arg("page", 1)
    found = paged.rejects_page(shown.session, shown.run, number, PER_PAGE["rejects"])
    return {"rejects": found}


def runs(shown: Shown) -> dict[str, Any]:
    """A page of the job's runs, newest first."""
    number = shown.request.int_arg("page", 1)
    found = paged.runs_page(shown.session, shown.job, number, PER_PAGE["runs"])
    return {"runs": found}


def _level(request: Request) -> Level | None:
    try:
        return Level(request.arg("level")) if request.arg("level") else None
    except ValueError:
        return None


CONTENT: dict[str, Callable[[Shown], dict[str, Any]]] = {
    "general": general,
    "journal": journal,
    "rejects": rejects,
    "runs": runs,
}
