"""Target tables: checked against the database, or created on request, before the first row.

Table and column names come from the config but never reach SQL as pasted text: they are
checked against the database's catalog (SQLAlchemy's inspector) and rendered by SQLAlchemy or
psycopg as quoted identifiers. Rows are written by :mod:`runner.executor.jobs.writers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import quoted_name

from runner.core.columns import sql_type
from runner.core.config import Column, TableTarget
from runner.core.storage.db import Database
from runner.core.storage.models import Base


class TargetError(Exception):
    """The target table cannot be used as configured."""


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
