"""Target tables: checked against the database, created on request, written in bulk.

Table and column names come from the config but never reach SQL as pasted text: they are
checked against the database's catalog (SQLAlchemy's inspector) and rendered by SQLAlchemy or
psycopg as quoted identifiers. Rows are written the fastest way each database offers inside the
caller's transaction: ``COPY`` on PostgreSQL (through a staging table for upserts, then
``INSERT ... ON CONFLICT``), the driver's ``executemany`` on SQLite (``ON CONFLICT``) and
MariaDB (multi-row ``INSERT ... ON DUPLICATE KEY UPDATE``).

A batch the database refuses is split in halves inside savepoints until each refused row stands
alone: it is reported, and every other row of the batch is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import quoted_name

from runner.core.config import Column, TableTarget
from runner.core.states import RejectReason
from runner.core.storage.db import Database
from runner.core.storage.errors import refusal_message
from runner.core.storage.models import Base
from runner.executor.jobs.fastrows import Output, Row

STAGE = "jobmon_stage"
Bulk = Callable[[sa.Connection, Sequence[Row]], None]


class TargetError(Exception):
    """The target table cannot be used as configured."""


@dataclass(frozen=True)
class Refusal:
    """A row the database refused: its index in the batch, the reason code, the message."""

    index: int
    reason: RejectReason
    message: str


def sql_type(column: Column, key: bool = False) -> sa.types.TypeEngine[Any]:
    """The column type ``create: true`` gives a declared column."""
    if column.type == "integer":
        return sa.BigInteger()
    if column.type == "decimal":
        return sa.Numeric(column.digits, column.decimals)
    if column.type == "float":
        return sa.Double()
    if column.type == "boolean":
        return sa.Boolean()
    if column.type == "date":
        return sa.Date()
    if column.type == "datetime":
        return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    if column.type == "enum":
        return sa.String(max(len(c) for c in column.choices or [""]))
    if column.max_length is not None:
        return sa.String(column.max_length)
    return sa.String(255) if key else sa.Text()  # MariaDB cannot index TEXT


def table_for(target: TableTarget, cols: Sequence[Column]) -> sa.Table:
    """A SQLAlchemy table of the declared columns, every name quoted."""
    keys = set(target.key)
    columns = [
        sa.Column(
            quoted_name(c.name, True),
            sql_type(c, c.name in keys),
            primary_key=c.name in keys,
            nullable=not (c.required or c.name in keys),
            autoincrement=False,
        )
        for c in cols
    ]
    schema = quoted_name(target.schema_, True) if target.schema_ else None
    return sa.Table(quoted_name(target.table, True), sa.MetaData(), *columns, schema=schema)


def display_name(target: TableTarget) -> str:
    """``schema.table`` for messages."""
    return f"{target.schema_}.{target.table}" if target.schema_ else target.table


def prepare(db: Database, target: TableTarget, cols: Sequence[Column], *, own: bool) -> sa.Table:
    """Check (or create) the target table before the first row; :class:`TargetError` if unfit.

    ``own`` is true when the target is jobmon's own database, whose tables are off limits.
    """
    if own and target.schema_ is None and target.table in Base.metadata.tables:
        raise TargetError(f'table "{target.table}" is one of jobmon\'s own tables')
    table = table_for(target, cols)
    with db.write() as session:
        conn = session.connection()
        inspector = sa.inspect(conn)
        if not inspector.has_table(target.table, schema=target.schema_):
            if not target.create:
                raise TargetError(
                    f'table "{display_name(target)}" does not exist in {db.safe_url} '
                    "(create it, or set target.create: true)"
                )
            table.create(conn)
            return table
        _check_columns(inspector, target, cols)
        if target.mode == "upsert":
            _check_key(inspector, target)
    return table


def _check_columns(inspector: Any, target: TableTarget, cols: Sequence[Column]) -> None:
    found = [c["name"] for c in inspector.get_columns(target.table, schema=target.schema_)]
    for column in cols:
        if column.name not in found:
            near = [f for f in found if f.lower() == column.name.lower()]
            hint = f' (did you mean "{near[0]}"?)' if near else f" (it has {', '.join(found)})"
            raise TargetError(f'table "{display_name(target)}" has no column "{column.name}"{hint}')


def _check_key(inspector: Any, target: TableTarget) -> None:
    table, schema, wanted = target.table, target.schema_, set(target.key)
    keys = [inspector.get_pk_constraint(table, schema=schema).get("constrained_columns") or []]
    keys += [u["column_names"] for u in inspector.get_unique_constraints(table, schema=schema)]
    keys += [i["column_names"] for i in inspector.get_indexes(table, schema=schema) if i["unique"]]
    if not any(set(k) == wanted for k in keys):
        raise TargetError(
            f"upsert needs a primary key or unique index on ({', '.join(target.key)}) "
            f'in table "{display_name(target)}"'
        )


class TableWriter:
    """Writes batches of rows into one table, inside the caller's transaction.

    Rows are lines of COPY text format for PostgreSQL (:attr:`output` is ``"copy"``), tuples
    of stored texts for the others.
    """

    def __init__(self, table: sa.Table, target: TableTarget, dialect: str) -> None:
        self.table, self.target = table, target
        self.output: Output = "copy" if dialect == "postgresql" else "tuple"
        self.names = [c.name for c in table.columns]
        self._key = [self.names.index(k) for k in target.key]
        self._bulk: Bulk | None = None

    def write(self, session: Session, rows: Sequence[Row]) -> list[Refusal]:
        """Write ``rows``; the ones the database refuses are left out and returned."""
        conn = session.connection()
        if self._bulk is None:
            self._bulk = _bulk_writer(conn.dialect, self.table, self.target)
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


def _bulk_writer(dialect: sa.Dialect, table: sa.Table, target: TableTarget) -> Bulk:
    if dialect.name == "postgresql":
        return _PostgresCopy(table, target) if target.mode == "upsert" else _copy(table)
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
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    return bulk


def _identifier(table: sa.Table) -> Any:
    from psycopg import sql

    return sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)


def _copy_sql(table: sa.Table, names: Sequence[str]) -> Any:
    from psycopg import sql

    columns = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(_identifier(table), columns)


def _copy_rows(conn: sa.Connection, statement: Any, rows: Sequence[Row]) -> None:
    """COPY lines already in text format: one write for the whole batch."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write("".join(rows))  # type: ignore[arg-type]


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
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(self._create)

    def __call__(self, conn: sa.Connection, rows: Sequence[Row]) -> None:
        _copy_rows(conn, self._copy, rows)
        conn.execute(self._merge)
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(self._truncate)
