"""The CLI's commands (SPEC §4). Each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

from runner.cli import output
from runner.core import catalog, control, views
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.rejects_csv import write_rejects_csv
from runner.core.states import FINAL, Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import current_revision, upgrade
from runner.core.storage.models import Job, Run
from runner.executor import lock

log = logging.getLogger("jobmon")
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


def open_database(config: Config) -> Database:
    """The jobmon database, migrated to the newest schema, with the config's jobs synced."""
    db = Database(config.database.url, idle_seconds=config.runner.stale_after_seconds)
    upgrade(db)
    catalog.sync_jobs(db, config.jobs)
    return db


def cmd_check_config(config: Config, args: argparse.Namespace) -> int:
    """The config loaded; check the web config file it names too, then say so."""
    from exporter import webconfig

    web = config.exporter.web_config_file
    if web:
        webconfig.load(web)  # a WebConfigError lists every problem; exit 2
    checked = f" and {web}" if web else ""
    output.console.print(f"{args.config}{checked}: OK, {len(config.jobs)} jobs")
    return EXIT_OK


def cmd_db_upgrade(config: Config, args: argparse.Namespace) -> int:
    """Apply migrations."""
    db = Database(config.database.url)
    before = current_revision(db)
    revision = upgrade(db)
    change = "already at" if before == revision else f"upgraded from {before or 'empty'} to"
    output.console.print(f"database {db.safe_url}: {change} revision {revision}")
    return EXIT_OK


def cmd_runner(config: Config, args: argparse.Namespace) -> int:
    """The runner alone."""
    return _serve(config, args, with_runner=True, with_exporter=False)


def cmd_exporter(config: Config, args: argparse.Namespace) -> int:
    """The exporter alone."""
    return _serve(config, args, with_runner=False, with_exporter=True)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Runner and exporter in one process (the main job)."""
    return _serve(config, args, with_runner=True, with_exporter=True)


def _serve(
    config: Config, args: argparse.Namespace, *, with_runner: bool, with_exporter: bool
) -> int:
    from runner.executor.worker import Runner

    stop = threading.Event()
    runner: Runner | None = None
    runner_lock = None
    if with_runner:
        db = open_database(config)
        runner_lock = lock.acquire(db)  # held until this process ends
        runner = Runner(config, db)
    exporter = _start_exporter(config, args) if with_exporter else None

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()
        if runner is not None:
            runner.stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        if runner is not None:
            runner.run()
        else:
            while not stop.wait(1):
                pass
    finally:
        if exporter is not None:
            exporter.stop()
        if runner_lock is not None:
            runner_lock.close()
    return EXIT_OK


def _start_exporter(config: Config, args: argparse.Namespace) -> Any:
    from exporter.server import ExporterServer

    server = ExporterServer(
        config, listen_address=args.listen_address, web_config_file=args.web_config_file
    )
    server.start()
    log.info("exporter listening on port %d", server.port)
    return server


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


def _job_and_run(db: Database, name: str, run_id: int | None) -> tuple[Job, Run]:
    with db.read() as session:
        job = catalog.job_by_name(session, name)
        if job is None or not job.defined:
            raise control.UnknownJob(f"no job named {name!r} in the config")
        run = views.find_run(session, job, run_id)
    if run is None:
        if run_id is not None:
            raise control.UnknownJob(f"job {name!r} has no run {run_id}")
        raise control.UnknownJob(f"job {name!r} has not run yet")
    return job, run


def cmd_show(config: Config, args: argparse.Namespace) -> int:
    """The General tab: the job's definition, the run and its transitions."""
    db = open_database(config)
    job, run = _job_and_run(db, args.job, args.run)
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


def cmd_journal(config: Config, args: argparse.Namespace) -> int:
    """The Journal tab: the run's messages."""
    db = open_database(config)
    _job, run = _job_and_run(db, args.job, args.run)
    with db.read() as session:
        entries = views.journal(session, run, args.limit)
    if args.output == "json":
        output.print_json([views.row_dict(e) for e in entries])
    else:
        output.rows_table(
            f"journal of {args.job}, run {run.id}",
            ["at", "level", "message"],
            [[e.at, e.level, e.message] for e in entries],
        )
    return EXIT_OK


def cmd_rejects(config: Config, args: argparse.Namespace) -> int:
    """The Rejects tab: the run's rejected records."""
    db = open_database(config)
    _job, run = _job_and_run(db, args.job, args.run)
    with db.read() as session:
        rows = views.rejects(session, run)
    if args.format == "csv":
        # The records as read, under the import's header: fix them and import them again.
        write_rejects_csv(db, run.id, sys.stdout)
    elif args.format == "json" or args.output == "json":
        output.print_json([views.row_dict(r) for r in rows])
    else:
        output.rows_table(
            f"rejects of {args.job}, run {run.id}",
            ["line", "field", "reason", "message", "record"],
            [[r.line, r.field, r.reason, r.message, r.record] for r in rows],
        )
    return EXIT_OK


def _request(config: Config, args: argparse.Namespace, verb: str) -> int:
    db = open_database(config)
    action = {"pause": control.pause, "resume": control.resume, "cancel": control.cancel}[verb]
    run = action(db, args.job, utcnow())
    output.console.print(f"{args.job}: run {run.id} is {output.status_text(Status(run.status))}")
    return EXIT_OK


def cmd_pause(config: Config, args: argparse.Namespace) -> int:
    """Ask the running run to pause at its next checkpoint."""
    return _request(config, args, "pause")


def cmd_resume(config: Config, args: argparse.Namespace) -> int:
    """Resume a paused or server-stopped run."""
    return _request(config, args, "resume")


def cmd_cancel(config: Config, args: argparse.Namespace) -> int:
    """Cancel the latest run."""
    return _request(config, args, "cancel")


def cmd_start(config: Config, args: argparse.Namespace) -> int:
    """Start the job (or resume its stopped run); with --wait, follow it to its end."""
    db = open_database(config)
    run, resumed = control.start(db, args.job, utcnow())
    verb = "resumed from its last checkpoint" if resumed else "created"
    output.console.print(f"{args.job}: run {run.id} {verb}")
    if not args.wait:
        return EXIT_OK
    final = wait_for(db, run.id, args.job, args.timeout)
    output.console.print(f"{args.job}: run {run.id} is {output.status_text(final)}")
    return EXIT_OK if final is Status.FINISHED else EXIT_ERROR


WAIT_UNTIL = FINAL | {Status.PAUSED, Status.SERVER_STOPPED}


def wait_for(db: Database, run_id: int, name: str, timeout: float | None) -> Status:
    """Follow a run with a progress bar until it ends, pauses or stops; its status then."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    deadline = None if timeout is None else time.monotonic() + timeout
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.console, transient=True) as progress:
        task = progress.add_task(name, total=None)
        while True:
            with db.read() as session:
                run = session.get(Run, run_id)
                assert run is not None
            status = Status(run.status)
            progress.update(
                task, completed=run.records, description=f"{name} {output.status_text(status)}"
            )
            if status in WAIT_UNTIL:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {status.value} after {timeout:g}s")
            time.sleep(0.25)
