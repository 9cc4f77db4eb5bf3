"""Schedules read against an injected clock: fire keys, shared fire times, coalescing, grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from runner.core.claims import Fire
from runner.core.schedule import INTERVAL_ORIGIN
from runner.executor.scheduler import Scheduler
from tests.runner.support import python_job

T = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """A clock that stays where the test puts it."""

    def __init__(self, now: datetime = T) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_fire_key_is_the_utc_time_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    fire = Fire("job", datetime(2026, 3, 1, 13, 30, 5, 999_999, tzinfo=paris))
    assert fire.key == "2026-03-01T12:30:05Z"
    assert Fire("job", datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)).key == fire.key


def test_scheduler_next_run_times_agree_between_runners() -> None:
    jobs = (
        python_job("every", schedule="@every 1h"),
        python_job("daily", schedule="@daily"),
        python_job("by-hand"),
    )
    first = Scheduler(jobs, clock=Clock(T + timedelta(minutes=7)))
    second = Scheduler(jobs, clock=Clock(T + timedelta(minutes=41)))

    times = first.next_run_times()
    assert set(times) == {"every", "daily"}
    assert times == second.next_run_times()
    assert times["every"] == T + timedelta(hours=1)
    assert times["daily"] == datetime(2026, 1, 2, tzinfo=UTC)
    every = times["every"]
    assert every is not None and (every - INTERVAL_ORIGIN).total_seconds() % 3600 == 0
    assert first.due() == []


def test_scheduler_fires_each_time_the_clock_passes_a_fire_time() -> None:
    clock = Clock(T + timedelta(milliseconds=300))
    scheduler = Scheduler([python_job("fast", schedule="@every 2s")], clock=clock)
    assert scheduler.due() == []
    assert scheduler.seconds_to_next() == 1.7

    clock.advance(1.7)
    assert scheduler.due() == [Fire("fast", T + timedelta(seconds=2))]
    assert scheduler.due() == [], "a fire is given once"
    clock.advance(2)
    assert scheduler.due() == [Fire("fast", T + timedelta(seconds=4))]
    assert scheduler.next_run_times() == {"fast": T + timedelta(seconds=6)}


def test_scheduler_fires_at_once_when_started_on_a_fire_time() -> None:
    scheduler = Scheduler([python_job("j", schedule="@every 10s")], clock=Clock(T))
    assert scheduler.seconds_to_next() == 0
    assert scheduler.due() == [Fire("j", T)]


def test_scheduler_coalesces_missed_fires_into_the_latest() -> None:
    clock = Clock(T + timedelta(seconds=1))
    scheduler = Scheduler([python_job("j", schedule="@every 5s")], clock=clock)
    clock.advance(22)  # fires at :05, :10, :15 and :20 went by
    assert scheduler.due() == [Fire("j", T + timedelta(seconds=20))]
    assert scheduler.next_run_times() == {"j": T + timedelta(seconds=25)}


def test_scheduler_skips_a_fire_found_past_the_misfire_grace() -> None:
    clock = Clock(T + timedelta(seconds=1))
    scheduler = Scheduler(
        [python_job("j", schedule="*/5 * * * *")], clock=clock, misfire_grace_seconds=60
    )
    clock.advance(5 * 60 + 30)  # the 12:05 fire is 31 s late: within the grace
    assert scheduler.due() == [Fire("j", T + timedelta(minutes=5))]
    clock.advance(11 * 60)  # 12:10 and 12:15 went by; 12:15 is 91 s late
    assert scheduler.due() == []
    assert scheduler.next_run_times() == {"j": T + timedelta(minutes=20)}


def test_scheduler_offsets_shift_fires_on_the_interval_grid() -> None:
    clock = Clock(T + timedelta(seconds=1))
    jobs = [
        python_job("load", schedule="@every 30s"),
        python_job("x", schedule="@every 30s offset 15s"),
    ]
    scheduler = Scheduler(jobs, clock=clock)
    clock.advance(20)
    assert scheduler.due() == [Fire("x", T + timedelta(seconds=15))]
    clock.advance(9)
    assert scheduler.due() == [Fire("load", T + timedelta(seconds=30))]


def test_scheduler_without_schedules_has_nothing_to_wait_for() -> None:
    scheduler = Scheduler([python_job("by-hand")], clock=Clock())
    assert (scheduler.due(), scheduler.next_run_times(), scheduler.seconds_to_next()) == (
        [],
        {},
        None,
    )
