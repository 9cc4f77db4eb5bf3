"""Engines and transactions: SQLite (WAL, busy timeout, foreign keys, BEGIN IMMEDIATE for
writes), PostgreSQL (psycopg 3) and MariaDB/MySQL (PyMySQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from runner.core.config.secrets import redact, safe_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
_LOCK_POLL_SECONDS = 0.001
_WRITE = "jobmon_write"


def normalize_url(url: str) -> URL:
    """Pick jobmon's drivers for bare ``postgresql://`` and ``mysql://`` URLs."""
    parsed = make_url(url)
    driver = {
        "postgresql": "postgresql+psycopg",
        "postgres": "postgresql+psycopg",
        "mysql": "mysql+pymysql",
        "mariadb": "mariadb+pymysql",
    }
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed


class Database:
    """One engine and the two kinds of transaction jobmon uses: write and read."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 5.0,
        pool_size: int = 5,
        idle_seconds: float | None = None,
    ) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        self.engine = _create_engine(self.url, connect_timeout, pool_size)
        if idle_seconds is not None:
            _end_idle_sessions(self.engine, idle_seconds)

    @property
    def safe_url(self) -> str:
        """The URL with its password masked."""
        return safe_url(self.url)

    def redact(self, text: str) -> str:
        """``text`` with this database's password masked (driver errors may echo the DSN)."""
        return redact(text, [self.url.password])

    @property
    def is_sqlite(self) -> bool:
        """Whether this is an embedded SQLite database (one runner at a time)."""
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction (BEGIN IMMEDIATE on SQLite), committed on exit."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in one read transaction; loaded objects stay usable after it."""
        with (
            self.engine.connect() as conn,
            Session(bind=conn, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _create_engine(url: URL, connect_timeout: float, pool_size: int) -> Engine:
    backend = url.get_backend_name()
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        kwargs["connect_args"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "check_same_thread": False,
        }
        engine = create_engine(url, **kwargs)
        _setup_sqlite(engine)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=3600)
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout))}
    elif backend in ("mysql", "mariadb"):
        kwargs["connect_args"] = {"connect_timeout": connect_timeout, "charset": "utf8mb4"}
        # As on PostgreSQL, each statement sees what is committed when it starts: a request
        # that waited for the job's turn then reads the runs created meanwhile (InnoDB's
        # default, REPEATABLE READ, would show it the snapshot of its first read).
        kwargs["isolation_level"] = "READ COMMITTED"
    return create_engine(url, **kwargs)


def _end_idle_sessions(engine: Engine, seconds: float) -> None:
    """Have the server end this engine's sessions that sit idle (in a transaction) too long.

    A runner frozen mid-transaction (SIGSTOP, a stuck host) would otherwise hold its locks,
    among them a job's turn, until it wakes: PostgreSQL ends a session idle in a
    transaction, MariaDB any idle session, after ``seconds``, and the locks go with it.
    """
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute(f"SET idle_in_transaction_session_timeout = {int(seconds * 1000)}")
        else:
            cursor.execute(f"SET SESSION wait_timeout = {max(1, int(seconds))}")
        cursor.close()
        dbapi_conn.commit()


def _setup_sqlite(engine: Engine) -> None:
    """WAL, busy timeout and foreign keys on every connection; writers begin IMMEDIATE.

    A deferred transaction that reads and then writes can fail with SQLITE_BUSY_SNAPSHOT,
    which busy_timeout does not cover; taking the write lock at BEGIN avoids it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        if write:
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn: Connection) -> None:
    """BEGIN IMMEDIATE, trying again every millisecond while another connection holds the
    write lock, for up to the busy timeout.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), so a
    writer that keeps the lock most of the time, such as a long import committing chunk
    after chunk, would keep a waiting transition out for a good part of a second: polling
    takes the lock in the next gap between two of its transactions.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
            time.sleep(_LOCK_POLL_SECONDS)
    finally:
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
