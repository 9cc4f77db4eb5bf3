"""One short read-only transaction per scrape, reading only the jobs that changed.

Every UPDATE of a job, its ``job_totals`` row or one of its runs adds one to the row's
``revision`` (see :mod:`runner.core.storage.models`). A scrape first reads each defined job's
*marks*: its id, those revisions and its latest run's id, a few integers per job. It then
reads in full, in the same transaction, only the jobs whose marks differ from the ones of
the last scrape (all of them on the first scrape), and the marks read with them are the ones
kept: a job that changes between the two statements is read again at the next scrape.

The queries join ``jobs`` to its ``job_totals`` row and to its latest run by primary key, so
a scrape reads one row per job whatever the number of runs, journal lines or rejects kept.
Times are selected as the driver returns them (no per-value conversion). A scrape selects
only the columns its served families need (its :class:`Layout`, see :mod:`exporter.plan`),
and joins ``job_totals`` or the latest run only when one of them does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event

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
from runner.core.storage.db import Database
from runner.core.storage.errors import describe

__all__ = ["COUNTERS", "FULL", "ID", "NAME", "PLAIN", "Layout", "Queries", "Row", "layout"]
__all__ += ["BATCH", "Marks", "packed_counters"]


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

    def changes(self, budget: float, known: Mapping[int, Marks]) -> Changes:
        """What :meth:`use_changes` gives, its rows listed."""
        found: list[Changes] = []
        self.use_changes(
            budget, known, lambda c: found.append(Changes(c.marks, list(c.rows), c.complete))
        )
        return found[0]

    def use_changes(
        self, budget: float, known: Mapping[int, Marks], use: Callable[[Changes], None]
    ) -> None:
        """Every defined job's marks, and the rows of the jobs whose marks are not ``known``,
        in one read-only transaction lasting at most about ``budget`` seconds, given to
        ``use`` within it (rows may come as they are read)."""
        self._local.deadline = time.monotonic() + budget
        try:
            with self.db.engine.connect() as conn, conn.begin():
                limits.limit(conn, budget)
                try:
                    changes = self._changes(conn, known)
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

    def _changes(self, conn: Connection, known: Mapping[int, Marks]) -> Changes:
        width = self.queries.width
        if not known:
            return self._everything(conn)
        result = conn.exec_driver_sql(self._marks_sql)
        try:  # plain tuples from the driver: the marks of a job are a row as it comes
            marks = {row[0]: row for row in result.cursor.fetchall()}
        finally:
            result.close()
        changed = [key for key, mark in marks.items() if known.get(key) != mark]
        if len(changed) * 2 > len(marks):  # most jobs: one statement without a list of ids
            return self._everything(conn)
        rows: list[Row] = []
        for start in range(0, len(changed), BATCH):
            ids = changed[start : start + BATCH]
            some = list(_split(conn.execute(self.queries.some, {"ids": ids}), width, marks))
            rows += some
            for key in set(ids).difference(r[ID] for r in some):
                del marks[key]  # no longer defined since the marks were read
        return Changes(marks, rows)

    def _everything(self, conn: Connection) -> Changes:
        marks: dict[int, Marks] = {}
        rows = _split(conn.execute(self.queries.everything), self.queries.width, marks)
        return Changes(marks, rows, complete=True)

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
