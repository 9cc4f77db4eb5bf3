"""``jobmon journal``: the Journal tab, and ``--follow`` to tail a running run."""

from __future__ import annotations

import argparse

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.cli.listing import job_and_run
from runner.core import views
from runner.core.config import Config


def cmd_journal(config: Config, args: argparse.Namespace) -> int:
    """The Journal tab: the run's messages."""
    db = open_database(config)
    _job, run = job_and_run(db, args.job, args.run)
    with db.read() as session:
        entries = views.journal(session, run, args.limit)
    if args.output == "json":
        output.print_json([views.row_dict(e) for e in entries])
    else:
        output.rows_table(
            f"journal of {args.job}, run {run.number}",
            ["at", "level", "message"],
            [[e.at, e.level, e.message] for e in entries],
        )
    return EXIT_OK
