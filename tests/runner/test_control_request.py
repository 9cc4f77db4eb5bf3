"""Console requests (``control.request``): the same moves as the CLI's, stored as the user."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runner.core import control
from runner.core.control import Refused, UnknownJob
from runner.core.states import CAUSE_LENGTH, Status
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry, Transition
from tests.runner.support import T0, add_jobs, run_in


def _moves(db: Database, run_id: int) -> list[tuple[str, str]]:
    query = select(Transition).where(Transition.run_id == run_id).order_by(Transition.id)
    with db.read() as session:
        return [(t.to_status, t.cause) for t in session.scalars(query)]


def test_request_stores_the_user_as_cause(db: Database) -> None:
    add_jobs(db, "job")
    run = control.request(db, "job", "start", T0, "alice")
    assert run.status == Status.EDITING.value
    canceled = control.request(db, "job", "cancel", T0, "bob")
    assert _moves(db, run.id) == [("editing", "user:alice"), ("canceled", "user:bob")]
    assert canceled.status == Status.CANCELED.value
    with db.read() as session:
        messages = list(session.scalars(select(JournalEntry.message).order_by(JournalEntry.id)))
    assert messages == [
        "Run created by user:alice: jobmon start",
        "Status changed from Being edited to Canceled by user:bob: jobmon cancel",
    ]


def test_cli_requests_stay_user(db: Database) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.RUNNING)
    control.pause(db, "job", T0)
    assert _moves(db, run_id)[-1] == ("pausing", "user")


@pytest.mark.parametrize("verb", ["pause", "resume"])
def test_request_refuses_like_the_cli(db: Database, verb: str) -> None:
    job_id = add_jobs(db, "job")["job"]
    run_id = run_in(db, job_id, Status.FINISHED)
    with pytest.raises(Refused, match=f"cannot {verb} job 'job': its latest run 1 is finished"):
        control.request(db, "job", verb, T0, "alice")
    with pytest.raises(UnknownJob):
        control.request(db, "nope", verb, T0, "alice")
    assert len(_moves(db, run_id)) == 1


def test_unknown_verb_is_refused(db: Database) -> None:
    add_jobs(db, "job")
    with pytest.raises(ValueError, match="unknown request 'delete'"):
        control.request(db, "job", "delete", T0, "alice")


def test_a_long_user_name_fits_the_cause_column(db: Database) -> None:
    add_jobs(db, "job")
    name = "u" * 300
    run = control.request(db, "job", "start", T0, name)
    cause = _moves(db, run.id)[0][1]
    assert cause == f"user:{name}"[:CAUSE_LENGTH]
    assert len(cause) == CAUSE_LENGTH
