"""Runner presence: heartbeats of several runners at once, and who counts as up."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from runner.core import presence
from runner.core.storage.db import Database
from tests.runner.support import T0


def test_runners_up_counts_fresh_heartbeats_only(db: Database) -> None:
    presence.beat(db, "a", T0 - timedelta(seconds=60))
    presence.beat(db, "b", T0)
    with db.read() as session:
        assert presence.runners_up(session, T0, 30) == 1
    presence.depart(db, "b")
    with db.read() as session:
        assert presence.runners_up(session, T0, 30) == 0


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_runners_beating_at_once_never_fail(db_url: str) -> None:
    """Each beat touches its own row and forgets old ones: no deadlock between runners."""
    errors: list[BaseException] = []

    def runner(name: str) -> None:
        database = Database(db_url)
        try:
            for i in range(40):
                presence.beat(database, name, T0 + timedelta(seconds=i))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=runner, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = Database(db_url)
    with check.read() as session:
        assert presence.runners_up(session, T0 + timedelta(seconds=39), 30) == 4
    check.dispose()
