"""Twenty control commands at once, as processes, on a job two runners are running."""

from __future__ import annotations

import itertools
import random
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from runner.core.states import FINAL, Status, is_legal
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run, Transition
from tests.e2e.procs import (
    JOBMON,
    Proc,
    counting_job,
    jobmon,
    latest_run,
    wait_status,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow
VERBS = ("pause", "resume", "cancel", "start")
ROUNDS = 3
NAMED_STATUS = re.compile(r"is (" + "|".join(s.value for s in Status) + r") \(", re.MULTILINE)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def backend(request: pytest.FixtureRequest) -> str:
    """Row locks and deadlocks on the servers; one writer at a time on SQLite."""
    return str(request.param)


def _fire(config: Path, verbs: list[str]) -> list[tuple[str, int, str]]:
    """Start every command at once; each one's verb, exit code and output."""
    started = [
        (verb, subprocess.Popen([JOBMON, "--config", str(config), verb, "long"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        for verb in verbs
    ]  # fmt: skip
    return [(verb, proc.wait(120), proc.communicate()[0]) for verb, proc in started]


def _runs(db: Database) -> list[Run]:
    with db.read() as session:
        job_id = session.scalars(select(Job.id).where(Job.name == "long")).one()
        return list(session.scalars(select(Run).where(Run.job_id == job_id).order_by(Run.id)))


def _moves(db: Database, run_id: int) -> list[tuple[str | None, str, str, str | None]]:
    with db.read() as session:
        query = select(Transition).where(Transition.run_id == run_id).order_by(Transition.id)
        return [(t.from_status, t.to_status, t.cause, t.reason) for t in session.scalars(query)]


def _assert_legal_sequence(db: Database, run: Run) -> None:
    moves = _moves(db, run.id)
    assert moves[0][:2] == (None, Status.EDITING.value)
    for (_, previous, _, _), (source, target, _, _) in itertools.pairwise(moves):
        assert source == previous, f"run {run.id}: {moves}"
        assert source is not None and is_legal(Status(source), Status(target)), moves
    canceled = any(m[1] in ("canceling", "canceled") for m in moves)
    assert run.status == (Status.CANCELED.value if canceled else Status.FINISHED.value), moves


def test_twenty_concurrent_control_commands_never_error(
    tmp_path: Path, db_url: str, db: Database, procs: list[Proc]
) -> None:
    job = counting_job("long", total=10**6, delay=0.05)
    config = write_config(tmp_path / "c.yaml", db_url, [job])
    runners = [Proc(config), Proc(config)]
    procs.extend(runners)
    assert jobmon(config, "start", "long").returncode == 0
    wait_until(lambda: (r := latest_run(db, "long")) is not None and r.claimed_by, what="a claim")
    rng = random.Random(2026)
    for _ in range(ROUNDS):
        verbs = [VERBS[i % len(VERBS)] for i in range(20)]
        rng.shuffle(verbs)
        for verb, code, output in _fire(config, verbs):
            assert code in (0, 3), f"jobmon {verb} exited {code}: {output}"
            if code == 3:
                assert NAMED_STATUS.search(output), f"jobmon {verb}: {output}"

    _cancel_until_final(config, db)
    for run in _runs(db):
        _assert_legal_sequence(db, run)
    for runner in runners:
        log = runner.output()
        assert "could not be executed" not in log and "deadlock" not in log.lower(), log


def _cancel_until_final(config: Path, db: Database) -> None:
    def settled() -> bool:
        run = latest_run(db, "long")
        assert run is not None
        if Status(run.status) in FINAL:
            return True
        if run.status not in (Status.CANCELING.value,):
            jobmon(config, "cancel", "long")
        return False

    wait_until(settled, timeout=60, what="the latest run to end")
    wait_status(db, "long", *FINAL)
