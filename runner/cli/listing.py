"""The reading commands: ``jobs`` (the job list) and ``show`` (the General tab)."""

from __future__ import annotations

import argparse

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.core import catalog, control, views
from runner.core.config import Config
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run


def cmd_jobs(config: Config, args: argparse.Namespace) -> int:
    """Every job with its status, last run, next run, records and rejects."""
    db = open_database(config)
    with db.read() as session:
        rows = views.job_list(session)
    if args.output == "json":
        output.print_json([r.as_dict() for r in rows])
    else:
        output.jobs_table(rows)
    return EXIT_OK


def job_and_run(db: Database, name: str, number: int | None) -> tuple[Job, Run]:
    with db.read() as session:
        job = catalog.job_by_name(session, name)
        if job is None or not job.defined:
            raise control.UnknownJob(f"no job named {name!r} in the config")
        run = views.find_run(session, job, number)
    if run is None:
        if number is not None:
            raise control.UnknownJob(f"job {name!r} has no run {number}")
        raise control.UnknownJob(f"job {name!r} has not run yet")
    return job, run


def cmd_show(config: Config, args: argparse.Namespace) -> int:
    """The General tab: the job's definition, the run and its transitions."""
    db = open_database(config)
    job, run = job_and_run(db, args.job, args.run)
    with db.read() as session:
        moves = [views.row_dict(t) for t in views.transitions(session, run)]
    definition = {
        "name": job.name,
        "kind": job.kind,
        "schedule": job.schedule or None,
        "max_rejects": job.max_rejects,
        "max_duration_seconds": job.max_duration_seconds,
        "next_run_at": output.when(job.next_run_at),
    }
    if args.output == "json":
        output.print_json({"job": definition, "run": views.run_dict(run), "transitions": moves})
        return EXIT_OK
    output.mapping_table(f"job {job.name}", definition)
    run_fields = views.run_dict(run)
    run_fields["status"] = output.status_text(Status(run.status))
    output.mapping_table(f"run {run.id}", run_fields)
    output.rows_table(
        "transitions",
        ["at", "from", "to", "cause", "reason"],
        [[t["at"], t["from_status"], t["to_status"], t["cause"], t["reason"]] for t in moves],
    )
    return EXIT_OK
