"""Fired runs, claims, heartbeats and the reaper, including two runners at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from runner.core import claims, events, lifecycle
from runner.core.claims import Fire
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.states import ACTIVE, Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Run, Transition
from tests.runner.support import (
    RUNNER,
    T0,
    add_jobs,
    at_once,
    count,
    dump,
    force_status,
    get_run,
    new_run,
    run_in,
)

SERVERS = ["postgresql", "mariadb"]


def _fire(fire: Fire) -> Callable[[Database, int], list[str]]:
    def action(db: Database, _i: int) -> list[str]:
        return claims.create_fired_runs(db, [fire], T0)

    return action


def _runs(db: Database, job_id: int) -> list[Run]:
    with db.read() as session:
        return list(session.scalars(select(Run).where(Run.job_id == job_id).order_by(Run.id)))


def test_create_fired_runs_same_fire_twice_creates_one_run(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    fire = Fire("job", T0)

    first = claims.create_fired_runs(db, [fire], T0)
    (run,) = _runs(db, job_id)
    assert first == [f"job: run {run.number} created for fire at 2026-01-01T12:00:00Z"]
    assert (run.fire_key, run.status) == ("2026-01-01T12:00:00Z", "editing")
    # While that run is active, the same fire is skipped; once it ended, the key refuses it.
    again = claims.create_fired_runs(db, [fire], T0)
    assert again == [f"job: fire at 2026-01-01T12:00:00Z skipped: run {run.number} is editing"]
    force_status(db, run.id, Status.FINISHED)
    before = dump(db)
    late = claims.create_fired_runs(db, [fire], T0 + timedelta(seconds=5))
    assert late == ["job: fire at 2026-01-01T12:00:00Z already has a run"]
    assert dump(db) == before

    claims.create_fired_runs(db, [Fire("job", T0 + timedelta(minutes=1))], T0)
    assert [r.fire_key for r in _runs(db, job_id)] == [run.fire_key, "2026-01-01T12:01:00Z"]


def test_create_fired_runs_skips_while_the_latest_run_is_not_final(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    for i, status in enumerate([Status.EDITING, Status.PAUSED, *sorted(ACTIVE)]):
        run_id = run_in(db, job_id, status)
        fire = Fire("job", T0 + timedelta(minutes=i))
        before = dump(db)
        lines = claims.create_fired_runs(db, [fire], T0)
        number = get_run(db, run_id).number
        assert lines == [f"job: fire at {fire.key} skipped: run {number} is {status.value}"]
        assert dump(db) == before
        force_status(db, run_id, Status.CANCELED)


def test_create_fired_runs_restarts_a_server_stopped_run(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.SERVER_STOPPED, attempt=1, claimed_by=None)

    lines = claims.create_fired_runs(db, [Fire("job", T0)], T0)

    assert lines == [
        f"job: run {get_run(db, run_id).number} restarted for fire at {Fire('job', T0).key}"
    ]
    run = get_run(db, run_id)
    assert (run.status, run.claimed_by, run.attempt) == ("running", None, 1)
    assert claims.claim_next(db, [job_id], "r2", T0) == Fence(run_id, "r2", 2)
    assert len(_runs(db, job_id)) == 1


def test_create_fired_runs_ignores_a_job_not_in_the_database(db: Database) -> None:
    lines = claims.create_fired_runs(db, [Fire("gone", T0)], T0)
    assert lines == ["gone: fire at 2026-01-01T12:00:00Z ignored: job not in the database"]
    assert count(db, Run) == 0


@pytest.mark.parametrize("backend", SERVERS)
def test_create_fired_runs_from_two_runners_creates_one_run_per_fire(
    db: Database, db_url: str
) -> None:
    job_id = add_jobs(db, "job")["job"]
    for minute in range(8):
        fire = Fire("job", T0 + timedelta(minutes=minute))

        outcomes = at_once(db_url, _fire(fire))

        runs = [r for r in _runs(db, job_id) if r.fire_key == fire.key]
        assert len(runs) == 1, outcomes
        created = [line for (line,) in outcomes if "created" in line]
        assert created == [f"job: run {runs[0].number} created for fire at {fire.key}"]
        assert count(db, Transition, Transition.run_id == runs[0].id) == 1
        force_status(db, runs[0].id, Status.FINISHED)


def test_claim_next_takes_the_oldest_waiting_run_of_the_given_jobs(db: Database) -> None:
    ids = add_jobs(db, "a", "b")
    resumed = run_in(db, ids["a"], Status.RUNNING, claimed_by=None, attempt=1)
    run_in(db, ids["a"], Status.RUNNING)  # held by a runner
    waiting = new_run(db, ids["a"])
    other_job = new_run(db, ids["b"])

    first = claims.claim_next(db, [ids["a"]], "r2", T0)
    second = claims.claim_next(db, [ids["a"]], "r2", T0)

    assert first == Fence(resumed, "r2", 2)
    assert second == Fence(waiting, "r2", 1)
    assert claims.claim_next(db, [ids["a"]], "r2", T0) is None
    assert claims.claim_next(db, [], "r2", T0) is None
    assert get_run(db, other_job).status == "editing"
    run = get_run(db, waiting)
    assert (run.status, run.claimed_by, run.started_at, run.heartbeat_at) == (
        "running",
        "r2",
        T0,
        T0,
    )


@pytest.mark.parametrize("backend", SERVERS)
def test_claim_next_never_hands_a_run_to_two_runners(db: Database, db_url: str) -> None:
    ids = add_jobs(db, *(f"job{i}" for i in range(4)))
    created = {new_run(db, job_id) for job_id in ids.values() for _ in range(5)}

    def claim_all(other: Database, i: int) -> list[Fence]:
        # A None while the other runner holds a job's turn does not mean none is left: stop
        # once no run waits unclaimed (or after 1,000 tries, for the assertion to tell).
        fences: list[Fence] = []
        for _ in range(1000):
            fence = claims.claim_next(other, list(ids.values()), f"runner-{i}", T0)
            if fence is not None:
                fences.append(fence)
            elif count(other, Run, Run.claimed_by.is_(None)) == 0:
                break
        return fences

    mine, theirs = at_once(db_url, claim_all)

    claimed = [f.run_id for f in mine + theirs]
    assert sorted(claimed) == sorted(created), "each run claimed exactly once"
    for fence in mine + theirs:
        run = get_run(db, fence.run_id)
        assert (run.status, run.claimed_by, run.attempt) == ("running", fence.runner_id, 1)
        assert count(db, Transition, Transition.run_id == run.id) == 2


def test_claim_run_refuses_a_run_held_by_a_runner(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    before = dump(db)

    with pytest.raises(TransitionError, match=r"is running .*already claimed"):
        claims.claim_run(db, run_id, "r2", T0)

    assert dump(db) == before


def _stale_world(db: Database) -> dict[str, int]:
    """Runs in every situation the reaper must tell apart (heartbeats 100 s old or fresh)."""
    job_id = add_jobs(db, "job")["job"]
    old = T0 - timedelta(seconds=100)
    runs = {f"stale {s.value}": run_in(db, job_id, s, heartbeat_at=old) for s in sorted(ACTIVE)}
    runs["fresh running"] = run_in(db, job_id, Status.RUNNING, heartbeat_at=T0)
    for status in (Status.PAUSED, Status.SERVER_STOPPED, Status.FINISHED, Status.EDITING):
        runs[f"old {status.value}"] = run_in(db, job_id, status, heartbeat_at=old)
    return runs


def test_reap_stale_stops_only_stale_active_runs(db: Database) -> None:
    runs = _stale_world(db)
    statuses = {name: get_run(db, rid).status for name, rid in runs.items()}

    lines = claims.reap_stale(db, 30, T0)

    reason = f"no heartbeat for 30s (runner {RUNNER})"
    stale = [rid for name, rid in runs.items() if name.startswith("stale")]
    named = [f"job run {get_run(db, rid).number}" for rid in stale]
    assert sorted(lines) == sorted(f"{name}: server_stopped ({reason})" for name in named)
    for name, run_id in runs.items():
        run = get_run(db, run_id)
        if run_id in stale:
            assert (run.status, run.claimed_by, run.attempt) == ("server_stopped", None, 1)
            with db.read() as session:
                move = session.scalars(
                    select(Transition).where(Transition.run_id == run_id).order_by(Transition.id)
                ).all()[-1]
            assert (move.from_status, move.cause, move.reason) == (statuses[name], "reaper", reason)
        else:
            assert run.status == statuses[name], name
    assert claims.reap_stale(db, 30, T0) == []


def test_a_reaped_runner_can_no_longer_write(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING, heartbeat_at=T0 - timedelta(minutes=5))
    fence = Fence(run_id, RUNNER, 1)
    claims.reap_stale(db, 30, T0)
    before = dump(db)

    with pytest.raises(LostClaim), db.write() as session:
        events.save_progress(session, fence, job_id, T0, records=5, state={"n": 5}, save_state=True)
    for target in (Status.FINISHED, Status.RUNNING, Status.SERVER_STOPPED):
        with pytest.raises(LostClaim), db.write() as session:
            lifecycle.transition(session, run_id, target, cause=Cause.RUNNER, now=T0, fence=fence)
    assert claims.heartbeat(db, [fence], T0) == [fence]

    assert dump(db) == before


def test_heartbeat_refreshes_held_runs_and_reports_lost_ones(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    held = run_in(db, job_id, Status.RUNNING)
    taken = run_in(db, job_id, Status.RUNNING, claimed_by="runner-b", attempt=2)
    later = T0 + timedelta(seconds=7)

    lost = claims.heartbeat(db, [Fence(held, RUNNER, 1), Fence(taken, RUNNER, 1)], later)

    assert lost == [Fence(taken, RUNNER, 1)]
    assert get_run(db, held).heartbeat_at == later
    assert get_run(db, taken).heartbeat_at == T0


@pytest.mark.parametrize("backend", SERVERS)
def test_create_fired_runs_from_two_runners_restarts_a_stopped_run_once(
    db: Database, db_url: str
) -> None:
    job_id = add_jobs(db, "job")["job"]
    for minute in range(5):
        run_id = run_in(db, job_id, Status.SERVER_STOPPED, claimed_by=None)
        fire = Fire("job", T0 + timedelta(minutes=minute))

        outcomes = at_once(db_url, _fire(fire))

        restarted = [line for (line,) in outcomes if "restarted" in line]
        number = get_run(db, run_id).number
        assert restarted == [f"job: run {number} restarted for fire at {fire.key}"], outcomes
        assert get_run(db, run_id).status == "running"
        assert len(_runs(db, job_id)) == minute + 1
        force_status(db, run_id, Status.FINISHED)


def test_restart_stopped_restarts_the_latest_run_up_to_the_limit(db: Database) -> None:
    ids = add_jobs(db, "job", "other")
    run_id = run_in(db, ids["job"], Status.SERVER_STOPPED)
    for attempt in (1, 2):
        (line,) = claims.restart_stopped(db, ids.values(), 2, T0)
        assert line.startswith(f"job run {get_run(db, run_id).number}: restarted automatically")
        assert f"{attempt} of 2" in line
        assert get_run(db, run_id).status == Status.RUNNING.value
        force_status(db, run_id, Status.SERVER_STOPPED)  # it stopped again
    assert claims.restart_stopped(db, ids.values(), 2, T0) == []
    assert get_run(db, run_id).status == Status.SERVER_STOPPED.value, "it waits for a person"
    assert claims.restart_stopped(db, [ids["other"]], 2, T0) == [], "only the given jobs"
    assert claims.restart_stopped(db, ids.values(), 0, T0) == [], "0 turns it off"
