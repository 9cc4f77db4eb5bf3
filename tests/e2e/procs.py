"""Real ``jobmon`` processes for process-level tests: configs, start, signals, polling."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.models import Job, Run

JOBMON = str(Path(sys.executable).with_name("jobmon"))
T = TypeVar("T")

FAST_RUNNER = {
    "heartbeat_seconds": 0.5,
    "stale_after_seconds": 3,
    "poll_seconds": 0.2,
    "shutdown_grace_seconds": 5,
    # These tests watch runs stay server_stopped; automatic restarts have tests of their own.
    "max_restarts": 0,
}


def write_config(path: Path, db_url: str, jobs: list[dict[str, Any]], **runner: Any) -> Path:
    """A config file for ``jobs`` on ``db_url`` with fast heartbeats and reaping."""
    config = {
        "database": {"url": db_url},
        "exporter": {"listen_address": "127.0.0.1:0"},
        "runner": {**FAST_RUNNER, "data_dirs": [str(path.parent)], **runner},
        "jobs": jobs,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def counting_job(name: str, total: int = 40, delay: float = 0.2, **extra: Any) -> dict[str, Any]:
    """A ``runner.examples:count`` job checkpointing every step of 1, ``delay`` s apart."""
    params = {"total": total, "step": 1, "delay": delay}
    return {"name": name, "kind": "python", "callable": "runner.examples:count",
            "params": params, **extra}  # fmt: skip


def jobmon(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a jobmon command to completion."""
    return subprocess.run([JOBMON, "--config", str(config), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


class Proc:
    """A long-running jobmon process (runner, exporter or both) with its output in a file."""

    def __init__(self, config: Path, command: str = "runner", *extra: str) -> None:
        self.log = config.with_name(f"{command}-{time.monotonic_ns()}.log")
        self._out = self.log.open("w")
        self.popen = subprocess.Popen([JOBMON, "--config", str(config), command, *extra],
                                      stdout=self._out, stderr=subprocess.STDOUT)  # fmt: skip

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait(self, timeout: float = 30) -> int:
        code = self.popen.wait(timeout)
        self._out.close()
        return code

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)
        self._out.close()


def wait_until(check: Callable[[], T | None], timeout: float = 30, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(0.1)


def latest_run(db: Database, job_name: str) -> Run | None:
    """The job's latest run as stored now."""
    with db.read() as session:
        job = session.query(Job).filter_by(name=job_name).one_or_none()
        if job is None or job.latest_run_id is None:
            return None
        return session.get(Run, job.latest_run_id)


def wait_status(db: Database, job_name: str, *statuses: Status, timeout: float = 30) -> Run:
    """Wait until the job's latest run is in one of ``statuses``."""
    wanted = {s.value for s in statuses}

    def check() -> Run | None:
        run = latest_run(db, job_name)
        return run if run is not None and run.status in wanted else None

    return wait_until(check, timeout, f"{job_name} to be {'/'.join(sorted(wanted))}")
