"""``jobmon jobs`` (the job list), and finding a job's run for the other reading commands."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import Session

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.cli.joblist import jobs_table
from runner.core import catalog, control, documents, views
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run


def cmd_jobs(config: Config, args: argparse.Namespace) -> int:
    """Every job with its status, last run, next run, records and rejects."""
    db = open_database(config)
    with db.read() as session:
        rows = views.job_list(session, runner_up=runner_up(session, config))
    if args.output == "json":
        output.print_json([r.as_dict() for r in rows])
    else:
        jobs_table(output.console, rows)
    return EXIT_OK


def job_and_run(db: Database, name: str, number: int | None) -> tuple[Job, Run]:
    """The job and its run ``number`` (its latest when None); UnknownJob when either is missing."""
    job, run = job_and_maybe_run(db, name, number)
    if run is None:
        raise control.UnknownJob(f"job {name!r} has not run yet")
    return job, run


def job_and_maybe_run(db: Database, name: str, number: int | None) -> tuple[Job, Run | None]:
    """The job and its run ``number``, or its latest run (None if it never ran)."""
    with db.read() as session:
        job = catalog.job_by_name(session, name)
        if job is None or not job.defined:
            raise control.UnknownJob(f"no job named {name!r} in the config")
        run = views.find_run(session, job, number)
    if run is None and number is not None:
        raise control.UnknownJob(f"job {name!r} has no run {number}")
    return job, run


def runner_up(session: Session, config: Config) -> bool:
    """Whether any runner wrote a heartbeat lately (else no run will start)."""
    return documents.runner_up(session, config, utcnow())
