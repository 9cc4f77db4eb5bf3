"""A run's rejected records as CSV, for ``jobmon rejects JOB --format csv``.

For an import the output is a file of the import's own format, in its encoding: its header
line with four more columns, ``jobmon_line``, ``jobmon_field``, ``jobmon_reason`` and
``jobmon_message``, then each rejected record byte for byte as it was read, followed by the
delimiter and those four cells. The extra cells come last, so every field keeps its position
and an import maps columns by header name: fix the records and import the file again with the
same job. A record stored before the bytes were kept is written from its text instead.

A job without a source file (``kind: python``) reports records as text: they are written as
one cell, ``jobmon_record``, before the same four.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.core.config import Config, ImportJob
from runner.core.storage.db import Database
from runner.core.storage.models import Reject, Run

EXTRA_COLUMNS = ("jobmon_line", "jobmon_field", "jobmon_reason", "jobmon_message")
RECORD_COLUMN = "jobmon_record"


@dataclass(frozen=True)
class Layout:
    """How the run's source was written: the import's CSV format, or None for other jobs."""

    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    header: str | None = None
    source: bool = False


def write_rejects_csv(db: Database, run_id: int, out: BinaryIO, *, encoding: str = "utf-8") -> int:
    """Write run ``run_id``'s rejects to ``out``; returns how many were written.

    ``encoding`` is the source's, for runs whose checkpoint does not name it.
    """
    with db.read() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"run {run_id} does not exist")
        query = select(Reject).where(Reject.run_id == run_id).order_by(Reject.line, Reject.id)
        rejects = list(session.scalars(query))
        return write_rejects(out, source_layout(run.checkpoint, encoding), rejects)


def config_encoding(config: Config, name: str) -> str:
    """The encoding of the job's source file in the config (for runs that did not save it)."""
    try:
        job = config.job(name)
    except KeyError:
        return "utf-8"
    return job.source.encoding if isinstance(job, ImportJob) else "utf-8"


def rejects_file(session: Session, config: Config, name: str, run: Run) -> bytes:
    """The whole CSV of job ``name``'s ``run``: what ``jobmon rejects --format csv`` writes."""
    query = select(Reject).where(Reject.run_id == run.id).order_by(Reject.line, Reject.id)
    out = io.BytesIO()
    layout = source_layout(run.checkpoint, config_encoding(config, name))
    write_rejects(out, layout, list(session.scalars(query)))
    return out.getvalue()


def source_layout(checkpoint: str | None, encoding: str = "utf-8") -> Layout:
    """The import's CSV layout saved in its checkpoint (header line, delimiter, quote,
    encoding; ``encoding`` when it does not say), or the layout of a job without a source."""
    try:
        state = json.loads(checkpoint or "null")
    except ValueError:
        return Layout()
    saved = state.get("csv") if isinstance(state, dict) else None
    if not isinstance(saved, dict):
        return Layout()
    return Layout(
        delimiter=saved.get("delimiter") or ",",
        quote=saved.get("quote") or '"',
        encoding=saved.get("encoding") or encoding,
        header=saved.get("header"),
        source=True,
    )


def write_rejects(out: BinaryIO, layout: Layout, rejects: Sequence[Reject]) -> int:
    """The header line, then one line per reject (see the module); returns the count."""
    cells = _Cells(layout)
    if not layout.source:
        out.write(cells.line((RECORD_COLUMN, *EXTRA_COLUMNS)) + b"\n")
    elif layout.header is not None:
        ending = _line_break(rejects[0].raw or b"") if rejects else b""
        out.write(cells.text(layout.header) + cells.extra(EXTRA_COLUMNS) + (ending or b"\n"))
    for reject in rejects:
        out.write(_reject_line(reject, layout, cells))
    return len(rejects)


def _reject_line(reject: Reject, layout: Layout, cells: _Cells) -> bytes:
    """The record as read, then its four cells, ending as the record ended."""
    extra = (str(reject.line), reject.field or "", reject.reason, reject.message)
    if not layout.source:
        return cells.line((reject.record, *extra)) + b"\n"
    raw = reject.raw if reject.raw is not None else cells.text(reject.record) + b"\n"
    ending = _line_break(raw)
    return raw[: len(raw) - len(ending)] + cells.extra(extra) + (ending or b"\n")


def _line_break(raw: bytes) -> bytes:
    """The record's own line break (CRLF or LF), empty when it has none (cut, or last)."""
    if raw.endswith(b"\r\n"):
        return b"\r\n"
    return b"\n" if raw.endswith(b"\n") else b""


class _Cells:
    """CSV cells in the source's delimiter, quote and encoding."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._out = io.StringIO()
        # A cell holding a line break is quoted only if the break is in the line terminator.
        self._writer = csv.writer(
            self._out, delimiter=layout.delimiter, quotechar=layout.quote, lineterminator="\r\n"
        )

    def line(self, values: Sequence[str]) -> bytes:
        """``values`` as one CSV record, without a line break."""
        self._out.seek(0)
        self._out.truncate()
        self._writer.writerow(values)
        return self.text(self._out.getvalue()[:-2])

    def extra(self, values: Sequence[str]) -> bytes:
        """``values`` as cells that follow a record: the delimiter, then the cells."""
        return self.text(self._layout.delimiter) + self.line(values)

    def text(self, value: str) -> bytes:
        """``value`` encoded as the source is; what the encoding cannot write is escaped."""
        return value.encode(self._layout.encoding, errors="backslashreplace")
