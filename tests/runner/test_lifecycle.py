"""The one writer of run status: every (from, to) pair of SPEC §1 on every backend."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import ORMExecuteState

from runner.core import lifecycle
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.metrics import DURATION_BUCKETS
from runner.core.states import FINAL, TRANSITIONS, Cause, Level, Status, is_legal
from runner.core.storage.db import Database
from runner.core.storage.models import (
    Job,
    JournalEntry,
    Run,
    Transition,
    bucket_column,
    entered_column,
    journal_column,
)
from tests.runner.support import (
    RUNNER,
    T0,
    add_jobs,
    dump,
    force_status,
    get_job,
    get_run,
    new_run,
    run_in,
    totals_of,
)

NOW = T0 + timedelta(seconds=42)


class Rollback(Exception):
    """Raised inside a write transaction to roll it back."""


def _move(db: Database, run_id: int, target: Status, **kwargs: Any) -> Run:
    with db.write() as session:
        return lifecycle.transition(
            session, run_id, target, cause=Cause.USER, now=NOW, reason="because", **kwargs
        )


def _expected_totals(
    before: dict[str, Any], current: Status, target: Status, started: datetime | None
) -> dict[str, Any]:
    expected = dict(before)
    expected[entered_column(target)] += 1
    expected[journal_column(Level.INFO)] += 1
    if target in FINAL:
        seconds = (NOW - (started or NOW)).total_seconds()
        expected["duration_count"] += 1
        expected["duration_sum"] += seconds
        for bound in DURATION_BUCKETS:
            expected[bucket_column(bound)] += seconds <= bound
    if current is Status.EDITING and target is Status.RUNNING:
        expected["last_start_at"] = NOW
    if target is Status.FINISHED:
        expected["last_success_at"] = NOW
    if target is Status.FINISHED_WITH_ERRORS:
        expected["last_failure_at"] = NOW
    return expected


def _last(db: Database, model: Any, run_id: int) -> Any:
    with db.read() as session:
        query = select(model).where(model.run_id == run_id).order_by(model.id.desc())
        return session.scalars(query.limit(1)).one()


def _check_legal(db: Database, job_id: int, run_id: int, current: Status, target: Status) -> None:
    before_dump, before, started = dump(db), totals_of(db, job_id), get_run(db, run_id).started_at
    with pytest.raises(Rollback), db.write() as session:
        lifecycle.transition(session, run_id, target, cause=Cause.USER, now=NOW)
        raise Rollback
    assert dump(db) == before_dump, "the run, its rows and totals move in one transaction"

    run = _move(db, run_id, target)

    assert run.status == target.value
    move = _last(db, Transition, run_id)
    assert (move.at, move.from_status, move.to_status) == (NOW, current.value, target.value)
    assert (move.cause, move.reason) == ("user", "because")
    line = _last(db, JournalEntry, run_id)
    assert (line.at, line.level) == (NOW, "info")
    assert line.message == f"Status changed from {current.label} to {target.label} by user: because"
    assert totals_of(db, job_id) == _expected_totals(before, current, target, started)
    assert get_job(db, job_id).status == target.value
    assert (run.ended_at == NOW) is (target in FINAL)


def _check_refused(db: Database, run_id: int, current: Status, target: Status) -> None:
    before = dump(db)
    with db.write() as session, pytest.raises(TransitionError) as refused:
        lifecycle.transition(session, run_id, target, cause=Cause.USER, now=NOW)
    # The caller caught the error and committed: still nothing may have changed.
    assert dump(db) == before
    assert refused.value.current is current
    assert f"is {current.value} ({current.label})" in str(refused.value)


@pytest.mark.parametrize("current", list(Status))
def test_transition_every_target_from_status(db: Database, current: Status) -> None:
    job_id = add_jobs(db, "job")["job"]
    for target in Status:
        run_id = run_in(db, job_id, current)
        if is_legal(current, target):
            _check_legal(db, job_id, run_id, current, target)
        else:
            _check_refused(db, run_id, current, target)


# SPEC §1, written out again so a change to TRANSITIONS has to change this too.
SPEC_MOVES = {
    "editing": {"running", "canceled"},
    "running": {"pausing", "canceling", "finished", "finished_with_errors", "server_stopped"},
    "pausing": {"paused", "canceling", "finished", "finished_with_errors", "server_stopped"},
    "paused": {"running", "canceled"},
    "canceling": {"canceled", "server_stopped", "finished", "finished_with_errors"},
    "server_stopped": {"running", "canceled"},
    "finished": set(),
    "finished_with_errors": set(),
    "canceled": set(),
}


def test_transitions_table_matches_spec() -> None:
    table = {c.value: {t.value for t in targets} for c, targets in TRANSITIONS.items()}
    assert table == SPEC_MOVES
    assert {s.value for s in FINAL} == {"finished", "finished_with_errors", "canceled"}


def test_transition_run_fields(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = new_run(db, job_id)

    started = _move(db, run_id, Status.RUNNING, claim_by=RUNNER)
    assert (started.started_at, started.heartbeat_at, started.ended_at) == (NOW, NOW, None)
    assert (started.claimed_by, started.attempt) == (RUNNER, 1)

    pausing = _move(db, run_id, Status.PAUSING)
    assert (pausing.claimed_by, pausing.attempt) == (RUNNER, 1)
    paused = _move(db, run_id, Status.PAUSED)
    assert (paused.claimed_by, paused.attempt) == (None, 1)
    resumed = _move(db, run_id, Status.RUNNING)
    assert (resumed.started_at, resumed.claimed_by, resumed.attempt) == (NOW, None, 1)


def test_transition_job_status_follows_only_the_latest_run(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    older = run_in(db, job_id, Status.PAUSED)
    latest = run_in(db, job_id, Status.RUNNING)
    assert get_job(db, job_id).latest_run_id == latest

    _move(db, older, Status.CANCELED)
    assert get_job(db, job_id).status == "running"
    _move(db, latest, Status.FINISHED)
    assert get_job(db, job_id).status == "finished"


def test_transition_unknown_run_raises_lookup_error(db: Database) -> None:
    with pytest.raises(LookupError, match="run 999 does not exist"):
        _move(db, 999, Status.RUNNING)


def test_create_run_records_its_creation(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    before = totals_of(db, job_id)
    run_id = new_run(db, job_id, fire_key="2026-01-01T12:00:00Z")

    run = get_run(db, run_id)
    assert (run.status, run.attempt, run.fire_key) == ("editing", 0, "2026-01-01T12:00:00Z")
    first = _last(db, Transition, run_id)
    assert (first.from_status, first.to_status, first.cause) == (None, "editing", "user")
    assert _last(db, JournalEntry, run_id).message == "Run created by user"
    after = totals_of(db, job_id)
    changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert changed == {"runs_total": 1, "entered_editing": 1, "journal_info": 1}
    job = get_job(db, job_id)
    assert (job.latest_run_id, job.status) == (run_id, "editing")


def test_create_run_same_fire_key_twice_changes_nothing(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_in(db, job_id, Status.FINISHED)
    first = new_run(db, job_id, fire_key="2026-01-01T12:00:00Z")
    force_status(db, first, Status.FINISHED)
    before = dump(db)

    with db.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        again = lifecycle.create_run(
            session, job, cause=Cause.SCHEDULER, now=NOW, fire_key="2026-01-01T12:00:00Z"
        )

    assert again is None
    assert dump(db) == before


def test_transition_with_the_runners_fence(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)

    run = _move(db, run_id, Status.FINISHED, fence=Fence(run_id, RUNNER, 1))

    assert (run.status, run.claimed_by) == ("finished", None)


@pytest.mark.parametrize(
    ("fence", "current"),
    [
        (Fence(0, RUNNER, 0), Status.RUNNING),  # stale attempt
        (Fence(0, "runner-b", 1), Status.RUNNING),  # another runner
        (Fence(0, RUNNER, 1), Status.SERVER_STOPPED),  # reaped: the claim is gone
    ],
)
def test_transition_with_a_lost_fence_changes_nothing(
    db: Database, fence: Fence, current: Status
) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(
        db, job_id, current, claimed_by=None if current is Status.SERVER_STOPPED else RUNNER
    )
    stale = Fence(run_id, fence.runner_id, fence.attempt)
    before = dump(db)

    for target in (Status.FINISHED, Status.SERVER_STOPPED, Status.CANCELED):
        with db.write() as session, pytest.raises(LostClaim, match=f"run {run_id} is no longer"):
            lifecycle.transition(session, run_id, target, cause=Cause.RUNNER, now=NOW, fence=stale)

    assert dump(db) == before


@pytest.mark.parametrize(
    ("change", "fenced", "error", "now_status"),
    [
        ({"status": "canceling"}, False, TransitionError, Status.CANCELING),
        ({"attempt": 2, "claimed_by": "runner-b"}, True, LostClaim, Status.RUNNING),
    ],
)
def test_transition_after_a_concurrent_change_changes_nothing(
    db: Database,
    db_url: str,
    change: dict[str, Any],
    fenced: bool,
    error: type[Exception],
    now_status: Status,
) -> None:
    """Another session commits a change just as this one starts: the refusal names it."""
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    other = Database(db_url)
    snapshots: list[Any] = []

    def before_first_statement(state: ORMExecuteState) -> None:
        if not snapshots:
            with other.write() as theirs:
                theirs.execute(update(Run).where(Run.id == run_id).values(change))
            snapshots.append(dump(other))

    try:
        with db.write() as session:
            event.listen(session, "do_orm_execute", before_first_statement)
            # The request was made for a run its caller last saw running, attempt 1.
            fence = Fence(run_id, RUNNER, 1) if fenced else None
            with pytest.raises(error) as lost:
                lifecycle.transition(
                    session, run_id, Status.PAUSING, cause=Cause.RUNNER, now=NOW, fence=fence
                )
        assert dump(other) == snapshots[0]
        if isinstance(lost.value, TransitionError):
            assert lost.value.current is now_status
    finally:
        other.dispose()


def _waiting_for_a_lock(db: Database) -> bool:
    query = {
        "postgresql": "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()",
        # A row lock wait in a const-table read shows as a query in flight, not in innodb_trx.
        "mariadb": "SELECT count(*) FROM information_schema.processlist"
        " WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE :locking_read",
    }[db.dialect]
    with db.engine.connect() as conn:
        found = conn.execute(text(query), {"locking_read": "%FOR UPDATE%"})
        return bool(found.scalar())


@pytest.mark.parametrize(
    ("theirs", "ours"), [(Status.CANCELING, Status.FINISHED), (Status.PAUSING, Status.CANCELING)]
)
def test_transition_that_loses_a_race_changes_nothing(
    db: Database, db_url: str, theirs: Status, ours: Status
) -> None:
    """Two sessions move the same run at once: the one that comes second is refused."""
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    other = Database(db_url)
    outcome: list[Any] = []

    def request() -> None:
        try:
            with other.write() as session:
                lifecycle.transition(session, run_id, theirs, cause=Cause.USER, now=NOW)
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=request)

    def before_update(state: ORMExecuteState) -> None:
        if state.is_update and not thread.is_alive():
            thread.start()  # it waits for this transaction to end
            deadline = time.monotonic() + 10
            while not db.is_sqlite and not _waiting_for_a_lock(other):
                assert time.monotonic() < deadline, "the other request never waited"
                time.sleep(0.01)

    try:
        with db.write() as session:
            event.listen(session, "do_orm_execute", before_update)
            lifecycle.transition(session, run_id, ours, cause=Cause.USER, now=NOW)
        thread.join()
    finally:
        other.dispose()

    (refused,) = outcome
    assert isinstance(refused, TransitionError)
    assert refused.current is ours
    moves = [(t.from_status, t.to_status) for t in _moves(db, run_id)]
    assert moves == [(None, "editing"), ("running", ours.value)]
    assert get_run(db, run_id).status == ours.value


def _moves(db: Database, run_id: int) -> list[Transition]:
    with db.read() as session:
        query = select(Transition).where(Transition.run_id == run_id).order_by(Transition.id)
        return list(session.scalars(query))
