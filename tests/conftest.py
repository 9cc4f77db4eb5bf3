"""Shared fixtures: the same storage test on SQLite, PostgreSQL and MariaDB.

Each test session creates its own PostgreSQL and MariaDB databases (named after the process),
migrates them once, and empties the tables before each test; SQLite gets a fresh file per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.core.storage.models import Base
from tests.e2e.procs import Proc

PG_ADMIN_URL = os.environ.get("JOBMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get(
    "JOBMON_TEST_MARIADB", "mariadb+pymysql://root@127.0.0.1:3306/test"
)
BACKENDS = ("sqlite", "postgresql", "mariadb")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The minutes-long proofs first: they mostly wait, so a third worker starts them at once
    and the other two run everything else meanwhile."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def _server_url(admin_url: str, name: str) -> str:
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _create_database(admin_url: str, name: str) -> str:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return _server_url(admin_url, name)


def _drop_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    engine.dispose()


class ServerDatabases:
    """Per-session server databases, created on first use and dropped at the end."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        self.created: list[tuple[str, str]] = []

    def url(self, backend: str, suffix: str = "") -> str:
        """A migrated database of ``backend`` for this session (``suffix`` names extra ones)."""
        key = backend + suffix
        if key not in self.urls:
            admin = PG_ADMIN_URL if backend == "postgresql" else MARIADB_ADMIN_URL
            name = f"jobmon_t{os.getpid()}{suffix}"
            self.urls[key] = _create_database(admin, name)
            self.created.append((admin, name))
            db = Database(self.urls[key])
            upgrade(db)
            db.dispose()
        return self.urls[key]

    def drop_all(self) -> None:
        for admin, name in self.created:
            _drop_database(admin, name)


@pytest.fixture(scope="session")
def server_databases() -> Iterator[ServerDatabases]:
    dbs = ServerDatabases()
    yield dbs
    dbs.drop_all()


def empty_tables(db: Database) -> None:
    """Delete every row, children first, keeping the migrated schema."""
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def database_url(backend: str, tmp_path: Path, server_databases: ServerDatabases) -> str:
    """A migrated, empty database of ``backend``."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobmon.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        return url
    url = server_databases.url(backend)
    db = Database(url)
    empty_tables(db)
    db.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite, PostgreSQL and MariaDB."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, server_databases: ServerDatabases) -> str:
    """The URL of a migrated, empty database of the current backend."""
    return database_url(backend, tmp_path, server_databases)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A :class:`Database` on a migrated, empty database of the current backend."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """jobmon processes a test starts; any still running at the end are killed."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()
