"""The control commands: ``start`` (and ``--wait``), ``pause``, ``resume``, ``cancel``."""

from __future__ import annotations

import argparse
import time

from runner.cli import output
from runner.cli.commands import EXIT_ERROR, EXIT_OK, open_database
from runner.core import control
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.states import FINAL, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Run


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
