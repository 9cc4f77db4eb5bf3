"""Fires from the config's schedules: APScheduler's triggers, read against the runner's clock.

APScheduler's triggers (cron, intervals on a fixed grid; see :mod:`runner.core.schedule`)
say *when* a job fires; the database decides *whether* a run is created: every runner fires
the same schedules, and the unique (job, fire time) key lets one run in. The runner asks for
due fires on each pass of its loop, with the clock it was given, so tests move time instead
of waiting for it. Fire times missed while the runner was busy or down are coalesced into
the latest one, as APScheduler does with ``coalesce=True``; a fire found more than the
misfire grace after its time is skipped (logged), so a runner that was stopped for a day
does not start yesterday's runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from runner.core import schedule as schedules
from runner.core.claims import Fire
from runner.core.clock import Clock, utcnow
from runner.core.config import JobBase

log = logging.getLogger(__name__)
MISFIRE_GRACE_SECONDS = 60


@dataclass
class _Entry:
    """One scheduled job: its trigger and its next fire time (None once it has no more)."""

    trigger: BaseTrigger
    next_at: datetime | None


class Scheduler:
    """The due fires and the next fire times of every scheduled job, by the given clock."""

    def __init__(
        self,
        jobs: Sequence[JobBase],
        *,
        clock: Clock = utcnow,
        misfire_grace_seconds: float = MISFIRE_GRACE_SECONDS,
    ) -> None:
        self.clock = clock
        self.grace = timedelta(seconds=misfire_grace_seconds)
        now = clock()
        self._entries: dict[str, _Entry] = {}
        for job in jobs:
            if job.schedule:
                trigger = schedules.parse(job.schedule)
                self._entries[job.name] = _Entry(trigger, _next(trigger, None, now))

    def due(self) -> list[Fire]:
        """The fires due since the last call: the latest missed time of each job."""
        now = self.clock()
        fires: list[Fire] = []
        for name, entry in self._entries.items():
            latest = None
            while entry.next_at is not None and entry.next_at <= now:
                latest = entry.next_at
                entry.next_at = _next(entry.trigger, latest, now)
            if latest is None:
                continue
            if now - latest > self.grace:
                log.warning("%s: fire at %s skipped: missed by %s", name, latest, now - latest)
                continue
            fires.append(Fire(name, latest))
        return fires

    def next_run_times(self) -> dict[str, datetime | None]:
        """Each scheduled job's next fire time (None once it has no more)."""
        return {name: entry.next_at for name, entry in self._entries.items()}

    def seconds_to_next(self) -> float | None:
        """Seconds until the soonest next fire (0 if one is due); None without schedules."""
        times = [e.next_at for e in self._entries.values() if e.next_at is not None]
        if not times:
            return None
        return max(0.0, (min(times) - self.clock()).total_seconds())


def _next(trigger: BaseTrigger, previous: datetime | None, now: datetime) -> datetime | None:
    """The trigger's fire time after ``previous`` (the first one from ``now`` without one)."""
    found = trigger.get_next_fire_time(previous, now)
    return found.astimezone(UTC) if isinstance(found, datetime) else None
