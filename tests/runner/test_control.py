"""User requests (start, pause, resume, cancel) from every status of the latest run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from runner.core import claims, control, events
from runner.core.control import CANCEL_TARGETS, Refused, UnknownJob
from runner.core.fencing import Fence, LostClaim
from runner.core.states import FINAL, Status
from runner.core.storage.db import Database
from runner.core.storage.models import Run
from tests.runner.support import (
    RUNNER,
    T0,
    add_jobs,
    count,
    dump,
    get_job,
    get_run,
    run_in,
)

Request = Callable[[Database, str, datetime], Run]
REQUESTS: dict[str, tuple[Request, dict[Status, Status]]] = {
    "pause": (control.pause, {Status.RUNNING: Status.PAUSING}),
    "resume": (
        control.resume,
        {Status.PAUSED: Status.RUNNING, Status.SERVER_STOPPED: Status.RUNNING},
    ),
    "cancel": (control.cancel, CANCEL_TARGETS),
}


def test_cancel_targets_are_legal_moves() -> None:
    assert CANCEL_TARGETS == {
        Status.EDITING: Status.CANCELED,
        Status.RUNNING: Status.CANCELING,
        Status.PAUSING: Status.CANCELING,
        Status.PAUSED: Status.CANCELED,
        Status.SERVER_STOPPED: Status.CANCELED,
    }


@pytest.mark.parametrize("verb", list(REQUESTS))
def test_request_from_every_status(db: Database, verb: str) -> None:
    request, targets = REQUESTS[verb]
    job_id = add_jobs(db, "job")["job"]
    for status in Status:
        run_id = run_in(db, job_id, status)
        before = dump(db)
        if status in targets:
            run = request(db, "job", T0)
            assert (run.id, run.status) == (run_id, targets[status].value)
            assert get_job(db, job_id).status == targets[status].value
            continue
        with pytest.raises(Refused) as refused:
            request(db, "job", T0)
        assert str(refused.value) == (
            f"cannot {verb} job 'job': its latest run {_number(db, run_id)} is {status.value} "
            f"({status.label})"
        )
        assert dump(db) == before


@pytest.mark.parametrize("verb", list(REQUESTS))
def test_request_on_a_job_that_never_ran_is_refused(db: Database, verb: str) -> None:
    add_jobs(db, "job")
    with pytest.raises(Refused, match=f"cannot {verb} job 'job': it has never run"):
        REQUESTS[verb][0](db, "job", T0)


def test_requests_on_unknown_jobs(db: Database) -> None:
    add_jobs(db, "gone")
    add_jobs(db, "job")  # "gone" left the config
    for name in ("nope", "gone"):
        with pytest.raises(UnknownJob, match=f"no job named '{name}' in the config"):
            control.start(db, name, T0)
        for request, _ in REQUESTS.values():
            with pytest.raises(UnknownJob):
                request(db, name, T0)


@pytest.mark.parametrize("status", [Status.PAUSED, Status.SERVER_STOPPED])
def test_start_resumes_a_stopped_run_under_a_new_claim(db: Database, status: Status) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, status, claimed_by=None, attempt=1)
    old_fence = Fence(run_id, RUNNER, 1)

    run, resumed = control.start(db, "job", T0)

    assert (run.id, resumed) == (run_id, True)
    assert (run.status, run.claimed_by, run.attempt) == ("running", None, 1)
    fence = claims.claim_next(db, [job_id], "runner-b", T0)
    assert fence == Fence(run_id, "runner-b", 2)
    with pytest.raises(LostClaim), db.write() as session:
        events.save_progress(session, old_fence, job_id, T0, records=1)
    with db.write() as session:
        events.save_progress(session, fence, job_id, T0, records=1)
    assert get_run(db, run_id).records == 1


def test_start_creates_a_run_unless_one_is_active(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    first, resumed = control.start(db, "job", T0)
    assert (first.status, resumed) == ("editing", False)

    for status in Status:
        if status in FINAL or status in (Status.PAUSED, Status.SERVER_STOPPED):
            continue
        run_id = run_in(db, job_id, status)
        before = dump(db)
        number = _number(db, run_id)
        with pytest.raises(Refused, match=f"latest run {number} is {status.value} .*active run"):
            control.start(db, "job", T0)
        assert dump(db) == before

    for status in sorted(FINAL):
        run_in(db, job_id, status)
        runs = count(db, Run)
        run, resumed = control.start(db, "job", T0)
        assert (run.status, resumed, count(db, Run)) == ("editing", False, runs + 1)


def _journal(db: Database, run_id: int) -> list[str]:
    from sqlalchemy import select

    from runner.core.storage.models import JournalEntry

    with db.read() as session:
        query = select(JournalEntry.message).where(JournalEntry.run_id == run_id)
        return list(session.scalars(query.order_by(JournalEntry.id)))


def test_pause_and_cancel_of_a_run_no_runner_holds_take_effect_at_once(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.PAUSED)
    resumed = control.resume(db, "job", T0)  # nobody has picked it up yet
    assert (resumed.status, resumed.claimed_by) == (Status.RUNNING.value, None)

    paused = control.pause(db, "job", T0)
    assert paused.status == Status.PAUSED.value
    control.resume(db, "job", T0)
    canceled = control.cancel(db, "job", T0)
    assert (canceled.id, canceled.status) == (run_id, Status.CANCELED.value)
    assert get_job(db, job_id).status == Status.CANCELED.value
    journal = _journal(db, run_id)
    assert "Status changed from Running to Pausing by user: jobmon pause" in journal
    assert (
        "Status changed from Pausing to Paused by user: jobmon pause: no runner held the run"
        in (journal)
    )
    assert journal[-1] == (
        "Status changed from Canceling to Canceled by user: jobmon cancel: no runner held the run"
    )


def test_a_run_a_runner_holds_waits_for_its_checkpoint(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)  # held by RUNNER
    assert control.pause(db, "job", T0).status == Status.PAUSING.value
    assert control.cancel(db, "job", T0).status == Status.CANCELING.value
    assert get_run(db, run_id).claimed_by == RUNNER


def _number(db: Database, run_id: int) -> int:
    """The run's number within its job, as messages name it."""
    with db.read() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.number
