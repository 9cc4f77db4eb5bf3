"""One short read-only transaction per scrape, reading only the jobs that changed.

Every write of a job, its ``job_totals`` row or one of its runs moves the row's
``revision`` (see :mod:`runner.core.storage.stamps`). A scrape reads in full, in one
transaction, only the jobs with a row written since the last scrape (all of them on the
first scrape), and finds them in one of two ways:

- on PostgreSQL and SQLite, the ids of the jobs with a row written since the last scrape's
  watermark come from index ranges on ``revision`` (``since``), whatever the number of
  jobs, with the watermark the next scrape starts from;
- on MariaDB, or when most jobs come back that way (a long transaction holds PostgreSQL's
  xmin back), the scrape reads each defined job's *marks*, its id, those revisions and its
  latest run's id, a few integers per job, and compares them with the last scrape's.

A job that changes while a scrape reads is read again at the next one. The queries join
``jobs`` to its ``job_totals`` row and to its latest run by primary key, so a scrape reads
one row per job whatever the number of runs, journal lines or rejects kept. Times are
selected as the driver returns them (no per-value conversion). A scrape selects only the
columns its served families need (its :class:`Layout`, see :mod:`exporter.plan`), and joins
``job_totals`` or the latest run only when one of them does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, select

from exporter import limits
from exporter.queries import (
    BATCH,
    COUNTERS,
    FULL,
    ID,
    NAME,
    PLAIN,
    Layout,
    Marks,
    Queries,
    Row,
    layout,
    packed_counters,
    queries,
)
from runner.core.storage import stamps
from runner.core.storage.db import Database
from runner.core.storage.errors import describe

__all__ = ["COUNTERS", "FULL", "ID", "NAME", "PLAIN", "Layout", "Queries", "Row", "layout"]
__all__ += ["BATCH", "Marks", "packed_counters"]


_NEVER = 2**63 - 1  # a ``since`` no row is written at: the statement gives its watermark only


class DatabaseUnavailable(Exception):
    """This scrape could not read the database; the message is safe to log (no password)."""


@dataclass
class Changes:
    """What a scrape read: every defined job's marks, and the rows of the jobs that changed.

    When ``complete``, ``rows`` are every defined job's, in the order of their names, and
    may be given one at a time while they are read (``marks`` is complete once they are)."""

    marks: dict[int, Marks]
    rows: Iterable[Row]
    complete: bool = False
    watermark: int | None = None  # where the next read's ``since`` starts, where there is one


class _Failed(Exception):
    """What the use of a read raised, carried past the handling of database errors."""


class Reader:
    """Reads the scrape rows with statement and connect timeouts below the scrape's budget."""

    def __init__(self, db: Database, columns: Layout = FULL) -> None:
        self.db = db
        self.queries = queries(db.engine.dialect.name, columns)
        # Run as SQL text: its rows are many and plain, so they are fetched from the driver.
        marks = self.queries.marks.compile(db.engine, compile_kwargs={"literal_binds": True})
        self._marks_sql = str(marks)
        self._local = threading.local()
        event.listen(db.engine, "do_connect", self._connect_timeout)

    def read(self, budget: float) -> list[Row]:
        """Every defined job's row, in one read-only transaction lasting about ``budget``."""
        return list(self.changes(budget, {}).rows)

    def changes(
        self, budget: float, known: Mapping[int, Marks], since: int | None = None
    ) -> Changes:
        """What :meth:`use_changes` gives, its rows listed."""
        found: list[Changes] = []

        def keep(c: Changes) -> None:
            found.append(Changes(c.marks, list(c.rows), c.complete, c.watermark))

        self.use_changes(budget, known, keep, since)
        return found[0]

    def use_changes(
        self,
        budget: float,
        known: Mapping[int, Marks],
        use: Callable[[Changes], None],
        since: int | None = None,
    ) -> None:
        """Every defined job's marks, and the rows of the jobs whose marks are not ``known``
        (written at or after the watermark ``since``, where given and the backend has one),
        in one read-only transaction lasting at most about ``budget`` seconds, given to
        ``use`` within it (rows may come as they are read)."""
        self._local.deadline = time.monotonic() + budget
        try:
            with self.db.engine.connect() as conn, conn.begin():
                limits.limit(conn, budget)
                try:
                    changes = self._changes(conn, known, since)
                    try:
                        use(changes)
                    except Exception as exc:
                        raise _Failed() from exc
                finally:
                    limits.unlimit(conn)
        except _Failed as failed:
            assert failed.__cause__ is not None
            raise failed.__cause__ from None
        except Exception as exc:
            raise DatabaseUnavailable(self.describe(exc)) from None
        finally:
            self._local.deadline = None

    def _changes(self, conn: Connection, known: Mapping[int, Marks], since: int | None) -> Changes:
        if not known:
            return self._everything(conn)
        watermark = None
        if self.queries.since is not None:
            found = conn.execute(self.queries.since, {"since": _NEVER if since is None else since})
            listed = found.all()
            watermark = listed[0][0]
            written = sorted({row[1] for row in listed if row[1] is not None})
            if since is not None and len(written) * 2 <= len(known):
                return self._written(conn, known, written, watermark)
        # Without a watermark, or with most jobs written since it (a long transaction holds
        # the snapshots' xmin back, or most did change): compare every job's marks.
        changes = self._compared(conn, known)
        if not changes.complete:
            changes.watermark = watermark
        return changes

    def _written(
        self, conn: Connection, known: Mapping[int, Marks], written: list[int], watermark: int
    ) -> Changes:
        """The jobs ``written`` since the last read, less those whose marks did not move
        (only another of their runs was written, or the watermark lagged)."""
        marks = dict(known)
        rows = self._some(conn, written, marks)
        rows = [row for row in rows if known.get(row[ID]) != marks[row[ID]]]
        return Changes(marks, rows, watermark=watermark)

    def _compared(self, conn: Connection, known: Mapping[int, Marks]) -> Changes:
        """Every defined job's marks compared with ``known``, and the rows that differ."""
        result = conn.exec_driver_sql(self._marks_sql)
        try:  # plain tuples from the driver: the marks of a job are a row as it comes
            marks = {row[0]: row for row in result.cursor.fetchall()}
        finally:
            result.close()
        changed = [key for key, mark in marks.items() if known.get(key) != mark]
        if len(changed) * 2 > len(marks):  # most jobs: one statement without a list of ids
            return self._everything(conn)
        return Changes(marks, self._some(conn, changed, marks))

    def _some(self, conn: Connection, ids: Sequence[int], marks: dict[int, Marks]) -> list[Row]:
        """The rows of the jobs ``ids`` that are defined, their marks kept in ``marks``; the
        others' marks are dropped (no longer defined since the marks were read)."""
        rows: list[Row] = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            some = list(
                _split(conn.execute(self.queries.some, {"ids": batch}), self.queries.width, marks)
            )
            rows += some
            for key in set(batch).difference(r[ID] for r in some):
                marks.pop(key, None)
        return rows

    def _everything(self, conn: Connection) -> Changes:
        watermark = None
        if self.queries.since is not None:  # taken first: anything the read misses is above
            watermark = conn.execute(select(stamps.watermark())).scalar_one()
        marks: dict[int, Marks] = {}
        rows = _split(conn.execute(self.queries.everything), self.queries.width, marks)
        return Changes(marks, rows, complete=True, watermark=watermark)

    def describe(self, exc: BaseException) -> str:
        """A one-line reason for ``exc`` with the database password masked."""
        return self.db.redact(describe(exc))

    def _connect_timeout(
        self, dialect: Any, _record: Any, _cargs: Sequence[Any], cparams: dict[str, Any]
    ) -> None:
        deadline = getattr(self._local, "deadline", None)
        if deadline is not None:
            remaining = min(deadline - time.monotonic(), limits.MAX_CONNECT_SECONDS)
            limits.connect_timeout(dialect.name, cparams, remaining)


def _split(rows: Iterable[Any], width: int, marks: dict[int, Marks]) -> Iterator[Row]:
    """Rows of ``everything`` or ``some`` as job rows, their marks kept in ``marks``."""
    for row in rows:
        job = row[width:]
        marks[job[ID]] = row[:width]
        yield job
