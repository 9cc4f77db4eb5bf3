"""Database work of a run survives a lost connection: the transaction runs again, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from runner.core import claims
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Run
from runner.executor.context import JobContext
from tests.conftest import ServerDatabases, database_url
from tests.runner.support import T0, Ticker, add_jobs, get_run, run_in, totals_of


def running(db: Database) -> tuple[JobContext, int, int]:
    """A claimed run of a new job, its context (patient through 10 s), job and run ids."""
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.EDITING)
    fence = claims.claim_run(db, run_id, "r1", T0)
    with db.read() as session:
        run = session.get(Run, run_id)
        assert run is not None
    return JobContext(db, run, fence, Ticker(), patience=10), job_id, run_id


def lose_connection(session: Session, admin: Database) -> None:
    """End the server process behind ``session``'s connection, from another connection."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    with admin.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.mark.parametrize("backend", ["postgresql"])
def test_checkpoint_whose_connection_is_killed_runs_again_and_counts_once(
    backend: str, tmp_path: Path, server_databases: ServerDatabases
) -> None:
    url = database_url(backend, tmp_path, server_databases)
    db, admin = Database(url), Database(url)
    ctx, job_id, run_id = running(db)
    attempts: list[int] = []

    def write(session: Session) -> None:
        attempts.append(1)
        ctx.progress(5)
        ctx.reject(3, "bad", None, "other", "a reject written with the chunk")
        if len(attempts) == 1:  # the first attempt loses its connection mid-transaction
            lose_connection(session, admin)

    try:
        ctx.checkpoint({"position": 5}, write=write)
        stored = get_run(db, run_id)
        assert len(attempts) == 2
        assert (stored.records, stored.rejects, stored.checkpoint) == (5, 1, '{"position": 5}')
        assert (totals_of(db, job_id)["records_total"], ctx.rejected) == (5, 1)
    finally:
        db.dispose()
        admin.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_checkpoint_whose_commit_went_through_unheard_is_not_written_again(
    backend: str, tmp_path: Path, server_databases: ServerDatabases
) -> None:
    """A connection lost during COMMIT leaves the outcome unknown to the runner: the next
    attempt finds the state saved and writes the chunk no second time."""
    url = database_url(backend, tmp_path, server_databases)
    db, admin = Database(url), Database(url)
    ctx, _job_id, run_id = running(db)
    attempts: list[int] = []

    def write(session: Session) -> None:
        attempts.append(1)
        ctx.progress(5)
        # What the lost commit had saved (here from another connection), then the loss.
        with admin.engine.begin() as conn:
            saved = text("UPDATE runs SET checkpoint = :state, records = 5 WHERE id = :id")
            conn.execute(saved, {"state": '{"position": 5}', "id": run_id})
        lose_connection(session, admin)

    try:
        ctx.checkpoint({"position": 5}, write=write)
        stored = get_run(db, run_id)
        assert len(attempts) == 1
        assert (stored.records, stored.checkpoint) == (5, '{"position": 5}')
        assert ctx.state == {"position": 5}
    finally:
        db.dispose()
        admin.dispose()
