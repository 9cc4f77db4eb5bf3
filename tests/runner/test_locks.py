"""One lock order, and transactions run again when the database aborts them as a conflict."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from runner.core import locks, totals
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
