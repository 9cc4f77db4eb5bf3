"""Transitions name the console user who asked for them: ``user:alice`` (cause up to 140).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a column's type, so it copies the table; the other
    # databases alter the column in place.
    with op.batch_alter_table("transitions") as batch:
        batch.alter_column(
            "cause", type_=sa.String(140), existing_type=sa.String(16), existing_nullable=False
        )


def downgrade() -> None:
    # Named users may not fit the old width: keep the cause, drop the name.
    transitions = sa.table("transitions", sa.column("cause", sa.String))
    op.execute(transitions.update().where(transitions.c.cause.like("user:%")).values(cause="user"))
    with op.batch_alter_table("transitions") as batch:
        batch.alter_column(
            "cause", type_=sa.String(16), existing_type=sa.String(140), existing_nullable=False
        )
