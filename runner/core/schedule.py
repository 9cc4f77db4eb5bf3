"""Schedule strings: five-field cron (``*/5 * * * *``), ``@every 30s`` and ``@hourly``-style
shortcuts, turned into APScheduler triggers. Times are UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

SHORTCUTS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
}
# "@every 30s", optionally shifted on its grid: "@every 30s offset 15s" fires at :15 and :45,
# so jobs that share a resource do not start together. (A job that needs another's output
# runs ``after:`` it instead: an offset cannot know when the other job is done.)
_EVERY = re.compile(r"@every\s+(\d+)\s*(s|m|h)(?:\s+offset\s+(\d+)\s*(s|m|h))?")
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
        offset = int(every.group(3) or 0) * _UNIT_SECONDS[every.group(4) or "s"]
        if offset >= seconds:
            raise ScheduleError(f'invalid interval "{schedule}": offset must be below the interval')
        start = INTERVAL_ORIGIN + timedelta(seconds=offset)
        return IntervalTrigger(seconds=seconds, start_date=start, timezone=UTC)
    if text.startswith("@every"):
        raise ScheduleError(f'invalid interval "{schedule}": use "@every N" with s, m or h')
    fields = SHORTCUTS.get(text, text).split()
    if len(fields) != 5:
        raise ScheduleError(f'invalid cron expression "{schedule}": expected 5 fields')
    minute, hour, day, month, weekdays = fields
    try:
        days = _weekday_names(weekdays)
        if day != "*" and weekdays != "*":
            # Cron fires when EITHER day field matches ("0 9 1 * 1": the 1st and every
            # Monday); an APScheduler CronTrigger would require both.
            return OrTrigger(
                [_cron(minute, hour, month, day=day), _cron(minute, hour, month, day_of_week=days)]
            )
        return _cron(minute, hour, month, day=day, day_of_week=days)
    except ValueError as exc:
        raise ScheduleError(f'invalid cron expression "{schedule}": {exc}') from None


def _cron(minute: str, hour: str, month: str, **days: str) -> CronTrigger:
    return CronTrigger(minute=minute, hour=hour, month=month, timezone=UTC, **days)


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_PART = re.compile(r"(\*|\w+)(?:-(\w+))?(?:/(\d+))?")


def _weekday_names(field: str) -> str:
    """Crontab's day-of-week field (0 or 7 is Sunday) as day names for APScheduler 3.

    APScheduler 3 numbers days from Monday (its from_crontab says so), so "1-5" would run
    Tuesday to Saturday: name the days instead.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        match = _WEEKDAY_PART.fullmatch(part.lower())
        if match is None:
            raise ValueError(f"invalid day of week {part!r}")
        first, last, step = match.groups()
        if first == "*":
            low, high = 0, 6
        else:
            low, high = _day(first), _day(last or first)
        # "*-1", "5-1", "*/0" and the ambiguous "3/2" (no range before the step) are refused.
        single = first != "*" and last is None
        if (first == "*" and last) or low > high or (step and (single or int(step) < 1)):
            raise ValueError(f"invalid day of week {part!r}")
        days.update(day % 7 for day in range(low, high + 1, int(step or 1)))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day(token: str) -> int:
    if token in _DAYS:
        return _DAYS.index(token)
    if token.isdigit() and int(token) <= 7:
        return int(token)
    raise ValueError(f"invalid day of week {token!r}: use 0-7 (0 and 7 are Sunday) or sun-sat")
