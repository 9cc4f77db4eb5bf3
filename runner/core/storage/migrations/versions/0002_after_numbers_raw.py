"""Job chaining (``jobs.after``), run numbers within a job, and rejected records' raw bytes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("after", sa.String(200), nullable=True))
    op.add_column("runs", sa.Column("number", sa.BigInteger(), nullable=False, server_default="0"))
    _number_existing_runs()
    op.create_index("uq_runs_job_id_number", "runs", ["job_id", "number"], unique=True)
    op.add_column("rejects", sa.Column("raw", sa.LargeBinary(), nullable=True))


def _number_existing_runs() -> None:
    """Number each job's runs 1, 2, ... in creation order (portable: no window functions)."""
    conn = op.get_bind()
    runs = sa.table("runs", sa.column("id"), sa.column("job_id"), sa.column("number"))
    seen: dict[int, int] = {}
    numbers = []
    for run_id, job_id in conn.execute(sa.select(runs.c.id, runs.c.job_id).order_by(runs.c.id)):
        seen[job_id] = seen.get(job_id, 0) + 1
        numbers.append({"run_id": run_id, "n": seen[job_id]})
    if numbers:
        update = runs.update().where(runs.c.id == sa.bindparam("run_id"))
        conn.execute(update.values(number=sa.bindparam("n")), numbers)


def downgrade() -> None:
    op.drop_column("rejects", "raw")
    op.drop_index("uq_runs_job_id_number", table_name="runs")
    op.drop_column("runs", "number")
    op.drop_column("jobs", "after")
