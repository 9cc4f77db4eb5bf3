"""Alembic environment: jobmon passes the connection in; there is no alembic.ini to edit."""

from __future__ import annotations

from alembic import context

from runner.core.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
