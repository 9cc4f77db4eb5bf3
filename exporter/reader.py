"""One short read-only transaction per scrape: a row per defined job, nothing from the history.

The query joins ``jobs`` to its ``job_totals`` row and to its latest run by primary key, so a
scrape reads one row per job whatever the number of runs, journal lines or rejects kept.
Times are selected as the driver returns them (no per-value conversion): rows are compared
as plain tuples to find the jobs that changed since the previous scrape, and only those are
converted and rendered again. A scrape selects only the columns its served families need (its
:class:`Layout`, see :mod:`exporter.plan`), and joins ``job_totals`` or the latest run only when
one of them does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    event,
    func,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.types import NullType

from runner.core.storage.db import Database
from runner.core.storage.errors import describe
from runner.core.storage.models import Job, Run, job_totals

Row = tuple[Any, ...]

_TIMES = ("next_run_at", "heartbeat_at", "last_start_at", "last_success_at", "last_failure_at")
# The integer counters travel packed in one text column ("3,0,12,..."): one value per row for
# the driver to build instead of dozens, which is most of a scrape's cost at 10k jobs.
COUNTERS: tuple[str, ...] = tuple(
    c.name for c in job_totals.columns if c.name != "job_id" and isinstance(c.type, BigInteger)
)
_JOB_SOURCES: tuple[tuple[str, Any], ...] = (
    ("id", Job.id),
    ("name", Job.name),
    ("kind", Job.kind),
    ("schedule", Job.schedule),
    ("after", Job.after),
    ("max_rejects", Job.max_rejects),
    ("max_duration_seconds", Job.max_duration_seconds),
    ("next_run_at", Job.next_run_at),
)
_RUN_SOURCES = (
    ("run_status", "status"),
    ("run_rejects", "rejects"),
    ("heartbeat_at", "heartbeat_at"),
)
_TOTAL_SOURCES = ("duration_sum", "last_start_at", "last_success_at", "last_failure_at")
# Every column a scrape may read besides the counters, in row order.
PLAIN: tuple[str, ...] = (
    *(name for name, _ in _JOB_SOURCES),
    *(name for name, _ in _RUN_SOURCES),
    *_TOTAL_SOURCES,
)
ID, NAME = 0, 1  # where every row has the job's id and name
_RUN_COLUMNS = frozenset(name for name, _ in _RUN_SOURCES)
_TOTAL_COLUMNS = frozenset((*_TOTAL_SOURCES, *COUNTERS))


class DatabaseUnavailable(Exception):
    """This scrape could not read the database; the message is safe to log (no password)."""


@dataclass(frozen=True)
class Layout:
    """The columns one scrape reads, in row order: ``plain`` ones (``id`` and ``name`` first),
    then the ``counters``, packed in one text column (absent when there are none)."""

    plain: tuple[str, ...]
    counters: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The columns of a row once flattened by :meth:`flat`."""
        return (*self.plain, *self.counters)

    def flat(self, row: Row) -> Row:
        """``row`` with its counters unpacked in place of the packed column."""
        if not self.counters:
            return row
        return (*row[:-1], *map(int, row[-1].split(",")))


def layout(columns: Iterable[str]) -> Layout:
    """The layout that reads ``columns`` (names of :data:`PLAIN` and :data:`COUNTERS`)."""
    wanted = {"id", "name", *columns}
    unknown = wanted.difference(PLAIN, COUNTERS)
    if unknown:
        raise ValueError(f"no such scrape column: {', '.join(sorted(unknown))}")
    return Layout(tuple(c for c in PLAIN if c in wanted), tuple(c for c in COUNTERS if c in wanted))


FULL = layout((*PLAIN, *COUNTERS))


def packed_counters(dialect: str, names: Sequence[str] = COUNTERS) -> Any:
    """The counters ``names`` as one comma-separated text value."""
    columns = [job_totals.c[name] for name in names]
    if dialect == "sqlite":
        return func.printf(",".join(["%d"] * len(columns)), *columns)
    return func.concat_ws(",", *columns)


def _latest_run(dialect: str) -> Any:
    """The latest run, looked up by primary key for each job.

    PostgreSQL would hash-join the whole ``runs`` table once it outweighs the index lookups in
    its estimates, making a scrape cost grow with the history; a LATERAL subquery with LIMIT
    cannot be flattened into a join, so each job costs one index lookup. SQLite and MariaDB
    join on the primary key by lookups already.
    """
    if dialect != "postgresql":
        return Run.__table__
    columns = [Run.id, Run.status, Run.rejects, Run.heartbeat_at]
    return select(*columns).where(Run.id == Job.latest_run_id).limit(1).lateral("runs")


def query(dialect: str, columns: Layout = FULL) -> Select[Any]:
    """The scrape query: defined jobs with the columns of ``columns`` (in no set order: the
    renderer orders jobs by name, the same way on every backend). ``job_totals`` and the
    latest run are joined only when a column comes from them."""
    runs = _latest_run(dialect)
    sources = {
        **dict(_JOB_SOURCES),
        **{name: runs.c[column] for name, column in _RUN_SOURCES},
        **{name: job_totals.c[name] for name in _TOTAL_SOURCES},
    }
    selected = [
        (type_coerce(sources[name], NullType()) if name in _TIMES else sources[name]).label(name)
        for name in columns.plain
    ]
    if columns.counters:
        selected.append(packed_counters(dialect, columns.counters).label("counters"))
    joined: Any = Job.__table__
    if _TOTAL_COLUMNS.intersection(columns.names):
        joined = joined.join(job_totals, job_totals.c.job_id == Job.id)
    if _RUN_COLUMNS.intersection(columns.names):
        on = true() if dialect == "postgresql" else runs.c.id == Job.latest_run_id
        joined = joined.outerjoin(runs, on)
    return select(*selected).select_from(joined).where(Job.defined.is_(True))


class Reader:
    """Reads the scrape rows with statement and connect timeouts below the scrape's budget."""

    def __init__(self, db: Database, columns: Layout = FULL) -> None:
        self.db = db
        self._query = query(db.engine.dialect.name, columns)
        self._local = threading.local()
        event.listen(db.engine, "do_connect", self._connect_timeout)

    def read(self, budget: float) -> list[Row]:
        """All rows, in one read-only transaction lasting at most about ``budget`` seconds."""
        self._local.deadline = time.monotonic() + budget
        try:
            with self.db.engine.connect() as conn, conn.begin():
                self._limit(conn, budget)
                try:
                    return [tuple(r) for r in conn.execute(self._query)]
                finally:
                    self._unlimit(conn)
        except Exception as exc:
            raise DatabaseUnavailable(self.describe(exc)) from None
        finally:
            self._local.deadline = None

    def describe(self, exc: BaseException) -> str:
        """A one-line reason for ``exc`` with the database password masked."""
        return self.db.redact(describe(exc))

    def _limit(self, conn: Connection, budget: float) -> None:
        millis = max(1, int(budget * 1000))
        dialect = conn.dialect
        if dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text(f"SET LOCAL statement_timeout = {millis}"))
        elif dialect.name in ("mysql", "mariadb"):
            if getattr(dialect, "is_mariadb", False):
                conn.execute(text(f"SET SESSION max_statement_time = {millis / 1000:.3f}"))
            else:
                conn.execute(text(f"SET SESSION max_execution_time = {millis}"))
        elif dialect.name == "sqlite":
            raw: Any = conn.connection.dbapi_connection
            raw.execute(f"PRAGMA busy_timeout = {millis}")
            deadline = time.monotonic() + budget
            # SQLite has no statement timeout: a progress handler aborts a query past it.
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

    def _unlimit(self, conn: Connection) -> None:
        if conn.dialect.name == "sqlite":
            raw: Any = conn.connection.dbapi_connection
            raw.set_progress_handler(None, 0)

    def _connect_timeout(
        self, dialect: Any, _record: Any, _cargs: Sequence[Any], cparams: dict[str, Any]
    ) -> None:
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return
        remaining = max(0.1, deadline - time.monotonic())
        if dialect.name == "postgresql":
            cparams["connect_timeout"] = max(2, math.ceil(remaining))  # libpq's minimum is 2 s
        elif dialect.name in ("mysql", "mariadb"):
            cparams["connect_timeout"] = remaining
        elif dialect.name == "sqlite":
            cparams["timeout"] = remaining
