"""Rows into a target table, in bulk, inside the caller's transaction.

:mod:`runner.executor.jobs.strategy` says how: ``COPY`` on PostgreSQL (through a staging table
for upserts, then ``INSERT ... ON CONFLICT``), the driver's ``executemany`` on SQLite (``ON
CONFLICT``) and MariaDB (multi-row ``INSERT ... ON DUPLICATE KEY UPDATE``).

A batch the database refuses is split in halves inside savepoints until each refused row stands
alone: it is reported, and every other row of the batch is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from runner.core.config import TableTarget
from runner.core.states import RejectReason
from runner.core.storage.errors import refusal_message
from runner.executor.jobs.fastrows import Output, Row
from runner.executor.jobs.strategy import Strategy, Writer
from runner.executor.jobs.targets import TargetError

STAGE = "jobmon_stage"
Bulk = Callable[[sa.Connection, Sequence[Row]], None]


@dataclass(frozen=True)
class Refusal:
    """A row the database refused: its index in the batch, the reason code, the message."""

    index: int
    reason: RejectReason
    message: str


class TableWriter:
    """Writes batches of rows into one table, inside the caller's transaction.

    Rows are in the strategy's format (:attr:`output`): lines of COPY text format, or tuples
    of stored texts; the strategy also says which bulk writer sends them.
    """

    def __init__(self, table: sa.Table, target: TableTarget, strategy: Strategy) -> None:
        self.table, self.target = table, target
        self.output: Output = strategy.output
        self._kind: Writer = strategy.writer
        self.names = [c.name for c in table.columns]
        self._key = [self.names.index(k) for k in target.key]
        self._bulk: Bulk | None = None

    def write(self, session: Session, rows: Sequence[Row]) -> list[Refusal]:
        """Write ``rows``; the ones the database refuses are left out and returned."""
        conn = session.connection()
        if self._bulk is None:
            self._bulk = _bulk_writer(self._kind, conn.dialect, self.table, self.target)
        kept = self._deduplicated(rows) if self.target.mode == "upsert" else None
        batch = rows if kept is None else [rows[i] for i in kept]
        prepare_batch = getattr(self._bulk, "prepare", None)
        if prepare_batch is not None:
            prepare_batch(conn)
        refused = _write_splitting(conn, self._bulk, batch)
        if kept is None:
            return refused
        return [Refusal(kept[r.index], r.reason, r.message) for r in refused]

    def _deduplicated(self, rows: Sequence[Row]) -> list[int] | None:
        """Indices of the last row of each key (a batch cannot upsert one key twice)."""
        key = self._key
        last: dict[tuple[Any, ...], int]
        if self.output == "copy":
            fields = [str(row).split("\t") for row in rows]  # escaped values hold no tab
            last = {tuple(f[k] for k in key): i for i, f in enumerate(fields)}
        else:
            last = {tuple(row[k] for k in key): i for i, row in enumerate(rows)}
        return None if len(last) == len(rows) else sorted(last.values())


def _write_splitting(conn: sa.Connection, bulk: Bulk, rows: Sequence[Row]) -> list[Refusal]:
    refused: list[Refusal] = []
    pending = [(0, len(rows))] if rows else []
    while pending:
        low, high = pending.pop()
        try:
            # The connection's own savepoint: the session's would only be emitted lazily.
            with conn.begin_nested():
                bulk(conn, rows[low:high])
        except Exception as exc:
            reason = refusal_reason(exc)
            if reason is None:
                raise
            if high - low == 1:
                refused.append(Refusal(low, reason, refusal_message(exc)))
            else:
                middle = (low + high) // 2
                pending += [(middle, high), (low, middle)]  # the first half goes first
    return sorted(refused, key=lambda r: r.index)


# Errors that belong to some row of the batch, not to the connection or the statement.
_ROW_ERRORS = {"IntegrityError": RejectReason.CONSTRAINT, "DataError": RejectReason.DATABASE}
# PostgreSQL: one upsert touching a key twice; MariaDB: CHECK constraint failed.
_SPLIT_SQLSTATES = {"21000": RejectReason.DATABASE}
_MYSQL_CONSTRAINT_ERRNOS = {4025, 3819}


def refusal_reason(exc: BaseException) -> RejectReason | None:
    """The reject reason if ``exc`` is a database refusing some row, else None."""
    orig = getattr(exc, "orig", None) or exc
    for cls in type(orig).__mro__:
        if cls.__name__ in _ROW_ERRORS:
            return _ROW_ERRORS[cls.__name__]
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _SPLIT_SQLSTATES:
        return _SPLIT_SQLSTATES[sqlstate]
    args = getattr(orig, "args", ())
    if type(orig).__module__.startswith("pymysql") and args and args[0] in _MYSQL_CONSTRAINT_ERRNOS:
        return RejectReason.CONSTRAINT
    return None


def _bulk_writer(kind: Writer, dialect: sa.Dialect, table: sa.Table, target: TableTarget) -> Bulk:
    if kind == "copy":
        return _copy(table)
    if kind == "staged_copy":
        return _PostgresCopy(table, target)
    return _executemany(dialect, table, target)


def _positional_insert(dialect: sa.Dialect, table: sa.Table, target: TableTarget) -> str:
    binds: dict[str, Any] = {c.name: sa.bindparam(f"p{i}") for i, c in enumerate(table.columns)}
    names = [c.name for c in table.columns]
    others = [n for n in names if n not in target.key] or target.key[:1]
    stmt: Any
    if dialect.name == "sqlite":
        stmt = sqlite.insert(table).values(binds)
        if target.mode == "upsert":
            stmt = stmt.on_conflict_do_update(
                index_elements=target.key, set_={n: stmt.excluded[n] for n in others}
            )
    else:
        stmt = mysql.insert(table).values(binds)
        if target.mode == "upsert":
            stmt = stmt.on_duplicate_key_update({n: stmt.inserted[n] for n in others})
    compiled = stmt.compile(dialect=_positional(dialect))
    if list(compiled.positiontup or []) != [f"p{i}" for i in range(len(names))]:
        raise TargetError("unexpected parameter order in the generated INSERT")
    return str(compiled)


def _positional(dialect: sa.Dialect) -> sa.Dialect:
    """The dialect, set to render ``%s`` placeholders if it uses named ones (PyMySQL):
    rows go to ``executemany`` as tuples, the cheapest form for the driver."""
    if dialect.positional:
        return dialect
    positional = copy.copy(dialect)
    positional.paramstyle, positional.positional = "format", True
    return positional


def _executemany(dialect: sa.Dialect, table: sa.Table, target: TableTarget) -> Bulk:
    sql = _positional_insert(dialect, table, target)

    def bulk(conn: sa.Connection, rows: Sequence[Row]) -> None:
        cursor = _driver(conn).cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    return bulk


def _driver(conn: sa.Connection) -> Any:
    """The driver's own connection under ``conn`` (there is one: the transaction is open)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


def _identifier(table: sa.Table) -> Any:
    from psycopg import sql

    return sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)


def _copy_sql(table: sa.Table, names: Sequence[str]) -> Any:
    from psycopg import sql

    columns = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(_identifier(table), columns)


def _copy_rows(conn: sa.Connection, statement: Any, rows: Sequence[Row]) -> None:
    """COPY lines already in text format: one write for the whole batch."""
    lines = cast("Sequence[str]", rows)  # COPY rows are lines of text
    with _driver(conn).cursor() as cursor, cursor.copy(statement) as copy:
        copy.write("".join(lines))


def _copy(table: sa.Table) -> Bulk:
    statement = _copy_sql(table, [c.name for c in table.columns])

    def bulk(conn: sa.Connection, rows: Sequence[Row]) -> None:
        _copy_rows(conn, statement, rows)

    return bulk


class _PostgresCopy:
    """Upsert on PostgreSQL: COPY into a temporary staging table, then INSERT ... ON CONFLICT."""

    def __init__(self, table: sa.Table, target: TableTarget) -> None:
        from psycopg import sql

        names = [c.name for c in table.columns]
        stage = sa.Table(STAGE, sa.MetaData(), *(sa.Column(n) for n in names))
        self._create = sql.SQL(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {} ON COMMIT DROP AS "
            "SELECT {} FROM {} WITH NO DATA"
        ).format(
            sql.Identifier(STAGE),
            sql.SQL(", ").join(sql.Identifier(n) for n in names),
            _identifier(table),
        )
        self._copy = _copy_sql(stage, names)
        stmt = postgresql.insert(table).from_select(names, sa.select(*stage.columns))
        others = [n for n in names if n not in target.key]
        if others:
            stmt = stmt.on_conflict_do_update(
                index_elements=target.key, set_={n: stmt.excluded[n] for n in others}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=target.key)
        self._merge = stmt
        self._truncate = sql.SQL("TRUNCATE {}").format(sql.Identifier(STAGE))

    def prepare(self, conn: sa.Connection) -> None:
        """Create the staging table for this transaction."""
        with _driver(conn).cursor() as cursor:
            cursor.execute(self._create)

    def __call__(self, conn: sa.Connection, rows: Sequence[Row]) -> None:
        _copy_rows(conn, self._copy, rows)
        conn.execute(self._merge)
        with _driver(conn).cursor() as cursor:
            cursor.execute(self._truncate)
