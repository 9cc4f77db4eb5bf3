"""``run_once``: create, claim and execute a run in this process, with the example jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from runner.core.config import parse
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, JournalEntry, Reject, Run, Transition
from runner.executor import worker
from tests.runner.support import RUNNER, Ticker, example_config


def _latest(db: Database, name: str) -> tuple[Run, list[str], list[tuple[str, str]], list[int]]:
    """The job's latest run, its journal messages, its moves and its rejected lines."""
    with db.read() as session:
        job = session.scalars(select(Job).where(Job.name == name)).one()
        run = session.get(Run, job.latest_run_id)
        assert run is not None
        lines = session.scalars(
            select(JournalEntry.message)
            .where(JournalEntry.run_id == run.id)
            .order_by(JournalEntry.id)
        )
        moves = session.execute(
            select(Transition.from_status, Transition.to_status)
            .where(Transition.run_id == run.id)
            .order_by(Transition.id)
        )
        rejected = session.scalars(
            select(Reject.line).where(Reject.run_id == run.id).order_by(Reject.line)
        )
        return run, list(lines), [(str(a), b) for a, b in moves], list(rejected)


def test_run_once_every_outcome(db: Database) -> None:
    config = example_config()
    expected = {
        "ok": (Status.FINISHED, 30, []),
        "tolerated": (Status.FINISHED, 30, [7, 14, 21, 28]),
        "too-many": (Status.FINISHED_WITH_ERRORS, 20, [4, 8, 12, 16, 20]),
        "failing": (Status.FINISHED_WITH_ERRORS, 10, [4, 8, 12]),
        "crash": (Status.FINISHED_WITH_ERRORS, 0, []),
        "noop": (Status.FINISHED, 0, []),
    }
    for name, (status, records, rejected) in expected.items():
        assert worker.run_once(config, db, name, clock=Ticker()) is status, name
        run, _lines, moves, lines_rejected = _latest(db, name)
        assert (run.status, run.records, run.rejects) == (status.value, records, len(rejected))
        assert lines_rejected == rejected, name
        assert moves == [("None", "editing"), ("editing", "running"), ("running", status.value)]
        assert (run.claimed_by, run.attempt) == (None, 1)


def test_run_once_journal_says_why_a_run_failed(db: Database) -> None:
    config = example_config()
    for name in ("too-many", "failing", "crash", "ok"):
        worker.run_once(config, db, name, clock=Ticker())

    assert _latest(db, "too-many")[1][-2:] == [
        "5 records rejected, more than max_rejects 3; what was committed before stays committed",
        "Status changed from Running to Finished with errors by runner: 5 records rejected, "
        "more than max_rejects 3; what was committed before stays committed",
    ]
    assert "failed at 15 as asked" in _latest(db, "failing")[1]
    assert "RuntimeError: something broke" in _latest(db, "crash")[1]
    ok = _latest(db, "ok")[1]
    assert ok[:3] == [
        "Run created by user",
        f"Status changed from Being edited to Running by runner: claimed by runner {RUNNER}",
        "counting from 0 to 30",
    ]
    assert ok[-2:] == ["counted to 30", "Status changed from Running to Finished by runner"]


def test_run_once_saves_the_checkpoint(db: Database) -> None:
    worker.run_once(example_config(), db, "ok", clock=Ticker())
    run = _latest(db, "ok")[0]
    assert run.checkpoint == '{"position": 30}'


def test_a_database_error_reads_as_a_message_without_sql(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The journal and the log name the error and the table, never the statement."""
    job = {"name": "dump", "kind": "export", "source": {"query": "bad"},
           "destination": {"path": str(tmp_path / "out.csv")}}  # fmt: skip
    config = parse({
        "runner": {"id": "r", "data_dirs": [str(tmp_path)]},
        "queries": {"bad": {"sql": "SELECT secret_column FROM no_such_table WHERE 1 = 1"}},
        "jobs": [job],
    })  # fmt: skip
    assert worker.run_once(config, db, "dump", clock=Ticker()) is Status.FINISHED_WITH_ERRORS
    (error,) = [line for line in _latest(db, "dump")[1] if line.startswith("database error")]
    assert "no_such_table" in error
    for text in (error, caplog.text):
        assert "SELECT" not in text and "[SQL" not in text and "WHERE 1 = 1" not in text
