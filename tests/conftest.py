"""Shared fixtures: the same storage test on SQLite, PostgreSQL and MariaDB.

Each test session creates its own PostgreSQL and MariaDB databases (named after the process),
migrates them once, and empties the tables before each test; SQLite gets a fresh file per test.
"""

from __future__ import annotations

import logging
import os
import threading
import time
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
SERVER_CHECK_TIMEOUT = 3  # seconds for each server to accept a connection, checked at once

# Each server: its name, the variable that overrides its URL, the URL, how to fix it, a URL form.
SERVERS = (
    (
        "PostgreSQL",
        "JOBMON_TEST_PG",
        PG_ADMIN_URL,
        "start it (`sudo apt-get install postgresql`, then `sudo systemctl start postgresql`, "
        "or without systemd `sudo pg_ctlcluster $(ls /etc/postgresql) main start`), "
        "trust user postgres on 127.0.0.1 in pg_hba.conf and `sudo -u postgres createdb test`",
        "postgresql+psycopg://USER[:PASSWORD]@HOST:PORT/DB",
    ),
    (
        "MariaDB",
        "JOBMON_TEST_MARIADB",
        MARIADB_ADMIN_URL,
        "start it (`sudo apt-get install mariadb-server`, then `sudo systemctl start mariadb`, "
        "or without systemd `sudo service mariadb start`), let root in over TCP with an empty "
        "password and `sudo mariadb -e 'CREATE DATABASE IF NOT EXISTS test'`",
        "mariadb+pymysql://USER[:PASSWORD]@HOST:PORT/DB",
    ),
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _connect_error(url: str) -> str | None:
    """None when ``url`` accepts a connection, else the reason on one line."""
    try:
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": SERVER_CHECK_TIMEOUT},
        )
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()
    except Exception as exc:
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        return " ".join(f"{type(cause).__name__}: {cause}".split())
    return None


def unreachable_servers_message() -> str | None:
    """One message naming each test database server that does not accept a connection within
    ``SERVER_CHECK_TIMEOUT`` seconds and how to fix it; None when both do."""
    errors: dict[str, str | None] = {}

    def check(name: str, url: str) -> None:
        errors[name] = _connect_error(url)

    threads = [
        threading.Thread(target=check, args=(name, url), daemon=True)
        for name, _, url, _, _ in SERVERS
    ]
    for thread in threads:
        thread.start()
    limit = SERVER_CHECK_TIMEOUT + 1
    deadline = time.monotonic() + limit
    for thread in threads:  # a driver that ignores connect_timeout cannot hold the run up
        thread.join(max(0.0, deadline - time.monotonic()))
    failed: list[str] = []
    lines: list[str] = []
    for name, variable, url, start, example in SERVERS:
        error = errors.get(name, f"no answer within {limit} s")
        if error is None:
            continue
        shown = sa.make_url(url).render_as_string(hide_password=True)
        failed.append(name)
        lines += [
            f"- {name} at {shown} ({variable}): {error}",
            f"  Fix: {start}; or set {variable}={example} to a server that accepts it.",
        ]
    if not failed:
        return None
    names = " and ".join(failed)
    if in_ci():
        head = f"Test database unreachable in CI (CI=true): {names}. The run fails."
    else:
        head = f"Test database unreachable: {names}. No test was run."
    tail = 'README.md, "Fresh Debian machine", has every step.'
    return "\n".join([head, *lines, tail])


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Stop at once, with one message, when PostgreSQL or MariaDB is unreachable: otherwise
    every test on them errors on its own. Runs once, in the controller (not in xdist workers),
    before pytest-xdist starts any worker and before the terminal reporter exists (so pytest
    prints the message once, on stderr).

    Both cases exit non-zero: outside CI with 2 (interrupted: nothing ran; start the database
    or point the tests elsewhere, and rerun), in CI with 1 (tests failed: the CI machine must
    provide the databases, and a run without them must never look like anything but a failure).
    """
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    message = unreachable_servers_message()
    if message is not None:
        code = pytest.ExitCode.TESTS_FAILED if in_ci() else pytest.ExitCode.INTERRUPTED
        pytest.exit(message, returncode=code)


@pytest.hookimpl(trylast=True)  # after -k and -m deselect: the shares are of what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The minutes-long proofs first, each on a worker of its own: they mostly wait, so they
    all start at once and each worker goes on with the rest once its proof is done. On one
    worker, one after another, they would add up to more than the rest of the suite."""
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    items[:] = heads_of_shares(items, workers)


def heads_of_shares(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """``items`` reordered so that ``--dist worksteal`` hands each worker its share of the
    long tests first, spread round-robin. worksteal splits the collection into contiguous
    shares, ``remaining // workers_left`` items each, and steals only from a share's end."""
    long = [item for item in items if item.get_closest_marker("long")]
    rest = [item for item in items if not item.get_closest_marker("long")]
    ordered: list[pytest.Item] = []
    for worker in range(workers):
        share = (len(items) - len(ordered)) // (workers - worker)
        heads = long[worker::workers]
        ordered += heads + rest[: max(0, share - len(heads))]
        del rest[: max(0, share - len(heads))]
    return ordered + rest


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


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The CLI's ``main`` sets up the root logger for a process; give pytest's back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """jobmon processes a test starts; any still running at the end are killed."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()
