"""Schema migrations (Alembic), applied by ``jobmon db upgrade`` and at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from runner.core.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision; a test checks it against the scripts. Knowing it without importing
# Alembic keeps every CLI command fast when the schema is already up to date.
HEAD = "0006"
_LOCK_NAME = "jobmon_migrate"
_PG_LOCK_KEY = 0x6A6F626D6F6E  # "jobmon"


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this jobmon, read from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as conn:
        try:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None
    return None if version is None else str(version)


def upgrade(db: Database) -> str:
    """Bring the schema to the newest revision; safe when several processes start at once."""
    if current_revision(db) == HEAD:
        return HEAD
    from alembic import command

    with db.engine.connect() as base:
        conn = base.execution_options(jobmon_write=True)
        if db.dialect in ("mysql", "mariadb"):
            # MariaDB commits DDL implicitly: a named lock serializes concurrent upgrades.
            conn.execute(text("SELECT GET_LOCK(:n, 60)"), {"n": _LOCK_NAME})
            conn.commit()
        try:
            with conn.begin():
                if db.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                command.upgrade(_config(conn), "head")
        finally:
            if db.dialect in ("mysql", "mariadb"):
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": _LOCK_NAME})
                conn.commit()
    return head_revision()
