"""Jobs, runs, transitions, journal, rejects and per-job totals.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from runner.core.storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the enums at the time of this revision: later revisions add columns.
STATUSES = [
    "editing",
    "running",
    "pausing",
    "paused",
    "canceling",
    "canceled",
    "finished",
    "finished_with_errors",
    "server_stopped",
]
REASONS = [
    "parse",
    "encoding",
    "type",
    "required",
    "length",
    "choice",
    "pattern",
    "constraint",
    "database",
    "other",
]
LEVELS = ["debug", "info", "warning", "error"]
BUCKETS = ["1", "5", "15", "30", "60", "180", "600", "1800", "3600", "10800", "28800", "86400"]


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("max_rejects", sa.Integer(), nullable=True),
        sa.Column("max_duration_seconds", sa.Double(), nullable=True),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("latest_run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("defined", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("name", name="uq_jobs_name"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("fire_key", sa.String(40), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("rejects", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_runs_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("job_id", "fire_key", name="uq_runs_job_id_fire_key"),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_job_id_id", "runs", ["job_id", "id"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_transitions_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
    )
    op.create_index("ix_transitions_run_id", "transitions", ["run_id"])
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_journal_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_journal"),
    )
    op.create_index("ix_journal_run_id_id", "journal", ["run_id", "id"])
    op.create_table(
        "rejects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_rejects_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rejects"),
    )
    op.create_index("ix_rejects_run_id_line", "rejects", ["run_id", "line"])
    op.create_table(
        "job_totals",
        sa.Column("job_id", sa.Integer(), nullable=False),
        _counter("runs_total"),
        _counter("records_total"),
        *(_counter(f"entered_{s}") for s in STATUSES),
        *(_counter(f"rejects_{r}") for r in REASONS),
        *(_counter(f"journal_{lv}") for lv in LEVELS),
        *(_counter(f"duration_le_{b}") for b in BUCKETS),
        _counter("duration_count"),
        sa.Column("duration_sum", sa.Double(), nullable=False, server_default="0"),
        sa.Column("last_start_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_totals_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_job_totals"),
    )


def downgrade() -> None:
    for table in ("job_totals", "rejects", "journal", "transitions", "runs", "jobs"):
        op.drop_table(table)
