"""Process-level faults: a real ``jobmon runner`` killed with SIGKILL in the middle of an
import or an export, then a new runner and ``jobmon start`` to resume."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.e2e.procs import Proc, jobmon, latest_run, wait_status, wait_until, write_config
from tests.jobs.conftest import drop_user_tables

ROWS = 1_000_000
BAD_EVERY = 99_991  # a record with a bad id; a too-long name every 149,993


def big_csv(path: Path, rows: int = ROWS) -> tuple[int, int]:
    """A CSV of ``rows`` records; returns (good records, bad records)."""
    bad = 0
    with path.open("w") as out:
        out.write("id,name,amount\n")
        for start in range(1, rows + 1, 50_000):
            lines = []
            for i in range(start, min(rows, start + 49_999) + 1):
                if i % BAD_EVERY == 0:
                    lines.append(f"{i}x,n{i},1.5\n")
                    bad += 1
                elif i % 149_993 == 0:
                    lines.append(f"{i},{'n' * 30},1.5\n")
                    bad += 1
                else:
                    lines.append(f"{i},n{i},{i % 1000}.25\n")
            out.write("".join(lines))
    return rows - bad, bad


def setup(tmp_path: Path, url: str, jobs: list[dict[str, object]]) -> tuple[Path, Database]:
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(data / "config.yaml", url, jobs)
    db = Database(url)
    upgrade(db)
    drop_user_tables(db)
    return config, db


def children(pid: int) -> set[int]:
    """Process ids of ``pid``'s children (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def gone(pids: set[int]) -> bool:
    return not any(Path(f"/proc/{p}").exists() for p in pids)


def kill_and_resume(config: Path, db: Database, procs: list[Proc], job: str) -> set[int]:
    """SIGKILL the runner, start another, and resume the job's run once it is reaped; the
    runner's own children (an import's reading process) end with it."""
    helpers = children(procs[-1].popen.pid)
    procs[-1].signal(signal.SIGKILL)
    procs[-1].wait()
    wait_until(lambda: gone(helpers), timeout=30, what="the runner's children to exit")
    procs.append(Proc(config))
    wait_status(db, job, Status.SERVER_STOPPED, timeout=30)
    started = jobmon(config, "start", job, "--wait", timeout=180)
    assert started.returncode == 0, started.stdout + started.stderr
    return helpers


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_kill_during_import_then_resume_imports_each_row_once(
    tmp_path: Path, db_url: str, procs: list[Proc]
) -> None:
    job = {
        "name": "big",
        "kind": "import",
        "source": {"path": str(tmp_path / "data" / "big.csv")},
        "target": {"table": "people", "create": True},
        "columns": [
            {"name": "id", "type": "integer", "required": True},
            {"name": "name", "type": "text", "max_length": 20},
            {"name": "amount", "type": "decimal", "precision": 8, "scale": 2},
        ],
    }
    config, db = setup(tmp_path, db_url, [job])
    good, bad = big_csv(tmp_path / "data" / "big.csv")
    procs.append(Proc(config))
    assert jobmon(config, "start", "big").returncode == 0

    def midway() -> bool:
        run = latest_run(db, "big")
        return run is not None and run.status == "running" and run.records >= 200_000

    wait_until(midway, timeout=120, what="the import to be under way")
    helpers = kill_and_resume(config, db, procs, "big")
    assert len(helpers) == 1  # the reading process of a large import
    run = latest_run(db, "big")
    assert run is not None and run.status == "finished"
    assert (run.records, run.rejects) == (ROWS, bad)
    with db.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*), count(DISTINCT id) FROM people").one()
        assert tuple(count) == (good, good)
        rejects = conn.exec_driver_sql(
            f"SELECT count(*), count(DISTINCT line) FROM rejects WHERE run_id = {run.id}"
        ).one()
        assert tuple(rejects) == (bad, bad)
        journal = conn.exec_driver_sql(
            f"SELECT message FROM journal WHERE run_id = {run.id}"
        ).scalars()
        assert "Resuming from the last checkpoint" in list(journal)
    drop_user_tables(db)
    db.dispose()


@pytest.mark.slow
def test_kill_during_export_leaves_no_partial_file(tmp_path: Path, procs: list[Proc]) -> None:
    destination = tmp_path / "data" / "out" / "people.csv"
    job = {
        "name": "dump",
        "kind": "export",
        "source": {"table": "people", "order_by": ["id"]},
        "destination": {"path": str(destination)},
        "chunk_rows": 500,
    }
    config, db = setup(tmp_path, f"sqlite:///{tmp_path / 'jobmon.db'}", [job])
    with sqlite3.connect(tmp_path / "jobmon.db") as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", ((i, f"n{i}") for i in range(200_000)))
    destination.parent.mkdir()
    destination.write_text("the previous export\n")
    procs.append(Proc(config))
    assert jobmon(config, "start", "dump").returncode == 0

    def writing() -> bool:
        temporary = list(destination.parent.glob(".people.csv.*.tmp"))
        return bool(temporary) and temporary[0].stat().st_size > 100_000

    wait_until(writing, timeout=60, what="the export to be writing")
    procs[-1].signal(signal.SIGKILL)
    procs[-1].wait()
    assert destination.read_text() == "the previous export\n"
    procs.append(Proc(config))
    wait_status(db, "dump", Status.SERVER_STOPPED, timeout=30)
    assert jobmon(config, "start", "dump", "--wait", timeout=120).returncode == 0
    lines = destination.read_text().splitlines()
    assert lines[0] == "id,name" and len(lines) == 200_001 and lines[-1] == "199999,n199999"
    assert sorted(p.name for p in destination.parent.iterdir()) == ["people.csv"]
    db.dispose()
