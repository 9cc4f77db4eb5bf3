"""What a job's context refuses once its runner lost the run."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from runner.core import claims
from runner.core.fencing import LostClaim
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Run
from runner.executor.context import JobContext
from tests.runner.support import T0, Ticker, add_jobs, count, run_in


def _context(db: Database) -> tuple[JobContext, int]:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.EDITING)
    fence = claims.claim_run(db, run_id, "r1", T0)
    with db.read() as session:
        run = session.get(Run, run_id)
        assert run is not None
    return JobContext(db, run, fence, Ticker(), patience=1), run_id


def test_a_context_refuses_to_write_once_another_runner_took_the_run(db: Database) -> None:
    ctx, run_id = _context(db)
    ctx.check_claim()
    ctx.journal("info", "while held")
    with db.write() as session:  # another runner's claim: the attempt moves on
        session.execute(update(Run).where(Run.id == run_id).values(attempt=Run.attempt + 1))

    with pytest.raises(LostClaim):
        ctx.check_claim()
    with pytest.raises(LostClaim):
        ctx.journal("info", "after the takeover")
    with pytest.raises(LostClaim):
        ctx.checkpoint({"position": 1})
    assert count(db, JournalEntry, JournalEntry.message == "while held") == 1
    assert count(db, JournalEntry, JournalEntry.message == "after the takeover") == 0
