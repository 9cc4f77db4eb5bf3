"""Concurrent transition requests from two sessions: a hypothesis state machine.

Every step, two threads, each with its own :class:`Database` (its own connection), ask for a
transition of the same run at the same moment. Whatever the interleaving, the transitions of
a run form a legal chain that ends at the run's status, every accepted request wrote exactly
one row, every refused one wrote nothing, and the job's totals agree with the rows.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from runner.core import lifecycle
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.states import FINAL, TRANSITIONS, Cause, Status, is_legal
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Run, Transition, entered_column, job_totals
from tests.runner.support import T0, add_jobs, new_run

# A request's target: any status, or (an int) the n-th legal move from the run's status at
# the start of the step, so that both threads often ask for moves that are each legal.
TARGETS = st.one_of(st.integers(0, 4), st.sampled_from(list(Status)))
# plain: a user's request; fenced: a runner under the claim the run has (plain if it has
# none); stale: under an older claim; claim: a runner taking the run (editing, paused or
# server_stopped -> running). A run that ended is followed by a new one at the next step.
MODES = st.sampled_from(("plain", "plain", "fenced", "fenced", "stale", "claim", "claim"))
REQUESTS = st.tuples(TARGETS, MODES)
Request = tuple[int | Status, str]
REFUSED = (TransitionError, LostClaim)
_names = itertools.count()


@dataclass(frozen=True)
class History:
    """What the database holds for the job: its transitions, journal lines, runs and totals."""

    moves: list[tuple[int, str, str | None, str]]  # run id, run status, from, to
    journal_lines: int
    runs: int
    totals: dict[str, Any]

    @classmethod
    def read(cls, db: Database, job_id: int) -> History:
        of_job = Run.job_id == job_id
        with db.read() as session:
            query = select(Run.id, Run.status, Transition.from_status, Transition.to_status)
            query = query.join(Transition).where(of_job).order_by(Run.id, Transition.id)
            moves = [tuple(row) for row in session.execute(query)]
            lines = select(func.count()).select_from(JournalEntry).join(Run).where(of_job)
            runs = select(func.count()).select_from(Run).where(of_job)
            totals = select(job_totals).where(job_totals.c.job_id == job_id)
            return cls(
                moves,  # type: ignore[arg-type]
                int(session.scalar(lines) or 0),
                int(session.scalar(runs) or 0),
                dict(session.execute(totals).one()._mapping),
            )


class ConcurrentRequests(RuleBasedStateMachine):
    """Two sessions race to move the same run; the database keeps the history consistent."""

    dbs: tuple[Database, Database]

    def __init__(self) -> None:
        super().__init__()
        name = f"job-{next(_names)}"
        self.job_id = add_jobs(self.dbs[0], name)[name]
        self.run_id = new_run(self.dbs[0], self.job_id)
        self.clock = T0
        self.accepted = 0
        self.history = History.read(self.dbs[0], self.job_id)

    def _run(self) -> Run:
        with self.dbs[0].read() as session:
            run = session.get(Run, self.run_id)
            assert run is not None
            return run

    def _request(self, i: int, target: Status, mode: str, run: Run) -> Any:
        kwargs: dict[str, Any] = {}
        if mode == "stale" or (mode == "fenced" and run.claimed_by is not None):
            attempt = run.attempt - (mode == "stale")
            kwargs["fence"] = Fence(run.id, run.claimed_by or "nobody", attempt)
        if mode == "claim" and target is Status.RUNNING:
            kwargs["claim_by"] = f"runner-{i}"
        try:
            with self.dbs[i].write() as session:
                lifecycle.transition(
                    session, run.id, target, cause=Cause.RUNNER, now=self.clock, **kwargs
                )
        except Exception as exc:
            return exc
        return "accepted"

    def _current_run(self) -> Run:
        run = self._run()
        if Status(run.status) in FINAL:
            self.run_id = new_run(self.dbs[0], self.job_id, now=self.clock)
            self.history = History.read(self.dbs[0], self.job_id)
            run = self._run()
        return run

    @rule(first=REQUESTS, second=REQUESTS)
    def request_both_at_once(self, first: Request, second: Request) -> None:
        self.clock += timedelta(seconds=1)
        run = self._current_run()
        legal = sorted(TRANSITIONS[Status(run.status)])
        targets = [
            t if isinstance(t, Status) else legal[t % len(legal)] for t, _ in (first, second)
        ]
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]

        def act(i: int, mode: str) -> None:
            barrier.wait()
            results[i] = self._request(i, targets[i], mode, run)

        threads = [
            threading.Thread(target=act, args=(i, r[1])) for i, r in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        for result in results:
            assert result == "accepted" or isinstance(result, REFUSED), repr(result)
        accepted = results.count("accepted")
        before, self.history = self.history, History.read(self.dbs[0], self.job_id)
        assert len(self.history.moves) == len(before.moves) + accepted
        assert self.history.journal_lines == before.journal_lines + accepted
        self.accepted += accepted

    @invariant()
    def each_run_is_a_legal_chain_ending_at_its_status(self) -> None:
        for _run_id, group in itertools.groupby(self.history.moves, key=lambda row: row[0]):
            moves = [(row[2], row[3], row[1]) for row in group]
            assert moves[0][:2] == (None, "editing")
            for previous, move in itertools.pairwise(moves):
                assert move[0] == previous[1]
                assert is_legal(Status(move[0]), Status(move[1]))
            assert moves[-1][2] == moves[-1][1], "the run's status is the last move's"

    @invariant()
    def totals_agree_with_the_rows(self) -> None:
        entered = Counter(move[3] for move in self.history.moves)
        for status in Status:
            assert self.history.totals[entered_column(status)] == entered[status.value]
        assert self.history.totals["runs_total"] == self.history.runs
        assert self.history.totals["journal_info"] == self.history.journal_lines
        assert len(self.history.moves) == self.history.runs + self.accepted


def _machine(db_url: str) -> tuple[type[ConcurrentRequests], tuple[Database, Database]]:
    dbs = (Database(db_url), Database(db_url))
    return type("ConcurrentRequestsHere", (ConcurrentRequests,), {"dbs": dbs}), dbs


@pytest.mark.parametrize(
    ("backend", "examples"),
    # MariaDB runs fewer examples: its lost races are also tested one by one in test_lifecycle.
    [("postgresql", 25), ("mariadb", 10)],
)
def test_lifecycle_concurrent_requests_keep_a_legal_history(db_url: str, examples: int) -> None:
    machine, dbs = _machine(db_url)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples, stateful_step_count=15, deadline=None, database=None
            ),
        )
    finally:
        for db in dbs:
            db.dispose()
