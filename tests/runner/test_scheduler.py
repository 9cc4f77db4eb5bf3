"""The in-memory APScheduler: fire keys, next fire times shared by runners, fires on a queue."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runner.core.claims import Fire
from runner.core.config import JobBase
from runner.core.schedule import INTERVAL_ORIGIN
from runner.executor.scheduler import Scheduler
from tests.runner.support import python_job


def test_fire_key_is_the_utc_time_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    fire = Fire("job", datetime(2026, 3, 1, 13, 30, 5, 999_999, tzinfo=paris))
    assert fire.key == "2026-03-01T12:30:05Z"
    assert Fire("job", datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)).key == fire.key


@pytest.fixture
def schedulers() -> Iterator[list[Scheduler]]:
    started: list[Scheduler] = []
    yield started
    for scheduler in started:
        scheduler.shutdown()


def _start(schedulers: list[Scheduler], *jobs: JobBase) -> Scheduler:
    scheduler = Scheduler(list(jobs))
    scheduler.start()
    schedulers.append(scheduler)
    return scheduler


def test_scheduler_next_run_times_agree_between_runners(schedulers: list[Scheduler]) -> None:
    jobs = (
        python_job("every", schedule="@every 1h"),
        python_job("daily", schedule="@daily"),
        python_job("by-hand"),
    )
    first = _start(schedulers, *jobs)
    second = _start(schedulers, *jobs)

    times = first.next_run_times()
    assert set(times) == {"every", "daily"}
    assert times == second.next_run_times()
    every, daily = times["every"], times["daily"]
    assert every is not None and daily is not None
    assert (every - INTERVAL_ORIGIN).total_seconds() % 3600 == 0
    assert (daily.hour, daily.minute, daily.second, daily.tzinfo) == (0, 0, 0, UTC)
    assert first.drain() == []


def test_scheduler_puts_fires_on_its_queue(schedulers: list[Scheduler]) -> None:
    scheduler = _start(schedulers, python_job("fast", schedule="@every 1s"))
    fires: list[Fire] = []
    deadline = time.monotonic() + 10
    while len(fires) < 2 and time.monotonic() < deadline:
        fires += scheduler.drain()
        time.sleep(0.05)

    assert len(fires) >= 2, "two fires within 10 s of a 1 s schedule"
    assert {f.job_name for f in fires} == {"fast"}
    assert all(f.at.microsecond == 0 and f.at.tzinfo is not None for f in fires)
    assert fires[1].at - fires[0].at == timedelta(seconds=1)
    assert len({f.key for f in fires}) == len(fires)
