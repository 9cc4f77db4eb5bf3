"""One lock order, and transactions run again when the database aborts them as a conflict."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from runner.core import locks, totals
from runner.core.storage import db as db_module
from runner.core.storage.db import Database
from runner.core.storage.errors import is_conflict
from tests.conftest import ServerDatabases, database_url
from tests.runner.support import add_jobs


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_retrying_runs_again_a_transaction_aborted_as_a_deadlock(
    backend: str, tmp_path: Path, server_databases: ServerDatabases
) -> None:
    """A real deadlock: ours locks A then B, theirs holds B (and more) then asks for A."""
    url = database_url(backend, tmp_path, server_databases)
    ours, theirs = Database(url), Database(url)
    ids = add_jobs(ours, "a", "b", "c", "d")
    a_locked, theirs_hold = threading.Event(), threading.Event()
    attempts: list[int] = []
    failures: list[BaseException] = []

    def work(session: Session) -> str:
        attempts.append(len(attempts) + 1)
        assert theirs_hold.wait(10)
        locks.job_turn(session, ids["a"])
        a_locked.set()
        locks.job_turn(session, ids["b"])  # waits for theirs: one of the two is aborted
        return "done"

    def other() -> None:
        try:
            with theirs.write() as session:
                for name in ("b", "c", "d"):  # more changes than ours: MariaDB rolls ours back
                    locks.job_turn(session, ids[name])
                    totals.bump(session, ids[name], {"runs_total": 1})
                theirs_hold.set()
                assert a_locked.wait(10)
                threading.Event().wait(0.3)  # ours is waiting for b by now
                locks.job_turn(session, ids["a"])
        except BaseException as exc:
            failures.append(exc)
            theirs_hold.set()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert locks.retrying(ours, work) == "done"
    finally:
        thread.join(30)
        ours.dispose()
        theirs.dispose()
    assert failures == [], "theirs went through once ours was rolled back"
    assert attempts == [1, 2], "ours was the deadlock's victim and ran again"


def test_retrying_does_not_run_again_what_is_not_a_conflict(db: Database) -> None:
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(1)
        raise LookupError("not a database conflict")

    with pytest.raises(LookupError):
        locks.retrying(db, work)
    assert attempts == [1]
    assert not is_conflict(LookupError("x"))


def _holding_the_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_sqlite_writer_waiting_for_the_write_lock_takes_it_once_free(tmp_path: Path) -> None:
    db = Database(database_url("sqlite", tmp_path, ServerDatabases()))
    add_jobs(db, "a")
    holder = _holding_the_write_lock(tmp_path / "jobmon.db")
    waiting = threading.Timer(0.2, holder.rollback)
    waiting.start()
    with db.write() as session:  # tries again until the lock is free
        session.execute(sa.text("UPDATE jobs SET schedule = 'manual'"))
        raw = session.connection().connection.driver_connection
        assert raw is not None
        # SQLite's own busy timeout is back for the statements of the transaction.
        assert raw.execute("PRAGMA busy_timeout").fetchone() == (db_module.SQLITE_BUSY_TIMEOUT_MS,)
    waiting.join()
    with db.read() as session:
        assert session.execute(sa.text("SELECT schedule FROM jobs")).scalar() == "manual"
    holder.close()
    db.dispose()


def test_sqlite_writer_gives_up_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(database_url("sqlite", tmp_path, ServerDatabases()))
    add_jobs(db, "a")
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    holder = _holding_the_write_lock(tmp_path / "jobmon.db")
    with pytest.raises(sa.exc.OperationalError, match="locked"), db.write() as session:
        session.execute(sa.text("UPDATE jobs SET schedule = 'x'"))
    holder.rollback()
    with db.write() as session:  # the failed attempt left nothing behind
        session.execute(sa.text("UPDATE jobs SET schedule = 'manual'"))
    holder.close()
    db.dispose()
