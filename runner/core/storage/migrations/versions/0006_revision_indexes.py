"""Revisions written as transaction ids, and indexed, on PostgreSQL.

A scrape on PostgreSQL asks for the rows written since its last snapshot by an index range
on ``revision`` (see :mod:`runner.core.storage.stamps`), instead of comparing every job's
numbers. Revisions written before the upgrade are counts: one above a scrape's watermark
only has its job read again at each scrape until the row's next write.

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
    """Only PostgreSQL reads rows by revision (elsewhere an index would only cost writes)."""
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for table in TABLES if _indexed() else ():
        op.create_index(f"ix_{table}_revision", table, ["revision"])


def downgrade() -> None:
    for table in TABLES if _indexed() else ():
        op.drop_index(f"ix_{table}_revision", table_name=table)
