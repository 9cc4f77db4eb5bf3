"""``kind: export``: a table or a named read-only query to a CSV file, all or nothing.

Rows are streamed (a server-side cursor where the database has one) into a temporary file next
to the destination, which is fsynced and renamed over it at the end: a crash, a cancel or a
stop never leaves a partial file at the destination. A checkpoint after each chunk lets pause,
cancel and shutdown act; a resumed export starts again from the first row.

A table export names its columns, filter and order in the config; they are checked against the
table and rendered by SQLAlchemy as quoted identifiers and bound parameters, never as SQL text.
Both kinds of export read in a read-only transaction. Values are written in one form per
column type, chosen from the table's declared types (:mod:`runner.executor.jobs.cells`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import quoted_name

from runner.core.config import Condition, ExportJob, ExportSource
from runner.core.states import Level
from runner.core.storage.db import Database
from runner.core.wording import plural
from runner.executor.context import JobContext, JobFailed
from runner.executor.jobs import paths
from runner.executor.jobs.cells import Convert, row_converter
from runner.executor.jobs.csvsource import csv_options
from runner.executor.jobs.imports import named_database

Types = list[sa.types.TypeEngine[Any]]
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "in": lambda c, v: c.in_(v),
    "not in": lambda c, v: c.not_in(v),
    "is null": lambda c, _v: c.is_(None),
    "is not null": lambda c, _v: c.is_not(None),
}


def execute(job: ExportJob, ctx: JobContext) -> None:
    """Run an export (a resumed one starts over)."""
    try:
        destination = paths.destination_file(job.destination.path, ctx.data_dirs)
    except paths.PathError as exc:
        raise JobFailed(f"destination: {exc}") from None
    if ctx.state is not None:
        ctx.journal(Level.INFO, "an export restarts from its first row")
    db = _reader_database(job, ctx)
    temporary = destination.with_name(f".{destination.name}.{ctx.run_id}.tmp")
    try:
        count = _export(job, ctx, db, temporary)
        _replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
        db.dispose()
    ctx.journal(Level.INFO, f"exported {plural(count, 'row')} to {job.destination.path}")


def _reader_database(job: ExportJob, ctx: JobContext) -> Database:
    """A separate engine for the read-only read, so no setting leaks into shared pools."""
    name = job.source.database
    if job.source.query is not None and ctx.config is not None:
        query = ctx.config.queries.get(job.source.query)
        name = query.database if query is not None else None
    db, own = named_database(name, ctx)
    if own:
        return Database(db.url.render_as_string(hide_password=False))
    return db


def _export(job: ExportJob, ctx: JobContext, db: Database, temporary: Path) -> int:
    count = 0
    with read_only(db) as conn:
        statement, types = _statement(job, ctx, conn)
        streaming = conn.execution_options(stream_results=True, max_row_buffer=job.chunk_rows)
        with streaming.execute(statement) as result, _open(temporary, job) as out:
            writer = csv.writer(out, lineterminator="\n", **csv_options(job.destination))
            if job.destination.header:
                writer.writerow(list(result.keys()))
            escape = job.destination.escape_formulas
            convert = row_converter(types or [None] * len(result.keys()), escape)
            for part in result.partitions(job.chunk_rows):
                _write_rows(writer, part, convert, job)
                count += len(part)
                ctx.progress(len(part))
                ctx.checkpoint({"exported": count})
            out.flush()
            os.fsync(out.fileno())
    return count


@contextmanager
def _open(path: Path, job: ExportJob) -> Iterator[Any]:
    with open(path, "w", encoding=job.destination.encoding, newline="") as out:
        yield out


def _write_rows(writer: Any, rows: Sequence[Any], convert: Convert, job: ExportJob) -> None:
    try:
        writer.writerows(map(convert, rows))
    except UnicodeEncodeError as exc:
        raise JobFailed(
            f"a value cannot be written as {job.destination.encoding}: "
            f"{exc.object[exc.start : exc.end]!r}"
        ) from None


def _replace(temporary: Path, destination: Path) -> None:
    """Rename into place, then fsync the directory so the rename itself is durable."""
    os.replace(temporary, destination)
    fd = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def read_only(db: Database) -> Iterator[sa.Connection]:
    """A connection in a read-only transaction, rolled back at the end."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
        else:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()
            if db.dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = OFF")
                conn.rollback()


def _statement(job: ExportJob, ctx: JobContext, conn: sa.Connection) -> tuple[Any, Types | None]:
    """The statement to run and its columns' declared types (None for a query: none known)."""
    source = job.source
    if source.query is not None:
        if ctx.config is None or source.query not in ctx.config.queries:
            raise JobFailed(f'query "{source.query}" is not configured under queries:')
        return sa.text(ctx.config.queries[source.query].sql), None
    return table_select(source, conn)


def table_select(source: ExportSource, conn: sa.Connection) -> tuple[sa.Select[Any], Types]:
    """SELECT of the configured columns, filter and order, each name checked on the table,
    and the selected columns' types as the database declares them.

    The selected columns themselves are left untyped, so the driver's values reach
    :mod:`runner.executor.jobs.cells` unconverted, which formats them by the declared types.
    """
    assert source.table is not None
    inspector = sa.inspect(conn)
    where = f"{source.schema_}.{source.table}" if source.schema_ else source.table
    if not inspector.has_table(source.table, schema=source.schema_):
        raise JobFailed(f'source table "{where}" does not exist')
    declared = {c["name"]: c["type"] for c in inspector.get_columns(source.table, source.schema_)}
    existing = list(declared)
    names = source.columns or existing
    used = [*names, *(c.column for c in source.where), *(o.column for o in source.order_by)]
    for name in used:
        if name not in existing:
            raise JobFailed(f'source table "{where}" has no column "{name}"')
    table = sa.table(
        quoted_name(source.table, True),
        *(sa.column(quoted_name(n, True)) for n in existing),
        schema=quoted_name(source.schema_, True) if source.schema_ else None,
    )
    query = sa.select(*(table.c[n] for n in names))
    query = query.where(*(_condition(table, c) for c in source.where))
    orders = [
        table.c[o.column].desc() if o.descending else table.c[o.column] for o in source.order_by
    ]
    return query.order_by(*orders), [declared[n] for n in names]


def _condition(table: Any, condition: Condition) -> Any:
    return _OPERATORS[condition.op](table.c[condition.column], condition.value)
