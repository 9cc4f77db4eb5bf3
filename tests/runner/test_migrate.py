from __future__ import annotations

import sqlalchemy as sa

from runner.core.storage.db import Database
from runner.core.storage.migrate import current_revision, head_revision, upgrade
from runner.core.storage.models import Base


def test_upgrade_creates_every_model_table(db: Database) -> None:
    assert current_revision(db) == head_revision()
    names = set(sa.inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= names


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    assert upgrade(db) == head_revision()
    assert current_revision(db) == head_revision()


def test_migrations_match_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_head_constant_matches_the_migration_scripts() -> None:
    from runner.core.storage.migrate import HEAD

    assert head_revision() == HEAD
