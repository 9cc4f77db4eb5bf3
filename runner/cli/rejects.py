"""``jobmon rejects``: the Rejects tab, as a table, JSON, or CSV ready to fix and import."""

from __future__ import annotations

import argparse
import sys

from runner.cli import output
from runner.cli.commands import EXIT_OK, open_database
from runner.cli.listing import job_and_run
from runner.core import views
from runner.core.config import Config
from runner.core.rejects_csv import write_rejects_csv


def cmd_rejects(config: Config, args: argparse.Namespace) -> int:
    """The Rejects tab: the run's rejected records."""
    db = open_database(config)
    _job, run = job_and_run(db, args.job, args.run)
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
