"""The control commands: ``start`` (and ``--wait``), ``pause``, ``resume``, ``cancel``; how a
run ended, as ``start --wait`` and ``journal --follow`` print it."""

from __future__ import annotations

import argparse
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from runner.cli import output
from runner.cli.commands import EXIT_ERROR, EXIT_OK, open_database
from runner.cli.listing import runner_up
from runner.core import control, views
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.config.secrets import redact
from runner.core.progress import RunProgress, run_progress
from runner.core.states import FINAL, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run
from runner.core.wording import duration, plural

if TYPE_CHECKING:
    from rich.progress import Progress

WAIT_HELP = (
    "follow the run with a progress bar, then print how it ended; exit 0 only if it ended "
    "finished, else 1 (also when it pauses or its runner stops)"
)
# Where a run writes no more until someone acts: waiting and following end there.
WAIT_UNTIL = FINAL | {Status.PAUSED, Status.SERVER_STOPPED}
POLL_SECONDS = 0.25
# Rates are measured over the last seconds only, so they follow a run that speeds up or slows.
RATE_WINDOW = 10.0
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it

# What a person can do about a run that stopped before its end.
NEXT_STEP = {
    Status.PAUSED: "paused: `jobmon resume {job}` continues it from its last checkpoint",
    Status.SERVER_STOPPED: (
        "its runner stopped: a runner that is up restarts it from its last checkpoint, "
        "or `jobmon resume {job}`"
    ),
}


def _request(config: Config, args: argparse.Namespace, verb: str) -> int:
    db = open_database(config)
    action = {"pause": control.pause, "resume": control.resume, "cancel": control.cancel}[verb]
    run = action(db, args.job, utcnow())
    status = output.status_text(Status(run.status))
    output.console.print(f"{escape(args.job)}: run {run.number} is {status}")
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
    """Start the job (or resume its stopped run); with --wait, follow it to its end.

    With --wait: 0 only when the run ends ``finished``; 1 when it ends otherwise, pauses,
    stops with its runner or outlasts --timeout; 130 on Ctrl-C (the run goes on).
    """
    db = open_database(config)
    run, resumed = control.start(db, args.job, utcnow())
    verb = "resumed from its last checkpoint" if resumed else "created"
    output.console.print(f"{escape(args.job)}: run {run.number} {verb}")
    with db.read() as session:
        if not runner_up(session, config):
            output.console.print("  no runner up: it starts when one does (`jobmon runner`)")
    if not args.wait:
        return EXIT_OK
    try:
        status = wait_for(db, run.id, args.job, args.timeout)
    except KeyboardInterrupt:
        output.console.print(f"{escape(args.job)}: stopped waiting; run {run.number} goes on")
        return EXIT_INTERRUPTED
    print_end(db, run.id, config.secrets())
    return EXIT_OK if status is Status.FINISHED else EXIT_ERROR


def print_end(db: Database, run_id: int, secrets: list[str]) -> None:
    """``JOB: run N ✖ Finished with errors — reason``, then its counts and duration."""
    with db.read() as session:
        run = session.get(Run, run_id, populate_existing=True)
        assert run is not None
        job = session.get(Job, run.job_id)
        assert job is not None
        reason = views.run_reason(session, run)
        took = views.run_duration(run)
    status = Status(run.status)
    head = f"{escape(job.name)}: run {run.number} {output.status_text(status)}"
    if reason:
        head += f" — {escape(redact(reason, secrets))}"
    counts = f"{plural(run.records, 'record')}, {plural(run.rejects, 'reject')}"
    if job.max_rejects is not None:
        counts += f" (limit {job.max_rejects})"
    if took is not None:
        counts += f" in {duration(took)}"
    lines = [head, f"  {counts}"]
    if status in NEXT_STEP:
        lines.append(f"  {escape(NEXT_STEP[status].format(job=job.name))}")
    for line in lines:  # piped, a line stays whole however long its reason
        output.console.print(line, soft_wrap=not output.console.is_terminal)


def wait_for(db: Database, run_id: int, name: str, timeout: float | None) -> Status:
    """Follow a run with a progress bar until it ends, pauses or stops; its status then."""
    deadline = None if timeout is None else time.monotonic() + timeout
    meter = _Meter()
    with _progress_bar() as bar:
        task = None
        while True:
            with db.read() as session:
                now = run_progress(session, run_id)
            fields = meter.fields(name, now)
            if task is None:
                task = bar.add_task(**fields)
            else:
                bar.update(task, **fields)
            if now.status in WAIT_UNTIL:
                return now.status
            if deadline is not None and time.monotonic() > deadline:
                still = "waiting for a runner" if now.status is Status.EDITING else now.status
                raise TimeoutError(
                    f"{name}: run {now.number} is still {still} after {timeout:g} s; "
                    f"it goes on (`jobmon journal {name} --follow`)"
                )
            time.sleep(POLL_SECONDS)


def _progress_bar() -> Progress:
    """Status and job, a bar (a share of the source when known), counts, rates and elapsed."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
    from rich.table import Column

    name = Column(no_wrap=True, overflow="ellipsis", max_width=22)
    return Progress(
        TextColumn("{task.description}", table_column=name),
        BarColumn(bar_width=None),
        TaskProgressColumn(),
        TextColumn("{task.fields[counts]}", table_column=Column(no_wrap=True)),
        TimeElapsedColumn(),
        console=output.console,
        # Piped output gets the end only: no frames, no blank line where they were.
        disable=not output.console.is_terminal,
        transient=True,
        expand=True,
    )


class _Meter:
    """Turns successive reads of a run into the progress bar's fields."""

    def __init__(self) -> None:
        self.records = _Rate()
        self.bytes = _Rate()

    def fields(self, name: str, now: RunProgress) -> dict[str, Any]:
        """``description``, ``completed``/``total`` (bytes when known) and ``counts``."""
        at = time.monotonic()
        counts = [plural(now.records, "record")]
        per_second = self.records.add(at, now.records)
        if per_second is not None:
            counts.append(_per_second(per_second))
        fields: dict[str, Any] = {"total": None, "completed": now.records}
        if now.done is not None and now.total is not None:
            fields = {"total": now.total, "completed": now.done}
            eta = _eta(now.total - now.done, self.bytes.add(at, now.done))
            if eta is not None:
                counts.append(f"ETA {eta}")
        icon = f"[{output.STYLES[now.status]}]{now.status.icon}[/]"
        return fields | {"description": f"{icon} {escape(name)}", "counts": "  ".join(counts)}


def _per_second(rate: float) -> str:
    """``850/s``, ``12,500/s``, ``146k/s``: short enough to leave room for the bar."""
    return f"{rate / 1000:,.0f}k/s" if rate >= 100_000 else f"{rate:,.0f}/s"


def _eta(remaining: int, per_second: float | None) -> str | None:
    if remaining <= 0 or not per_second or per_second <= 0:
        return None
    return duration(remaining / per_second, coarse=remaining / per_second >= 60)


class _Rate:
    """How fast a count grows, per second, over the last ``RATE_WINDOW`` seconds."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, at: float, value: int) -> float | None:
        """Record ``value`` at ``at``; the rate since the window's oldest sample (None at first)."""
        self.samples.append((at, value))
        while len(self.samples) > 2 and at - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        since, first = self.samples[0]
        return None if at <= since else (value - first) / (at - since)
