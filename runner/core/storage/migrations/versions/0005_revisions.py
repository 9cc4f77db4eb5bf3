"""A revision number on jobs, their totals and runs, for the exporter to read changes only.

Every UPDATE of those rows through SQLAlchemy adds one to its ``revision`` (the models'
``onupdate``); a scrape compares the numbers with the ones it saw last and reads in full only
the jobs whose numbers moved.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("jobs", "job_totals", "runs")


def upgrade() -> None:
    # A constant default: every backend adds the column without rewriting the table.
    for table in TABLES:
        op.add_column(
            table, sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # In place on every backend (SQLite 3.35+ drops a column itself): copying the tables, as
    # batch mode does on SQLite, would drop ``jobs`` and cascade to every run.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN revision")
