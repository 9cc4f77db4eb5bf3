"""Terminal output: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from runner.core.states import Status
from runner.core.wording import relative

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


def when(value: datetime | None, now: datetime | None = None) -> str:
    """The one human time format: local time to the second, and how long ago (or until).

    ``2026-12-04 16:03:12 (3 min ago)``; a dash when there is no time. JSON output keeps
    ISO 8601 UTC instead.
    """
    if value is None:
        return "-"
    local = value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{local} ({relative(value, now)})"


def print_json(data: Any) -> None:
    """JSON on stdout, one document."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


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
