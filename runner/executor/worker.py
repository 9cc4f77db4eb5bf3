"""The runner: fires schedules, claims runs, executes them, heartbeats, reaps stale runs.

Runs execute in daemon threads. On SIGTERM/SIGINT the runner stops claiming, each active run
stops at its next checkpoint as ``server_stopped``, and runs that reach no checkpoint within
the shutdown grace are marked ``server_stopped`` under their claim, which also fences off any
late write from their thread.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from runner.core import catalog, chaining, claims, lifecycle, presence, retention, views
from runner.core.clock import Clock, utcnow
from runner.core.config import Config
from runner.core.fencing import Fence, LostClaim
from runner.core.lifecycle import TransitionError
from runner.core.states import Cause, Status
from runner.core.storage.db import Database
from runner.core.storage.errors import DB_ERRORS, describe
from runner.core.storage.models import Job, Run
from runner.executor.execute import execute, log_end
from runner.executor.scheduler import Scheduler

log = logging.getLogger(__name__)
T = TypeVar("T")


def default_runner_id() -> str:
    """``host:pid``: unique among live runners, readable in the journal."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Active:
    """A run this runner is executing."""

    fence: Fence
    job_name: str
    thread: threading.Thread
    done: threading.Event = field(default_factory=threading.Event)


class Runner:
    """One runner process's loop; ``stop()`` (or a signal) ends it cleanly."""

    def __init__(self, config: Config, db: Database, *, clock: Clock = utcnow) -> None:
        self.config, self.db, self.clock = config, db, clock
        self.settings = config.runner
        self.runner_id = self.settings.id or default_runner_id()
        self.stopping = threading.Event()
        self.active: dict[int, Active] = {}
        self.scheduler = Scheduler(config.jobs, clock=clock)
        self.jobs = {job.name: job for job in config.jobs}
        self.job_ids: dict[str, int] = {}
        self._next_runs: dict[str, datetime | None] = {}
        self._last_heartbeat = 0.0
        self._last_retention = 0.0
        self._db_down = False

    def stop(self) -> None:
        """Ask the loop to stop (safe from a signal handler)."""
        self.stopping.set()

    def prepare(self) -> None:
        """Bring the jobs table in step with the config (waiting out a database outage)."""
        self.job_ids = self._until_ok(lambda: catalog.sync_jobs(self.db, self.config.jobs))

    def run(self) -> None:
        """Run until stopped."""
        self.prepare()
        log.info("runner %s started with %d jobs", self.runner_id, len(self.jobs))
        try:
            while not self.stopping.is_set():
                self.tick()
                self.stopping.wait(self._pause())
        finally:
            self._shut_down()

    def tick(self) -> None:
        """One pass: fired and chained runs, heartbeats, reaping, claiming, retention."""
        try:
            self._tick()
        except DB_ERRORS as exc:
            self._database_error(exc)
            return
        except Exception:
            # One bad pass must not take the runner (and every run it holds) down.
            log.exception("runner pass failed; retrying at the next poll")
            return
        if self._db_down:
            log.warning("database reachable again at %s", self.db.safe_url)
            self._db_down = False

    def _tick(self) -> None:
        now = self.clock()
        for line in claims.create_fired_runs(self.db, self.scheduler.due(), now):
            log.info("%s", line)
        for line in chaining.create_chained_runs(self.db, self._chained_ids(), now):
            log.info("%s", line)
        self._reap_finished_threads()
        self._heartbeat(now)
        for line in claims.reap_stale(self.db, self.settings.stale_after_seconds, now):
            log.warning("%s", line)
        restarts = self.settings.max_restarts if not self.stopping.is_set() else 0
        for line in claims.restart_stopped(self.db, self.job_ids.values(), restarts, now):
            log.info("%s", line)
        self._write_next_runs()
        while not self.stopping.is_set() and len(self.active) < self.settings.concurrency:
            if not self._claim_one():
                break
        self._retention(now)

    def _chained_ids(self) -> list[int]:
        """The ids of the jobs that run after another job."""
        return [
            self.job_ids[j.name] for j in self.config.jobs if j.after and j.name in self.job_ids
        ]

    def _pause(self) -> float:
        """Seconds until the next pass: the poll interval, shorter if a fire is due sooner."""
        to_fire = self.scheduler.seconds_to_next()
        poll = self.settings.poll_seconds
        return poll if to_fire is None else min(poll, to_fire + 0.01)

    def _claim_one(self) -> bool:
        fence = claims.claim_next(self.db, self.job_ids.values(), self.runner_id, self.clock())
        if fence is None:
            return False
        name = self._job_name(fence.run_id)
        thread = threading.Thread(
            target=self._execute, args=(fence, name), name=f"run-{fence.run_id}", daemon=True
        )
        self.active[fence.run_id] = Active(fence, name, thread)
        log.info("%s claimed (attempt %d)", self._run_name(fence.run_id), fence.attempt)
        thread.start()
        return True

    def _run_name(self, run_id: int) -> str:
        with self.db.read() as session:
            return views.run_name(session, run_id)

    def _job_name(self, run_id: int) -> str:
        with self.db.read() as session:
            run = session.get(Run, run_id)
            assert run is not None, "a claimed run exists"
        return next(name for name, jid in self.job_ids.items() if jid == run.job_id)

    def _execute(self, fence: Fence, job_name: str) -> None:
        try:  # execute() logs how the run ended
            execute(
                self.db,
                self.jobs[job_name],
                fence,
                self.clock,
                stopping=self.stopping,
                data_dirs=self._data_dirs(),
                config=self.config,
            )
        except Exception:
            log.exception("%s could not be executed", self._run_name(fence.run_id))
        finally:
            self.active[fence.run_id].done.set()

    def _data_dirs(self) -> tuple[str, ...]:
        return tuple(str(Path(d).resolve()) for d in self.settings.data_dirs)

    def _reap_finished_threads(self) -> None:
        for run_id in [rid for rid, a in self.active.items() if a.done.is_set()]:
            del self.active[run_id]

    def _heartbeat(self, _now: datetime) -> None:
        monotonic = _monotonic()
        if monotonic - self._last_heartbeat < self.settings.heartbeat_seconds:
            return
        presence.beat(self.db, self.runner_id, self.clock())
        fences = [a.fence for a in self.active.values() if not a.done.is_set()]
        if fences:
            for fence in claims.heartbeat(self.db, fences, self.clock()):
                log.warning("run %d: claim lost (reaped or taken over)", fence.run_id)
        self._last_heartbeat = monotonic

    def _write_next_runs(self) -> None:
        next_runs = self.scheduler.next_run_times()
        if next_runs != self._next_runs:
            catalog.set_next_runs(self.db, next_runs)
            self._next_runs = next_runs

    def _retention(self, now: datetime) -> None:
        monotonic = _monotonic()
        if monotonic - self._last_retention < self.settings.retention.interval_seconds:
            return
        self._last_retention = monotonic
        pruned = retention.prune(self.db, self.settings.retention.days, now)
        if pruned:
            log.info(
                "retention: pruned %d runs older than %g days", pruned, self.settings.retention.days
            )

    def _database_error(self, exc: Exception) -> None:
        if not self._db_down:
            log.error(
                "database unavailable at %s: %s",
                self.db.safe_url,
                self.db.redact(describe(exc)),
            )
        self._db_down = True

    def _until_ok(self, action: Callable[[], T]) -> T:
        while True:
            try:
                return action()
            except DB_ERRORS as exc:
                self._database_error(exc)
                if self.stopping.wait(self.settings.poll_seconds):
                    raise SystemExit(0) from None

    def _shut_down(self) -> None:
        grace = self.settings.shutdown_grace_seconds
        deadline = _monotonic() + grace
        for active in list(self.active.values()):
            active.done.wait(max(0.0, deadline - _monotonic()))
        for active in self.active.values():
            if not active.done.is_set():
                self._stop_unfinished(active)
        try:
            presence.depart(self.db, self.runner_id)
        except DB_ERRORS as exc:  # its heartbeat goes stale instead
            log.warning("runner %s: %s", self.runner_id, describe(exc))
        log.info("runner %s stopped", self.runner_id)

    def _stop_unfinished(self, active: Active) -> None:
        reason = "runner shut down before the run reached a checkpoint"
        try:
            with self.db.write() as session:
                lifecycle.transition(
                    session,
                    active.fence.run_id,
                    Status.SERVER_STOPPED,
                    cause=Cause.RUNNER,
                    now=self.clock(),
                    fence=active.fence,
                    reason=reason,
                )
        except (LostClaim, TransitionError, *DB_ERRORS) as exc:
            log.warning("run %d: %s", active.fence.run_id, exc)
            return
        log_end(self.db, active.fence.run_id)


def _monotonic() -> float:
    return time.monotonic()


def run_once(config: Config, db: Database, job_name: str, *, clock: Clock = utcnow) -> Status:
    """Create a run of ``job_name``, claim it and execute it in this thread: the final status."""
    ids = catalog.sync_jobs(db, config.jobs)
    with db.write() as session:
        job = session.get(Job, ids[job_name])
        assert job is not None
        run = lifecycle.create_run(session, job, cause=Cause.USER, now=clock())
        assert run is not None
    runner_id = config.runner.id or default_runner_id()
    fence = claims.claim_run(db, run.id, runner_id, clock())
    data_dirs = tuple(str(Path(d).resolve()) for d in config.runner.data_dirs)
    return execute(db, config.job(job_name), fence, clock, data_dirs=data_dirs, config=config)
