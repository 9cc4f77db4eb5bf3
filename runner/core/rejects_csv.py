"""A run's rejected records as CSV, for ``jobmon rejects JOB --format csv``.

By default the output is the import's own format: its header row, then each rejected record
as it was read (in the file's delimiter and quoting), so it can be fixed and imported again with
the same job. With ``details=True`` it is a report instead: one row per reject with its line,
field, reason, message and the record as one cell.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import select

from runner.core.storage.db import Database
from runner.core.storage.models import Reject, Run

DETAIL_HEADER = ("line", "field", "reason", "message", "record")


def write_rejects_csv(db: Database, run_id: int, out: TextIO, *, details: bool = False) -> int:
    """Write run ``run_id``'s rejects to ``out`` as CSV; returns how many were written."""
    with db.read() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"run {run_id} does not exist")
        layout = source_layout(run.checkpoint)
        rejects = session.scalars(
            select(Reject).where(Reject.run_id == run_id).order_by(Reject.line, Reject.id)
        )
        if details:
            return write_details(rejects, out)
        return write_records(rejects, out, header=layout.get("header"))


def source_layout(checkpoint: str | None) -> dict[str, Any]:
    """The import's CSV layout saved in its checkpoint (header row, delimiter, quote)."""
    if checkpoint is None:
        return {}
    try:
        state = json.loads(checkpoint)
    except ValueError:
        return {}
    layout = state.get("csv") if isinstance(state, dict) else None
    return layout if isinstance(layout, dict) else {}


def write_records(rejects: Iterable[Reject], out: TextIO, *, header: str | None) -> int:
    """The header line, then each rejected record's text as read, one per record."""
    if header is not None:
        out.write(header + "\n")
    count = 0
    for reject in rejects:
        out.write(reject.record + "\n")
        count += 1
    return count


def write_details(rejects: Iterable[Reject], out: TextIO) -> int:
    """One CSV row per reject: line, field, reason, message, record."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DETAIL_HEADER)
    count = 0
    for r in rejects:
        writer.writerow((r.line, r.field or "", r.reason, r.message, r.record))
        count += 1
    return count
