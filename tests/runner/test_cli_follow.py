"""``jobmon journal JOB --follow`` as a user types it, on runs a real runner is executing."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import JournalEntry
from tests.e2e.procs import JOBMON, Proc, counting_job, jobmon, wait_status, write_config

pytestmark = pytest.mark.slow

# A job that writes a journal line every step and never ends by itself: whatever the follower
# prints before the test cancels the run, it printed while the run was running.
TICKER = """
import time


def tick(ctx):
    n = int((ctx.state or {}).get("n", 0))
    while True:
        n += 1
        ctx.journal("info", f"tick {n}")
        ctx.progress(1)
        time.sleep(0.05)
        ctx.checkpoint({"n": n})
"""


# Starts a command with Ctrl-C as a terminal gives it: a shell that runs the tests as a
# background job (`make test &`) starts them with SIGINT ignored, and every process they start
# inherits that, so Python would leave it ignored instead of raising KeyboardInterrupt.
AS_TYPED = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
]


class Follower:
    """``jobmon journal JOB --follow`` in a subprocess, its output read line by line."""

    def __init__(self, config: Path, *args: str) -> None:
        command = [*AS_TYPED, JOBMON, "--config", str(config), "journal", *args, "--follow"]
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, wanted: Callable[[str], bool], timeout: float = 30) -> list[str]:
        """The lines printed up to the first one ``wanted`` (fails at the end of output)."""
        seen: list[str] = []
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"output ended without the line wanted: {seen}"
            seen.append(line)
            if wanted(line):
                return seen

    def rest(self, timeout: float = 30) -> tuple[int, list[str], str]:
        """Exit code, the remaining lines and stderr once the command exits by itself."""
        code = self.popen.wait(timeout)
        lines: list[str] = []
        while (line := self.lines.get(timeout=timeout)) is not None:
            lines.append(line)
        assert self.popen.stderr is not None
        err = self.popen.stderr.read()
        self.stop()
        return code, lines, err

    def stop(self) -> None:
        """Kill it if it still runs, and close its pipes."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)
        self.reader.join(10)
        for pipe in (self.popen.stdout, self.popen.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def follow() -> Iterator[list[Follower]]:
    """Followers a test starts; any still running at the end are killed."""
    started: list[Follower] = []
    yield started
    for follower in started:
        follower.stop()


@pytest.fixture
def config(tmp_path: Path, db_url: str, procs: list[Proc], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ticking job and a short counting job, with a runner up for them."""
    (tmp_path / "ticker.py").write_text(TICKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the runner imports the ticker from there
    jobs = [
        {"name": "ticker", "kind": "python", "callable": "ticker:tick"},
        counting_job("count", total=10, delay=0.05),
    ]
    path = write_config(tmp_path / "c.yaml", db_url, jobs)
    procs.append(Proc(path))
    return path


def journal_lines(db: Database) -> int:
    """Journal lines stored so far, of every run."""
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(JournalEntry)) or 0)


def ticks(line: str) -> int | None:
    """The step of a ``tick N`` line printed by the follower, else None."""
    words = line.split()
    return int(words[-1]) if len(words) > 2 and words[-2] == "tick" else None


def test_follow_prints_lines_as_they_come_and_exits_when_the_run_ends(
    config: Path, db: Database, follow: list[Follower], procs: list[Proc]
) -> None:
    assert jobmon(config, "start", "ticker").returncode == 0
    wait_status(db, "ticker", Status.RUNNING)
    follow.append(Follower(config, "ticker"))
    seen = follow[0].until(lambda line: line.startswith("journal of"))
    assert seen == ["journal of ticker, run 1 (following; Ctrl-C stops)"]
    # It has read the lines so far; a tick numbered past every line now stored comes later.
    later = journal_lines(db)
    seen += follow[0].until(lambda line: (ticks(line) or 0) > later)
    assert follow[0].popen.poll() is None
    assert jobmon(config, "cancel", "ticker").returncode == 0
    code, rest, err = follow[0].rest()
    assert code == 0, err
    assert any("Status changed from Running to Canceling by user" in line for line in rest)
    assert rest[-2:] == [
        "ticker: run 1 ⊘ Canceled — stopped at a checkpoint",
        rest[-1],
    ]
    assert rest[-1].startswith("  ") and " records, 0 rejects in " in rest[-1]
    steps = [n for n in map(ticks, seen + rest) if n is not None]
    assert steps == list(range(steps[0], steps[-1] + 1))  # every line once, in order
    ended = [line for line in procs[0].output().splitlines() if "run ended:" in line]
    assert len(ended) == 1 and "job=ticker run=1 status=canceled " in ended[0]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_follow_json_lines_end_with_the_run_and_its_status(
    config: Path, db: Database, follow: list[Follower]
) -> None:
    assert jobmon(config, "start", "count").returncode == 0
    follow.append(Follower(config, "count", "--output", "json"))
    code, lines, err = follow[0].rest(timeout=60)
    assert code == 0, err
    *entries, end = [json.loads(line) for line in lines]
    messages = [entry["message"] for entry in entries]
    assert messages[0] == "Run created by user: jobmon start"
    assert messages[-2:] == ["counted to 10", "Status changed from Running to Finished by runner"]
    assert [entry["id"] for entry in entries] == sorted({entry["id"] for entry in entries})
    assert entries[0]["at"].endswith("+00:00")
    assert end["reason"] is None
    assert (end["number"], end["status"], end["records"], end["rejects"]) == (1, "finished", 10, 0)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_follow_stops_quietly_on_ctrl_c_and_the_run_goes_on(
    config: Path, db: Database, follow: list[Follower]
) -> None:
    assert jobmon(config, "start", "ticker").returncode == 0
    follow.append(Follower(config, "ticker"))
    follow[0].until(lambda line: ticks(line) is not None)
    follow[0].popen.send_signal(signal.SIGINT)
    code, _rest, err = follow[0].rest()
    assert code == 130
    assert "Traceback" not in err
    wait_status(db, "ticker", Status.RUNNING)  # only the follower stopped
    assert jobmon(config, "cancel", "ticker").returncode == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_follow_an_ended_run_prints_its_journal_and_its_end_at_once(
    config: Path, db: Database, follow: list[Follower]
) -> None:
    assert jobmon(config, "start", "count", "--wait", "--timeout", "60").returncode == 0
    follow.append(Follower(config, "count", "--limit", "1"))
    code, lines, err = follow[0].rest()
    assert code == 0, err
    assert lines[0] == "journal of count, run 1 (following; Ctrl-C stops)"
    assert lines[1].endswith("Status changed from Running to Finished by runner")
    assert lines[2] == "count: run 1 ✔ Finished"
    assert lines[3].startswith("  10 records, 0 rejects in ")
    assert len(lines) == 4
