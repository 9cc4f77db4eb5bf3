"""Where each column of an import is read: the header (or first record) and field positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.core.config import ImportJob
from runner.executor.context import JobFailed
from runner.executor.jobs.csvsource import CsvReader, Failure
from runner.executor.jobs.rows import format_record


def positions(
    job: ImportJob, state: dict[str, Any], reader: CsvReader, source: Path
) -> list[int] | None:
    """Each column's field position (None for an empty file), noting the layout in ``state``.

    A new run reads the header (or the first record's width) and keeps it, with the position
    after the header, in ``state``; a resumed run finds them there.
    """
    if state["width"] is None:
        width = _read_width(job, state, reader, source)
        if width is None:
            return None
        state["width"] = width
    return _positions(job, state["header"], state["width"])


def _read_width(
    job: ImportJob, state: dict[str, Any], reader: CsvReader, source: Path
) -> int | None:
    if job.source.header:
        header = reader.header()
        if isinstance(header, Failure):
            raise JobFailed(f"cannot read the header row (line {header.line}): {header.message}")
        if header is None:
            return None
        state["header"] = header
        state["csv"]["header"] = format_record(header, job.source)
        state["offset"], state["line"] = reader.offset, reader.line
        return len(header)
    return _first_width(source, job)


def _positions(job: ImportJob, header: list[str] | None, width: int) -> list[int]:
    names = [h.strip() for h in header] if header is not None else None
    found = []
    for i, column in enumerate(job.columns):
        wanted = column.source if column.source is not None else column.name
        if isinstance(wanted, int) or names is None:
            position = (wanted if isinstance(wanted, int) else i + 1) - 1
            if position >= width:
                raise JobFailed(
                    f'column "{column.name}" reads field {position + 1}, '
                    f"but records have {width} fields"
                )
        elif wanted.strip() in names:
            position = names.index(wanted.strip())
        else:
            raise JobFailed(
                f'column "{column.name}": no field "{wanted}" in the header row '
                f"({', '.join(names)})"
            )
        found.append(position)
    return found


def _first_width(source: Path, job: ImportJob) -> int | None:
    """The number of fields of the first readable record of a file without a header."""
    with CsvReader(source, job.source) as reader:
        while True:
            batch = reader.read(100)
            for record in batch.records:
                if record:
                    return len(record)
            if batch.eof:
                return None
