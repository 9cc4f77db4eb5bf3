"""The jobs table follows the config, from several processes starting at once."""

from __future__ import annotations

import pytest

from runner.core import catalog
from runner.core.storage.db import Database
from tests.runner.support import at_once, python_job

SERVERS = ["postgresql", "mariadb"]


@pytest.mark.parametrize("backend", SERVERS)
def test_runners_starting_at_once_sync_the_same_jobs(db: Database, db_url: str) -> None:
    """Every `jobmon` command syncs the config's jobs when it starts: two starting at once
    insert the same new jobs and update the same rows, and both must start (a lost insert
    race or a deadlock is tried again, never an error)."""
    for round_ in range(8):
        names = [f"job-{round_}-{i}" for i in range(12)]
        jobs = [python_job(name) for name in names]
        first, second = at_once(db_url, lambda other, _i, js=jobs: catalog.sync_jobs(other, js))
        assert first == second
        assert sorted(first) == sorted(names)
