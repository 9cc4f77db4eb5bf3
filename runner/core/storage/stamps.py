"""Row revisions: the number on each row of ``jobs``, ``job_totals`` and ``runs`` that moves at
every write of the row through SQLAlchemy, so a reader can tell which rows changed since it
last looked (the exporter's scrape, :mod:`exporter.reader`).

On PostgreSQL the number is the id of the transaction that wrote the row (64 bits, never
reused). A row version that a snapshot does not see was written by a transaction that was
running or not yet started when the snapshot was taken, whose id is at least the snapshot's
``xmin``: so the rows written since a snapshot are found by an index range on ``revision``
from that ``xmin`` (:func:`watermark`), without reading the rows that did not change.

SQLite and MariaDB have no such id: there the number counts the row's writes (0 when
inserted), and a reader compares every row's numbers with the ones it saw (the revision
is indexed on PostgreSQL only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Index, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_XACT = "(pg_current_xact_id()::text::bigint)"


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


def written(table: str) -> Any:
    """The ``onupdate`` of the revision of ``table``'s rows."""
    return _Written(literal_column(f"{table}.revision"))


def inserted() -> Any:
    """The ``default`` of the revision of a new row."""
    return _Inserted()


def since_snapshots(dialect: str) -> bool:
    """Whether the rows written since a snapshot can be asked for (see :func:`watermark`)."""
    return dialect == "postgresql"


def revision_index(table: str) -> Index:
    """The index a reader finds ``table``'s rows written since a snapshot by; only where it
    can (elsewhere it would cost every write and serve no read)."""
    return Index(f"ix_{table}_revision", "revision").ddl_if(dialect="postgresql")


def watermark() -> Any:
    """On PostgreSQL, the lowest revision a row written after the statement's snapshot can
    have: the snapshot's ``xmin``. Keeping an older watermark is safe (it finds more)."""
    return literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)
