"""``jobmon rejects``: the Rejects tab, as a table, JSON, or CSV ready to fix and import."""

from __future__ import annotations

import argparse
import sys

from runner.cli import output
from runner.cli.commands import EXIT_OK, EXIT_USAGE, open_database
from runner.cli.listing import job_and_run
from runner.core import views
from runner.core.config import Config
from runner.core.rejects_csv import config_encoding, source_layout, write_rejects
from runner.core.wording import plural

FORMAT_HELP = (
    "csv: each rejected record as read, in the source's encoding, with its line, field, "
    "reason and message in four more columns, to fix and import again"
)
CONFLICT = (
    "rejects: --format csv and --output json cannot be used together: "
    "--format csv writes the rejected records as read, --output json the rejects as JSON"
)


def cmd_rejects(config: Config, args: argparse.Namespace) -> int:
    """The Rejects tab: the run's rejected records."""
    if args.format == "csv" and args.output == "json":
        output.errors.print(f"error: {CONFLICT}", markup=False)
        return EXIT_USAGE
    db = open_database(config)
    try:
        _job, run = job_and_run(db, args.job, args.run)
        with db.read() as session:
            rows = views.rejects(session, run)
    finally:
        db.dispose()
    if args.output == "json":
        output.print_json([views.row_dict(r) for r in rows])
        return EXIT_OK
    if not rows:
        output.errors.print(f"no rejects in run {run.number}", markup=False)
    if args.format == "csv":
        # The records as read, under the import's header: fix them and import them again.
        layout = source_layout(run.checkpoint, config_encoding(config, args.job))
        write_rejects(sys.stdout.buffer, layout, rows)
        sys.stdout.buffer.flush()
    elif rows:
        output.rows_table(
            f"rejects of {args.job}, run {run.number}: {plural(len(rows), 'reject')}",
            ["line", "field", "reason", "message", "record"],
            [[r.line, r.field, r.reason, r.message, r.record] for r in rows],
        )
    return EXIT_OK
