"""``jobmon jobs`` as a table that fits the terminal: columns shrink, then drop by priority.

On a wide terminal every column shows, with times in the one human format; narrower, times
show only how long ago (or until), then the schedule and kind columns go. Status (icon and
label), name, last run, next run, records and rejects always stay; the name is cut with an
ellipsis last of all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from runner.cli.output import status_text, when
from runner.core.views import JobRow
from runner.core.wording import duration, relative

Cell = Callable[[JobRow, int], str]
# How much the time columns say: local time and how long ago, plus the run's duration;
# how long ago and the duration; how long ago only.
FULL, COMPACT, NARROW = 0, 1, 2


@dataclass(frozen=True)
class Column:
    header: str
    cell: Cell
    justify: JustifyMethod = "left"
    # Columns with a priority are dropped when the table does not fit, lowest first.
    priority: int | None = None


def _time(value: datetime | None, level: int) -> str:
    if value is None:
        return "-"
    return when(value) if level == FULL else relative(value)


def _last_run(row: JobRow, level: int) -> str:
    if row.run_number is None:
        return "never"
    started = _time(row.started_at, level) if row.started_at else "waiting"
    took = row.duration_seconds is not None and level != NARROW
    return f"#{row.run_number} {started}" + (f", {duration(row.duration_seconds)}" if took else "")


def _next_run(row: JobRow, level: int) -> str:
    scheduled = bool(row.schedule or row.after)
    if scheduled and not row.runner_up:
        return "no runner up"
    if row.next_run_at is not None:
        return _time(row.next_run_at, level)
    return f"after {escape(row.after)}" if row.after else "-"


def _schedule(row: JobRow, _level: int) -> str:
    parts = [row.schedule] if row.schedule else []
    parts += [f"after {row.after}"] if row.after else []
    return escape(", ".join(parts) or "manual")


def _rejects(row: JobRow, _level: int) -> str:
    limit = f"/{row.max_rejects:,}" if row.max_rejects is not None else ""
    return f"{row.rejects:,}{limit}"


COLUMNS = (
    Column("status", lambda r, _: status_text(r.status)),
    Column("job", lambda r, _: escape(r.name)),
    Column("kind", lambda r, _: r.kind, priority=1),
    Column("schedule", _schedule, priority=2),
    Column("last run", _last_run),
    Column("next run", _next_run),
    Column("records", lambda r, _: f"{r.records:,}", justify="right"),
    Column("rejects", _rejects, justify="right"),
)


def jobs_table(console: Console, rows: Sequence[JobRow]) -> None:
    """Print the job list in the width the console has."""
    for columns, level in _layouts():
        table = _table(columns, rows, level)
        if _natural_width(console, table) <= console.width:
            break
    console.print(table)  # the narrowest layout: rich cuts the job names with an ellipsis


def _layouts() -> Iterator[tuple[list[Column], int]]:
    """Layouts from the widest to the narrowest."""
    columns = list(COLUMNS)
    yield columns, FULL
    yield columns, COMPACT
    for column in sorted((c for c in COLUMNS if c.priority is not None), key=_priority):
        columns = [c for c in columns if c is not column]
        yield columns, COMPACT
    yield columns, NARROW


def _priority(column: Column) -> int:
    return column.priority or 0


def _natural_width(console: Console, table: Table) -> int:
    """The width the table would take with no limit (``console.measure`` caps it)."""
    unbounded = console.options.update(max_width=10_000)
    return Measurement.get(console, unbounded, table).maximum


def _table(columns: Sequence[Column], rows: Sequence[JobRow], level: int) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold")
    for column in columns:
        name_column = column.header == "job"
        table.add_column(
            column.header,
            justify=column.justify,
            # Only the name may give up width (rich narrows wrappable columns first); a
            # name is one word, so it is cut with an ellipsis rather than wrapped.
            no_wrap=not name_column,
            overflow="ellipsis" if name_column else "fold",
            min_width=8 if name_column else None,
        )
    for row in rows:
        table.add_row(*(column.cell(row, level) for column in columns))
    return table
