"""Runs of plainly valid lines written into PostgreSQL as they are, by ``COPY ... (FORMAT csv)``.

For an insert into PostgreSQL whose file's fields are the job's columns in order, the line
route (:mod:`runner.executor.jobs.linecheck`) does not assemble the rows of its runs of
plainly valid lines: it keeps their text (only the fields a column's own pattern checks are
split out), and the server parses them, while the chunk's other rows go as rows of COPY text.
Such a run holds no backslash, tab, carriage return or NUL, quotes only whole text fields with
no quote inside, and has an empty field only where the column is not required, and never
quoted (the server would read ``""`` as an empty text, where the converter stores NULL);
every value in it is one PostgreSQL reads, as it is, as the value the row converter stores
(:attr:`~runner.core.columns.base.LineField.verbatim`). So the CSV reader of the server gives
each field the value the converter's row would (an unquoted empty field is NULL). The
client's work for such a line is a regular expression's match; parsing it is the server's,
on its own core.

If the database refuses the COPY (a constraint, a value out of the column's range), nothing of
it is kept: the chunk's lines are turned into rows (:func:`expanded`) and written as any other
chunk, so each refused row is found and rejected on its own, as before.
"""

from __future__ import annotations

import contextlib
import csv
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runner.core.columns import LineField
from runner.core.columns.base import Values
from runner.core.config import Column, CsvFormat, ImportJob
from runner.executor.jobs.csvsource import csv_options
from runner.executor.jobs.lineparts import merged
from runner.executor.jobs.rows import Converted, RowConverter
from runner.executor.jobs.writers import refusal_reason


def verbatim(
    fields: dict[int, tuple[Column, LineField]],
    positions: Sequence[int],
    width: int,
    fmt: CsvFormat,
) -> bool:
    """Whether runs of lines may go to the server as they are: every field is read, in order,
    by a column whose values PostgreSQL reads as stored, delimited and quoted by one byte."""
    one_byte = len(fmt.delimiter.encode()) == 1 and len(fmt.quote.encode()) == 1
    in_order = list(positions) == list(range(width))
    return one_byte and in_order and all(line.verbatim for _, line in fields.values())


def refused(checks: Sequence[Callable[[Values], list[int]]], groups: list[list[str]]) -> list[int]:
    """The indices, in order, of the lines with a value in one of the ``groups`` (a column's
    values) that the column's check refuses."""
    found: set[int] = set()
    for check, values in zip(checks, groups, strict=True):
        found.update(check(values))
    return sorted(found)


@dataclass(frozen=True)
class CsvCopy:
    """The ``COPY`` of a job's lines of CSV into its table."""

    table: sa.Table
    delimiter: str
    quote: str

    @classmethod
    def of(cls, job: ImportJob, table: sa.Table) -> CsvCopy:
        return cls(table, job.source.delimiter, job.source.quote)

    @functools.cached_property
    def statement(self) -> object:
        from psycopg import sql

        name = (
            sql.Identifier(self.table.schema, self.table.name)
            if self.table.schema
            else sql.Identifier(self.table.name)
        )
        options = [
            sql.SQL("FORMAT csv"),
            sql.SQL("DELIMITER {}").format(sql.Literal(self.delimiter)),
            sql.SQL("QUOTE {}").format(sql.Literal(self.quote)),
        ]
        return sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
            name,
            sql.SQL(", ").join(sql.Identifier(c.name) for c in self.table.columns),
            sql.SQL(", ").join(options),
        )

    def stream(self, session: Session) -> CsvStream:
        """A COPY of this job's lines in ``session``'s transaction (see :class:`CsvStream`)."""
        return CsvStream(self, session)


class CsvStream:
    """One ``COPY`` of lines of CSV for a whole transaction, in a savepoint: begun at the
    first write, ended by :meth:`close`. The server parses each chunk while the runner
    takes the next one, instead of waiting for it chunk by chunk (a COPY a chunk left the
    server idle while the runner took the next: a fifth of an import into PostgreSQL).
    Nothing else may use the session while it is open; leaving its ``with`` block on an
    error abandons it (the transaction is rolled back)."""

    def __init__(self, copy: CsvCopy, session: Session) -> None:
        self._copy, self._session = copy, session
        self._stack = contextlib.ExitStack()
        self._open: Any = None  # psycopg's Copy, once begun
        self._savepoint: sa.NestedTransaction | None = None
        self._failed: BaseException | None = None

    def write(self, text: str) -> None:
        """Send lines of CSV (nothing more once the database has refused the COPY)."""
        if self._failed is not None:
            return
        try:
            if self._open is None:
                conn = self._session.connection()
                self._savepoint = conn.begin_nested()
                driver = conn.connection.driver_connection
                assert driver is not None
                cursor = self._stack.enter_context(driver.cursor())
                self._open = self._stack.enter_context(cursor.copy(self._copy.statement))
            self._open.write(text)
        except Exception as exc:
            self._failed = exc
            self._abandon(exc)

    def close(self) -> bool:
        """End the COPY; False (nothing of it kept) if the database refused one of its rows."""
        if self._failed is None and self._open is not None:
            try:
                self._stack.close()  # the end of the COPY: the server's answer
            except Exception as exc:
                self._failed = exc
        self._open = None
        if self._failed is None:
            if self._savepoint is not None:
                self._savepoint.commit()
            return True
        if refusal_reason(self._failed) is None:
            raise self._failed
        assert self._savepoint is not None
        self._savepoint.rollback()
        return False

    def _abandon(self, exc: BaseException) -> None:
        with contextlib.suppress(Exception):  # the error that ended it is the one that counts
            self._stack.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> CsvStream:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None and self._open is not None and self._failed is None:
            self._abandon(exc)


def expanded(
    converted: Converted, job: ImportJob, positions: Sequence[int], width: int
) -> Converted:
    """The chunk with its lines kept as they are turned into rows of COPY text, merged in
    line order with its other rows."""
    if not converted.raw_lines:
        return converted
    converter = RowConverter(job.columns, positions, width, job.source, "copy")
    texts = converted.raw.split("\n")[:-1]  # whole lines, each a record (no line break inside)
    records = list(csv.reader(texts, **csv_options(job.source)))
    rows = converter.convert(records, converted.raw_lines)
    others = Converted(converted.rows, converted.lines, [], converted.rejects)
    done = merged(rows.rows, rows.lines, others)
    done.rejects = sorted([*rows.rejects, *done.rejects], key=lambda r: r.line)
    return done
