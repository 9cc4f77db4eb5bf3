"""Row revisions: the number on each row of ``jobs``, ``job_totals`` and ``runs`` that moves at
every write of the row through SQLAlchemy, so a reader can tell which rows changed since it
last looked (the exporter's scrape, :mod:`exporter.reader`).

Where it can, a reader asks for the rows written since its last read by an index range on
``revision`` from a *watermark*: the lowest revision a write its read did not see can have.

- PostgreSQL: the number is the id of the transaction that wrote the row (64 bits, never
  reused). A row version that a snapshot does not see was written by a transaction that was
  running or not yet started when the snapshot was taken, whose id is at least the
  snapshot's ``xmin``, which never goes down: that is the watermark.
- SQLite: writers take turns (one write transaction at a time, each seeing every commit
  before it), and a row written gets one more than the highest revision of the three tables.
  A write the reader did not see came after its snapshot, so it gets at least that highest
  plus one, the watermark. This holds while the highest revision never goes down: the one
  place that deletes such rows (retention, of runs) keeps the rows that hold it
  (:func:`prunable`).
- MariaDB has neither: the number counts the row's writes (0 when inserted), and a reader
  compares every row's numbers with the ones it saw. The revision is not indexed there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Index, literal_column, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

_INDEXED = ("postgresql", "sqlite")  # the backends a reader asks for rows written since
_XACT = "(pg_current_xact_id()::text::bigint)"
_TABLES = ("jobs", "job_totals", "runs")
# The highest revision of the three tables: an index lookup each (SQLite's max() of several).
_HIGHEST = "max({})".format(
    ", ".join(f"(SELECT coalesce(max(revision), 0) FROM {t})" for t in _TABLES)
)
_NEXT = f"({_HIGHEST} + 1)"


class _Written(FunctionElement[int]):
    """The revision of a row being updated; its argument is the row's current one."""

    type = BigInteger()
    inherit_cache = True
    name = "jobmon_written"


class _Inserted(FunctionElement[int]):
    """The revision of a row being inserted."""

    type = BigInteger()
    inherit_cache = True
    name = "jobmon_inserted"


class _Watermark(FunctionElement[int]):
    """The lowest revision a write that the statement's snapshot does not see can have."""

    type = BigInteger()
    inherit_cache = True
    name = "jobmon_watermark"


@compiles(_Written)
def _count(element: _Written, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.clauses, **kw)} + 1"


@compiles(_Inserted)
def _zero(_element: _Inserted, _compiler: Any, **_kw: Any) -> str:
    return "0"


@compiles(_Written, "postgresql")
@compiles(_Inserted, "postgresql")
def _transaction(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return _XACT


@compiles(_Written, "sqlite")
@compiles(_Inserted, "sqlite")
@compiles(_Watermark, "sqlite")
def _next(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return _NEXT


@compiles(_Watermark, "postgresql")
def _xmin(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def written(table: str) -> Any:
    """The ``onupdate`` of the revision of ``table``'s rows."""
    return _Written(literal_column(f"{table}.revision"))


def inserted() -> Any:
    """The ``default`` of the revision of a new row."""
    return _Inserted()


def since_snapshots(dialect: str) -> bool:
    """Whether the rows written since a read can be asked for (see :func:`watermark`)."""
    return dialect in _INDEXED


def revision_index(table: str) -> Index:
    """The index a reader finds ``table``'s rows written since a read by; only where it can
    (elsewhere it would cost every write and serve no read)."""
    index = Index(f"ix_{table}_revision", "revision")
    return index.ddl_if(dialect=_INDEXED)  # type: ignore[arg-type]  # DDLIf takes a tuple too


def watermark() -> Any:
    """Where :func:`since_snapshots`: the lowest revision a row written after the statement's
    snapshot can have. Keeping an older watermark is safe (it finds more)."""
    return _Watermark()


def prunable(
    dialect: str, revision: ColumnElement[int] | InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """Whether a row with ``revision`` may be deleted: on SQLite, not while it holds the
    highest revision (the watermark is that plus one, and must never go down)."""
    if dialect != "sqlite":
        return true()
    return revision < literal_column(_HIGHEST, BigInteger)
