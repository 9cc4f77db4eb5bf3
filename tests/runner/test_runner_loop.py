"""The runner's loop in this process, driven pass by pass with an injected clock."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runner.core import config
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run, Transition
from runner.executor.worker import Runner
from tests.runner.support import RUNNER, T0, get_run, run_in


class Clock:
    """A clock that stays where the test puts it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _config(*jobs: dict[str, Any], **runner: Any) -> config.Config:
    settings = {"id": RUNNER, "poll_seconds": 0.05, **runner}
    return config.parse({"runner": settings, "jobs": list(jobs)})


def _count_job(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "kind": "python", "callable": "runner.examples:count", **fields}


def _finish_threads(runner: Runner) -> None:
    for active in list(runner.active.values()):
        assert active.done.wait(30), f"run {active.fence.run_id} did not end"
    runner.tick()  # forgets the finished threads


def _runs(db: Database, name: str) -> list[Run]:
    with db.read() as session:
        job_id = session.scalars(select(Job.id).where(Job.name == name)).one()
        return list(session.scalars(select(Run).where(Run.job_id == job_id).order_by(Run.id)))


def test_runner_runs_a_scheduled_job_when_its_clock_reaches_the_fire(db: Database) -> None:
    clock = Clock(T0 - timedelta(seconds=1))
    job = _count_job("tick", schedule="@every 10s", params={"total": 3, "step": 1})
    runner = Runner(_config(job), db, clock=clock)
    runner.prepare()
    runner.tick()
    assert _runs(db, "tick") == []

    clock.advance(1)  # 12:00:00 is on the 10 s grid
    runner.tick()
    _finish_threads(runner)

    (run,) = _runs(db, "tick")
    assert (run.status, run.fire_key, run.records) == ("finished", "2026-01-01T12:00:00Z", 3)
    assert runner.active == {}
    with db.read() as session:
        stored = session.scalars(select(Job.next_run_at).where(Job.name == "tick")).one()
    assert stored == T0 + timedelta(seconds=10)


def test_runner_reaps_a_run_whose_runner_went_silent(db: Database) -> None:
    clock = Clock(T0 + timedelta(seconds=31))
    runner = Runner(_config(_count_job("other"), max_restarts=0), db, clock=clock)
    runner.prepare()
    run_id = run_in(db, runner.job_ids["other"], Status.RUNNING, claimed_by="gone:1")

    runner.tick()

    assert get_run(db, run_id).status == Status.SERVER_STOPPED.value


def test_runner_restarts_a_reaped_run_from_its_checkpoint_by_itself(db: Database) -> None:
    clock = Clock(T0 + timedelta(seconds=31))
    job = _count_job("other", params={"total": 4, "step": 1})
    runner = Runner(_config(job, max_restarts=1), db, clock=clock)
    runner.prepare()
    checkpoint = '{"position": 2}'
    run_id = run_in(db, runner.job_ids["other"], Status.RUNNING, claimed_by="gone:1",
                    checkpoint=checkpoint, records=2)  # fmt: skip

    runner.tick()  # reaped, restarted and claimed in one pass
    _finish_threads(runner)

    run = get_run(db, run_id)
    assert (run.status, run.records, run.attempt) == (Status.FINISHED.value, 4, 2)
    with db.read() as session:
        reasons = list(session.scalars(
            select(Transition.reason).where(Transition.run_id == run_id).order_by(Transition.id)
        ))  # fmt: skip
    assert (
        "restarted automatically from its last checkpoint, 1 of 1 (the last: if it stops "
        "again, it waits for a person)" in reasons
    )


def test_runner_picks_up_a_run_started_by_hand(db: Database) -> None:
    runner = Runner(_config(_count_job("manual", params={"total": 2})), db, clock=Clock(T0))
    runner.prepare()
    run_id = run_in(db, runner.job_ids["manual"], Status.EDITING)

    runner.tick()
    _finish_threads(runner)

    assert get_run(db, run_id).status == Status.FINISHED.value


def test_runner_stopped_mid_run_leaves_it_server_stopped(db: Database) -> None:
    slow = _count_job("slow", params={"total": 1000, "step": 1, "delay": 0.05})
    runner = Runner(_config(slow, shutdown_grace_seconds=5), db, clock=Clock(T0))
    runner.prepare()
    run_id = run_in(db, runner.job_ids["slow"], Status.EDITING)
    loop = threading.Thread(target=runner.run)
    loop.start()
    try:
        _wait_for(lambda: get_run(db, run_id).records > 0)
    finally:
        runner.stop()
        loop.join(30)
    assert not loop.is_alive()
    run = get_run(db, run_id)
    assert (run.status, run.claimed_by) == (Status.SERVER_STOPPED.value, None)


def _wait_for(condition: Any) -> None:
    done = threading.Event()
    for _ in range(600):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError("the run never made progress")


def test_runner_pass_survives_an_unreachable_database(caplog: pytest.LogCaptureFixture) -> None:
    add = {"database": {"url": "postgresql://jobmon:secret@127.0.0.1:1/none"}}
    cfg = config.parse({**add, "runner": {"id": RUNNER}, "jobs": [_count_job("j")]})
    db = Database(cfg.database.url, connect_timeout=1)
    runner = Runner(cfg, db, clock=Clock(T0))
    with caplog.at_level(logging.ERROR):
        runner.tick()
        runner.tick()
    unavailable = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(unavailable) == 1, "said once per outage"
    assert "secret" not in caplog.text
