"""Revisions indexed on PostgreSQL and SQLite, where a scrape reads the rows written since.

A scrape there asks for the rows written since its last read by an index range on
``revision`` (see :mod:`runner.core.storage.stamps`: on PostgreSQL a revision is now the
writing transaction's id, on SQLite one more than the highest), instead of comparing every
job's numbers. Revisions written before the upgrade are counts: on PostgreSQL one above a
scrape's watermark only has its job read again at each scrape until the row's next write.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("jobs", "job_totals", "runs")


def _indexed() -> bool:
    """Only these read rows by revision (elsewhere an index would only cost writes)."""
    return op.get_bind().dialect.name in ("postgresql", "sqlite")


def upgrade() -> None:
    for table in TABLES if _indexed() else ():
        op.create_index(f"ix_{table}_revision", table, ["revision"])


def downgrade() -> None:
    for table in TABLES if _indexed() else ():
        op.drop_index(f"ix_{table}_revision", table_name=table)
