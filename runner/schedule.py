"""Schedule strings: five-field cron (``*/5 * * * *``), ``@every 30s`` and ``@hourly``-style
shortcuts, turned into APScheduler triggers. Times are UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

SHORTCUTS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
_EVERY = re.compile(r"@every\s+(\d+)\s*(s|m|h)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# Interval schedules count from a fixed origin, so every runner computes the same fire times
# and the database's unique (job, fire time) key makes exactly one run per fire.
INTERVAL_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class ScheduleError(ValueError):
    """A schedule string that cannot be parsed."""


def parse(schedule: str) -> BaseTrigger:
    """The trigger for ``schedule``, or :class:`ScheduleError` saying what is wrong."""
    text = schedule.strip()
    every = _EVERY.fullmatch(text)
    if every:
        seconds = int(every.group(1)) * _UNIT_SECONDS[every.group(2)]
        if seconds < 1:
            raise ScheduleError(f'invalid interval "{schedule}": must be at least 1s')
        return IntervalTrigger(seconds=seconds, start_date=INTERVAL_ORIGIN, timezone=UTC)
    if text.startswith("@every"):
        raise ScheduleError(f'invalid interval "{schedule}": use "@every N" with s, m or h')
    expression = SHORTCUTS.get(text, text)
    if len(expression.split()) != 5:
        raise ScheduleError(f'invalid cron expression "{schedule}": expected 5 fields')
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ScheduleError(f'invalid cron expression "{schedule}": {exc}') from None
