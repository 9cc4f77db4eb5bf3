"""``after:``: a run of the job after each run of its upstream job that ends ``finished``.

On every backend: once per upstream run, never after ``finished_with_errors`` or ``canceled``,
waiting while the job is busy, once however many runners look at the same moment, and still
there for the next runner when the one that finished the upstream run is gone.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runner.core import catalog, chaining, config, control
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Run, Transition
from runner.executor import worker
from runner.executor.worker import Runner
from tests.runner.support import RUNNER, T0, Ticker, force_status, new_run, python_job


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _jobs(db: Database) -> dict[str, int]:
    return catalog.sync_jobs(db, [python_job("up"), python_job("down", after="up")])


def _ends(db: Database, job_id: int, status: Status, at: float) -> int:
    """A run of the job created at ``at`` s and put in ``status`` a second later; its id."""
    run_id = new_run(db, job_id, now=_at(at))
    extra: dict[str, Any] = {"started_at": _at(at)}
    if status in (Status.FINISHED, Status.FINISHED_WITH_ERRORS, Status.CANCELED):
        extra["ended_at"] = _at(at + 1)
    force_status(db, run_id, status, **extra)
    return run_id


def _chain(db: Database, ids: dict[str, int], at: float) -> list[str]:
    return chaining.create_chained_runs(db, [ids["down"]], _at(at))


def _keys(db: Database, job_id: int) -> list[str | None]:
    with db.read() as session:
        query = select(Run.fire_key).where(Run.job_id == job_id).order_by(Run.id)
        return list(session.scalars(query))


def _latest(db: Database, job_id: int) -> Run:
    with db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.latest_run_id is not None
        run = session.get(Run, job.latest_run_id)
        assert run is not None
        return run


def _journal(db: Database, run_id: int) -> list[str]:
    with db.read() as session:
        query = select(JournalEntry.message).where(JournalEntry.run_id == run_id)
        return list(session.scalars(query.order_by(JournalEntry.id)))


def test_chained_job_runs_once_after_each_finished_upstream_run(db: Database) -> None:
    ids = _jobs(db)
    first = _ends(db, ids["up"], Status.FINISHED, 10)
    (line,) = _chain(db, ids, 12)
    chained = _latest(db, ids["down"])
    assert line == f"down: run {chained.number} created after up run 1 finished"
    assert _chain(db, ids, 13) == []  # answered: nothing more
    assert _keys(db, ids["down"]) == [f"after:{first}"]
    with db.read() as session:
        query = select(Transition.cause, Transition.reason).where(Transition.run_id == chained.id)
        assert session.execute(query).all() == [("scheduler", "after up run 1 finished")]
    assert _journal(db, chained.id) == ["Run created by scheduler: after up run 1 finished"]
    force_status(db, chained.id, Status.FINISHED, ended_at=_at(15))

    _ends(db, ids["up"], Status.FINISHED_WITH_ERRORS, 20)
    _ends(db, ids["up"], Status.CANCELED, 30)
    assert _chain(db, ids, 35) == []
    fourth = _ends(db, ids["up"], Status.FINISHED, 40)
    assert len(_chain(db, ids, 42)) == 1
    assert _keys(db, ids["down"]) == [f"after:{first}", f"after:{fourth}"]


@pytest.mark.parametrize(
    "busy", [Status.EDITING, Status.RUNNING, Status.PAUSED, Status.SERVER_STOPPED]
)
def test_chained_trigger_waits_while_the_job_is_busy(db: Database, busy: Status) -> None:
    ids = _jobs(db)
    own = _ends(db, ids["down"], busy, 0)
    upstream = _ends(db, ids["up"], Status.FINISHED, 10)
    assert _chain(db, ids, 12) == []
    force_status(db, own, Status.CANCELED, ended_at=_at(60))
    assert len(_chain(db, ids, 61)) == 1
    assert _keys(db, ids["down"]) == [None, f"after:{upstream}"]


def test_chained_upstream_runs_finished_while_busy_start_one_run(db: Database) -> None:
    ids = _jobs(db)
    own = _ends(db, ids["down"], Status.RUNNING, 0)
    _ends(db, ids["up"], Status.FINISHED, 10)
    latest = _ends(db, ids["up"], Status.FINISHED, 20)
    _ends(db, ids["up"], Status.FINISHED_WITH_ERRORS, 30)
    force_status(db, own, Status.FINISHED, ended_at=_at(40))
    assert _chain(db, ids, 41) == [
        f"down: run {_latest(db, ids['down']).number} created after up run 2 finished"
    ]
    assert _chain(db, ids, 42) == []
    assert _keys(db, ids["down"]) == [None, f"after:{latest}"]


def test_chained_trigger_is_answered_by_a_run_started_since(db: Database) -> None:
    ids = _jobs(db)
    _ends(db, ids["up"], Status.FINISHED, 10)
    _ends(db, ids["down"], Status.FINISHED, 20)  # started by hand after the upstream ended
    assert _chain(db, ids, 30) == []
    assert _keys(db, ids["down"]) == [None]


def _race(db: Database, ids: dict[str, int], runners: int, at: float) -> list[str]:
    """``runners`` threads looking for the trigger at the same moment, each in its own
    transactions, as runner processes do."""
    barrier = threading.Barrier(runners)
    lines: list[str] = []
    errors: list[BaseException] = []

    def look() -> None:
        try:
            barrier.wait(10)
            lines.extend(_chain(db, ids, at))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=look) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return lines


def test_chained_run_is_created_once_by_concurrent_runners(db: Database) -> None:
    ids = _jobs(db)
    expected: list[str | None] = []
    for round_ in range(8):
        upstream = _ends(db, ids["up"], Status.FINISHED, 100 * round_)
        assert len(_race(db, ids, 4, 100 * round_ + 5)) == 1
        expected.append(f"after:{upstream}")
        assert _keys(db, ids["down"]) == expected
        force_status(
            db, _latest(db, ids["down"]).id, Status.FINISHED, ended_at=_at(100 * round_ + 9)
        )


class Clock:
    """A clock that stays where the test puts it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _config(**upstream: Any) -> config.Config:
    up = {"name": "up", "kind": "python", "callable": "runner.examples:count", **upstream}
    down = {"name": "down", "kind": "python", "callable": "runner.examples:noop", "after": "up"}
    return config.parse({"runner": {"id": RUNNER}, "jobs": [up, down]})


def _drain(runner: Runner) -> None:
    """Tick until no run is active and none is waiting."""
    for _ in range(50):
        runner.tick()
        for active in list(runner.active.values()):
            assert active.done.wait(30), f"run {active.fence.run_id} did not end"
        runner.tick()
        if not runner.active:
            return
    raise AssertionError("runs kept coming")


def test_runner_runs_the_chained_job_after_a_finished_run_only(db: Database) -> None:
    clock = Clock(T0)
    good = _config(params={"total": 2, "step": 1})
    runner = Runner(good, db, clock=clock)
    runner.prepare()
    control.start(db, "up", clock())
    _drain(runner)
    down = _latest(db, runner.job_ids["down"])
    up = _latest(db, runner.job_ids["up"])
    assert (up.status, down.status, down.fire_key) == ("finished", "finished", f"after:{up.id}")

    failing = Runner(_config(params={"total": 2, "step": 1, "fail_at": 1}), db, clock=clock)
    failing.prepare()
    control.start(db, "up", clock())
    _drain(failing)
    assert _latest(db, failing.job_ids["up"]).status == "finished_with_errors"
    assert _latest(db, failing.job_ids["down"]).id == down.id


def test_chained_trigger_outlives_the_runner_that_finished_the_upstream(db: Database) -> None:
    cfg = _config(params={"total": 2, "step": 1})
    # What a runner leaves behind when it dies right after recording the upstream's end: the
    # finished run, and nothing else (``run_once`` executes a run without the runner's loop).
    assert worker.run_once(cfg, db, "up", clock=Ticker()) is Status.FINISHED
    ids = catalog.sync_jobs(db, cfg.jobs)
    assert _keys(db, ids["down"]) == []
    later = Runner(cfg, db, clock=Clock(_at(3600)))
    later.prepare()
    _drain(later)
    run = _latest(db, ids["down"])
    assert (run.status, run.fire_key) == ("finished", f"after:{_latest(db, ids['up']).id}")
