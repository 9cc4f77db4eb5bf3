"""Several runners on PostgreSQL, a database that goes away, and secrets kept out of output."""

from __future__ import annotations

import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Base, JournalEntry, Reject, Run, Transition
from tests.conftest import ServerDatabases, database_url
from tests.e2e.procs import (
    Proc,
    counting_job,
    jobmon,
    latest_run,
    wait_status,
    wait_until,
    write_config,
)
from tests.e2e.tcpproxy import TcpProxy
from tests.jobs.conftest import drop_user_tables
from tests.jobs.test_kill import big_csv

ROWS = 400_000  # enough to stop or cut an import in the middle, quick to import

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_url(tmp_path: Path, server_databases: ServerDatabases) -> str:
    return database_url("postgresql", tmp_path, server_databases)


def _finished(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(Run.status == Status.FINISHED.value)
        return int(session.scalar(query) or 0)


def test_three_runners_on_postgresql_execute_each_run_exactly_once(
    tmp_path: Path, pg_url: str, procs: list[Proc]
) -> None:
    jobs = [counting_job(f"job{i}", total=2, delay=0) | {"schedule": "@every 1s"}
            for i in range(20)]  # fmt: skip
    config = write_config(tmp_path / "c.yaml", pg_url, jobs, concurrency=4)
    db = Database(pg_url)
    try:
        runners = [Proc(config, "runner") for _ in range(3)]
        procs.extend(runners)
        wait_until(lambda: _finished(db) >= 200, timeout=120, what="200 finished runs")
        for runner in runners:
            runner.signal(signal.SIGTERM)
        assert [runner.wait(30) for runner in runners] == [0, 0, 0]
        _assert_each_run_executed_once(db)
    finally:
        db.dispose()


def _assert_each_run_executed_once(db: Database) -> None:
    with db.read() as session:
        runs = list(session.scalars(select(Run)))
        starts = Counter(session.scalars(
            select(JournalEntry.run_id).where(JournalEntry.message.like("counting from 0 to%"))
        ))  # fmt: skip
        claims = Counter(session.scalars(
            select(Transition.run_id).where(Transition.from_status == "editing",
                                            Transition.to_status == "running")
        ))  # fmt: skip
        runners = {r.claimed_by for r in runs}
    keys = [(r.job_id, r.fire_key) for r in runs]
    assert len(keys) == len(set(keys)), "a fire time got two runs"
    finished = [r for r in runs if r.status == Status.FINISHED.value]
    assert len(finished) >= 200
    assert all(starts[r.id] == 1 and claims[r.id] == 1 for r in finished)
    assert all(count == 1 for count in starts.values())
    assert runners == {None}, "every runner released its runs on shutdown"
    with db.read() as session:
        attempts = set(
            session.scalars(select(Run.attempt).where(Run.id.in_([r.id for r in finished])))
        )
    assert attempts == {1}


def test_runner_survives_the_database_going_away_and_coming_back(
    tmp_path: Path, pg_url: str, procs: list[Proc]
) -> None:
    url = sa.make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    config = write_config(tmp_path / "c.yaml", proxied, [counting_job("count", total=3, delay=0)],
                          stale_after_seconds=30)  # fmt: skip
    db = Database(pg_url)
    try:
        runner = Proc(config, "runner")
        procs.append(runner)
        wait_until(lambda: "started with" in runner.output(), what="runner up")
        proxy.cut()
        wait_until(lambda: "database unavailable" in runner.output(), what="outage noticed")
        assert runner.popen.poll() is None, "the runner must not exit when the database is down"
        proxy.restore()
        wait_until(lambda: "database reachable again" in runner.output(), what="recovery")
        assert jobmon(config, "start", "count").returncode == 0
        wait_status(db, "count", Status.FINISHED, timeout=30)
        runner.signal(signal.SIGTERM)
        assert runner.wait(30) == 0
    finally:
        proxy.cut()
        db.dispose()


def test_database_password_never_printed(tmp_path: Path, pg_url: str, procs: list[Proc]) -> None:
    """PostgreSQL here trusts local connections, so any password connects: it must not leak."""
    secret = "s3cretPassw0rd"
    url = sa.make_url(pg_url).set(password=secret).render_as_string(hide_password=False)
    job = counting_job("count", total=3, delay=0) | {"params": {"total": 3, "fail_at": 2}}
    config = write_config(tmp_path / "c.yaml", url, [job])
    runner = Proc(config, "runner")
    procs.append(runner)
    outputs = [jobmon(config, "db", "upgrade"), jobmon(config, "start", "count", "--wait")]
    db = Database(pg_url)
    try:
        wait_status(db, "count", Status.FINISHED_WITH_ERRORS)
        outputs += [jobmon(config, cmd, "count") for cmd in ("show", "journal", "rejects")]
        outputs += [jobmon(config, "jobs", "--output", "json"), jobmon(config, "pause", "count")]
        broken = write_config(tmp_path / "broken.yaml",
                              sa.make_url(url).set(port=1).render_as_string(hide_password=False),
                              [job])  # fmt: skip
        failed = jobmon(broken, "--log-level", "debug", "jobs")
        assert failed.returncode == 1
        outputs.append(failed)
        runner.signal(signal.SIGTERM)
        runner.wait(30)
        texts = [o.stdout + o.stderr for o in outputs] + [runner.output()]
        texts += [repr(row) for row in _all_rows(db)]
        assert all(secret not in text for text in texts)
        assert any("***" in text or "database error" in text for text in texts)
    finally:
        db.dispose()


def _all_rows(db: Database) -> list[object]:
    with db.read() as session:
        return [row for t in Base.metadata.sorted_tables for row in session.execute(select(t))]


def test_a_20_second_database_outage_mid_import_loses_nothing(
    tmp_path: Path, pg_url: str, procs: list[Proc]
) -> None:
    """The runner waits out an outage shorter than stale_after_seconds: the run goes on."""
    url = sa.make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    job, (good, bad) = _big_import(tmp_path)
    config = write_config(tmp_path / "c.yaml", proxied, [job], stale_after_seconds=30)
    db = Database(pg_url)
    drop_user_tables(db)
    try:
        runner = Proc(config, "runner")
        procs.append(runner)
        assert jobmon(config, "start", "big").returncode == 0
        wait_until(lambda: _records(db) > 0, timeout=60, what="the import under way")
        proxy.cut()
        cut = latest_run(db, "big")
        assert cut is not None and cut.status == "running" and cut.records < ROWS
        threading.Event().wait(20)
        assert runner.popen.poll() is None
        proxy.restore()
        run = wait_status(db, "big", Status.FINISHED, Status.FINISHED_WITH_ERRORS, timeout=120)
        assert (run.status, run.attempt, run.records, run.rejects) == ("finished", 1, ROWS, bad)
        with db.engine.connect() as conn:
            counted = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM people")
            assert tuple(counted.one()) == (good, good)
        log = runner.output()
        assert "retrying" in log and "could not be executed" not in log
    finally:
        proxy.cut()
        drop_user_tables(db)
        db.dispose()


def _big_import(tmp_path: Path) -> tuple[dict[str, Any], tuple[int, int]]:
    """An import job of a 400,000-row file into ``people``; the good and bad records."""
    job = {
        "name": "big", "kind": "import", "chunk_rows": 5000,
        "source": {"path": str(tmp_path / "big.csv")},
        "target": {"table": "people", "create": True},
        "columns": [{"name": "id", "type": "integer", "required": True},
                    {"name": "name", "type": "text", "max_length": 20},
                    {"name": "amount", "type": "decimal", "precision": 8, "scale": 2}],
    }  # fmt: skip
    return job, big_csv(tmp_path / "big.csv", ROWS)


def _records(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(Run.records))) or 0)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_a_frozen_runner_taken_over_writes_nothing_when_it_wakes(
    tmp_path: Path, db_url: str, procs: list[Proc]
) -> None:
    """SIGSTOP past stale_after_seconds, another runner finishes the run, SIGCONT: the first
    runner's late checkpoint, rows, rejects and journal lines are all refused."""
    job, (good, bad) = _big_import(tmp_path)
    config = write_config(tmp_path / "c.yaml", db_url, [job], max_restarts=3)
    db = Database(db_url)
    drop_user_tables(db)
    try:
        frozen = Proc(config, "runner")
        procs.append(frozen)
        assert jobmon(config, "start", "big").returncode == 0
        wait_until(lambda: _records(db) > 0, timeout=60, what="the import under way")
        frozen.signal(signal.SIGSTOP)
        procs.append(Proc(config, "runner"))  # reaps, restarts and finishes the run
        run = wait_status(db, "big", Status.FINISHED, timeout=120)
        before = _written(db, run.id)
        frozen.signal(signal.SIGCONT)
        wait_until(lambda: "no longer held" in frozen.output(), timeout=30, what="the claim lost")
        threading.Event().wait(2)  # anything it still meant to write would be there by now
        assert _written(db, run.id) == before == (good, bad, before[2])
        assert frozen.popen.poll() is None, "the woken runner goes on serving"
        assert (run.status, run.records, run.rejects) == ("finished", ROWS, bad)
    finally:
        procs[0].signal(signal.SIGCONT)
        drop_user_tables(db)
        db.dispose()


def _written(db: Database, run_id: int) -> tuple[int, int, int]:
    """Target rows, the run's rejects and its journal lines."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM people").one()
        assert rows[0] == rows[1], "a row imported twice"
        rejects = conn.execute(select(func.count()).where(Reject.run_id == run_id)).scalar()
        lines = conn.execute(select(func.count()).where(JournalEntry.run_id == run_id)).scalar()
    return int(rows[0]), int(rejects or 0), int(lines or 0)
