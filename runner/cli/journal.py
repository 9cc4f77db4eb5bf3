"""``jobmon journal``: the Journal tab, and ``--follow`` to tail a running run."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.cli.control import EXIT_INTERRUPTED, WAIT_UNTIL, print_end
from runner.cli.listing import job_and_run
from runner.core import progress, views
from runner.core.config import Config
from runner.core.config.secrets import redact
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Run

FOLLOW_HELP = (
    "then print new lines as the run writes them, until it ends, pauses or stops, and how it "
    "ended (JSON Lines with --output json, the run last); Ctrl-C exits 130"
)
FOLLOW_POLL_SECONDS = 0.5
LEVEL_STYLES = {"error": "bold red", "warning": "yellow", "debug": "dim"}


def cmd_journal(config: Config, args: argparse.Namespace) -> int:
    """The Journal tab: the run's messages; with --follow, new ones until the run stops."""
    db = open_database(config)
    _job, run = job_and_run(db, args.job, args.run)
    with db.read() as session:
        entries = views.journal(session, run, args.limit)
    if args.follow:
        return _follow(db, run, entries, args, config.secrets())
    if args.output == "json":
        output.print_json([views.row_dict(e) for e in entries])
    else:
        output.rows_table(
            f"journal of {args.job}, run {run.number}",
            ["at", "level", "message"],
            [[e.at, e.level, e.message] for e in entries],
        )
    return EXIT_OK


def _follow(
    db: Database,
    run: Run,
    entries: Sequence[JournalEntry],
    args: argparse.Namespace,
    secrets: list[str],
) -> int:
    """Print the lines so far, then new ones as they are written, until the run stops.

    The run's status is read before its lines, in one transaction: once the status says the
    run stopped, every line it wrote is in that read. Ctrl-C exits 130.
    """
    as_json = args.output == "json"
    if not as_json:
        output.console.print(
            f"journal of {args.job}, run {run.number} (following; Ctrl-C stops)", markup=False
        )
    try:
        last = _emit(entries, as_json, after=0)
        while True:
            with db.read() as session:
                status = progress.run_progress(session, run.id).status
                fresh = progress.journal_after(session, run.id, last)
            last = _emit(fresh, as_json, after=last)
            if status in WAIT_UNTIL:
                break
            time.sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if as_json:
        _print_end_json(db, run.id, secrets)
    else:
        print_end(db, run.id, secrets)
    return EXIT_OK


def _emit(entries: Sequence[JournalEntry], as_json: bool, after: int) -> int:
    """Print journal lines (JSON Lines, or one aligned line each); the last line's id."""
    for entry in entries:
        if as_json:
            print(json.dumps(views.row_dict(entry), ensure_ascii=False), flush=True)
        else:
            output.console.print(_line(entry), soft_wrap=not output.console.is_terminal)
    return entries[-1].id if entries else after


def _line(entry: JournalEntry) -> RenderableType:
    """Time, level and message: in a terminal a long message wraps under itself; piped, the
    line stays whole."""
    at, style = output.when(entry.at), LEVEL_STYLES.get(entry.level, "")
    if not output.console.is_terminal:
        return Text.assemble((f"{at:<32}", "dim"), " ", (f"{entry.level:<7}", style), " ",
                             entry.message)  # fmt: skip
    grid = Table.grid(padding=(0, 1))
    grid.add_column(min_width=32, no_wrap=True, style="dim")
    grid.add_column(min_width=7, no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(at, Text(entry.level, style=style), Text(entry.message))
    return grid


def _print_end_json(db: Database, run_id: int, secrets: list[str]) -> None:
    """The last JSON line: the run as the General tab gives it, with the reason for its status."""
    with db.read() as session:
        run = session.get(Run, run_id, populate_existing=True)
        assert run is not None
        reason = views.run_reason(session, run)
    end = views.run_dict(run) | {"reason": None if reason is None else redact(reason, secrets)}
    print(json.dumps(end, ensure_ascii=False), flush=True)
