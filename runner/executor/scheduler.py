"""Fires from the config's schedules, computed by APScheduler with an in-memory job store.

APScheduler only says *when* a job fires; the database decides *whether* a run is created:
every runner fires the same schedules, and the unique (job, fire time) key lets one run in.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from runner.core import schedule as schedules
from runner.core.claims import Fire
from runner.core.config import JobBase

log = logging.getLogger(__name__)


def _fired() -> None:
    """APScheduler needs a callable; the fire itself is handled by the submission listener."""


class Scheduler:
    """Turns schedules into :class:`Fire` items on a queue that the runner drains."""

    def __init__(self, jobs: Sequence[JobBase], *, misfire_grace_seconds: int = 60) -> None:
        self.fires: queue.Queue[Fire] = queue.Queue()
        self._aps = BackgroundScheduler(timezone=UTC)
        self._aps.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        for job in jobs:
            if job.schedule:
                self._aps.add_job(
                    _fired,
                    schedules.parse(job.schedule),
                    id=job.name,
                    name=job.name,
                    coalesce=True,
                    max_instances=1,
                    misfire_grace_time=misfire_grace_seconds,
                )

    def start(self) -> None:
        """Start computing fire times in a background thread."""
        self._aps.start()

    def shutdown(self) -> None:
        """Stop firing."""
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def next_run_times(self) -> dict[str, datetime | None]:
        """Each scheduled job's next fire time (None once it has no more)."""
        return {job.id: _aware(job.next_run_time) for job in self._aps.get_jobs()}

    def drain(self) -> list[Fire]:
        """The fires that happened since the last call."""
        fired: list[Fire] = []
        while True:
            try:
                fired.append(self.fires.get_nowait())
            except queue.Empty:
                return fired

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        # With coalesce=True, missed fires arrive as one: the latest due time.
        self.fires.put(Fire(event.job_id, _aware(event.scheduled_run_times[-1])))


def _aware(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value
