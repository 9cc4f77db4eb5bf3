"""One short read-only transaction per scrape: a row per defined job, nothing from the history.

The query joins ``jobs`` to its ``job_totals`` row and to its latest run by primary key, so a
scrape reads one row per job whatever the number of runs, journal lines or rejects kept.
Times are selected as the driver returns them (no per-value conversion): rows are compared
as plain tuples to find the jobs that changed since the previous scrape, and only those are
converted and rendered again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, event, select, text, type_coerce
from sqlalchemy.types import NullType

from runner.db import Database
from runner.models import Job, Run, job_totals

Row = tuple[Any, ...]

_TIMES = ("next_run_at", "heartbeat_at", "last_start_at", "last_success_at", "last_failure_at")
_TOTALS = tuple(c.name for c in job_totals.columns if c.name != "job_id")
_SOURCES: tuple[tuple[str, Any], ...] = (
    ("id", Job.id),
    ("name", Job.name),
    ("kind", Job.kind),
    ("schedule", Job.schedule),
    ("max_rejects", Job.max_rejects),
    ("max_duration_seconds", Job.max_duration_seconds),
    ("next_run_at", Job.next_run_at),
    ("run_status", Run.status),
    ("run_rejects", Run.rejects),
    ("heartbeat_at", Run.heartbeat_at),
    *((name, job_totals.c[name]) for name in _TOTALS),
)
COLUMNS: tuple[str, ...] = tuple(name for name, _ in _SOURCES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(COLUMNS)}


class DatabaseUnavailable(Exception):
    """This scrape could not read the database; the message is safe to log (no password)."""


def query() -> Select[Any]:
    """The scrape query: defined jobs with their totals and latest run, by job id."""
    columns = [
        (type_coerce(col, NullType()) if name in _TIMES else col).label(name)
        for name, col in _SOURCES
    ]
    joined = Job.__table__.join(job_totals, job_totals.c.job_id == Job.id).outerjoin(
        Run.__table__, Run.id == Job.latest_run_id
    )
    return select(*columns).select_from(joined).where(Job.defined.is_(True)).order_by(Job.id)


class Reader:
    """Reads the scrape rows with statement and connect timeouts below the scrape's budget."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._query = query()
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
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines() or [""]
        return self.db.redact(f"{type(orig).__name__}: {lines[0]}".strip())

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
