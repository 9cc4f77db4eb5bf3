"""Terminal output: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from runner.core.states import Status
from runner.core.views import JobRow

STYLES = {
    Status.EDITING: "dim",
    Status.RUNNING: "cyan",
    Status.PAUSING: "yellow",
    Status.PAUSED: "yellow",
    Status.CANCELING: "magenta",
    Status.CANCELED: "magenta",
    Status.FINISHED: "green",
    Status.FINISHED_WITH_ERRORS: "bold red",
    Status.SERVER_STOPPED: "bold red",
}

# Piped output is not cut at 80 columns: scripts and logs get whole values.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def status_text(status: Status) -> str:
    """Icon and label, coloured: ``✔ Finished``."""
    return f"[{STYLES[status]}]{status.icon} {status.label}[/]"


def when(value: datetime | None) -> str:
    """A timestamp in UTC, to the second, or a dash."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def print_json(data: Any) -> None:
    """JSON on stdout, one document."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


def jobs_table(rows: Sequence[JobRow]) -> None:
    """The job list."""
    table = Table(
        "job",
        "kind",
        "status",
        "last run",
        "started",
        "ended",
        "next run",
        "records",
        "rejects",
        title="jobs (times in UTC)",
    )
    for r in rows:
        table.add_row(
            r.name,
            r.kind,
            status_text(r.status),
            str(r.run_id or "-"),
            when(r.started_at),
            when(r.ended_at),
            when(r.next_run_at),
            str(r.records),
            str(r.rejects),
        )
    console.print(table)


def mapping_table(title: str, values: dict[str, Any]) -> None:
    """Two columns: field and value."""
    table = Table("field", "value", title=title, show_header=False)
    for key, value in values.items():
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)


def rows_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain table; cells are printed as text, never as markup."""
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("-" if v is None else _plain(v) for v in row))
    console.print(table)


def _plain(value: Any) -> str:
    from rich.markup import escape

    return escape(when(value) if isinstance(value, datetime) else str(value))
