"""Schedule strings: cron, ``@every`` intervals on a fixed grid, shortcuts, and bad ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from runner.core import schedule
from runner.core.schedule import INTERVAL_ORIGIN, ScheduleError

NOW = datetime(2026, 3, 11, 12, 3, 10, 250_000, tzinfo=UTC)  # a Wednesday


def next_fire(text: str, now: datetime = NOW) -> datetime:
    fire = schedule.parse(text).get_next_fire_time(None, now)
    assert isinstance(fire, datetime)
    return fire.astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*/5 * * * *", datetime(2026, 3, 11, 12, 5, tzinfo=UTC)),
        ("30 2 * * *", datetime(2026, 3, 12, 2, 30, tzinfo=UTC)),
        ("0 9 * * 1-5", datetime(2026, 3, 12, 9, 0, tzinfo=UTC)),
        ("0 0 * * 0", datetime(2026, 3, 15, 0, 0, tzinfo=UTC)),  # crontab's 0 is Sunday
        ("0 0 * * 7", datetime(2026, 3, 15, 0, 0, tzinfo=UTC)),  # and so is 7
        ("0 0 * * 1", datetime(2026, 3, 16, 0, 0, tzinfo=UTC)),
        ("0 0 * * sat", datetime(2026, 3, 14, 0, 0, tzinfo=UTC)),
        ("0 0 * * 4,SUN", datetime(2026, 3, 12, 0, 0, tzinfo=UTC)),
        ("@hourly", datetime(2026, 3, 11, 13, 0, tzinfo=UTC)),
        ("@daily", datetime(2026, 3, 12, 0, 0, tzinfo=UTC)),
        ("@midnight", datetime(2026, 3, 12, 0, 0, tzinfo=UTC)),
        ("@weekly", datetime(2026, 3, 15, 0, 0, tzinfo=UTC)),  # Sunday
        ("@monthly", datetime(2026, 4, 1, 0, 0, tzinfo=UTC)),
        ("  @hourly ", datetime(2026, 3, 11, 13, 0, tzinfo=UTC)),
    ],
)
def test_parse_cron_and_shortcuts_in_utc(text: str, expected: datetime) -> None:
    assert next_fire(text) == expected


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0,6", ["Sat", "Sun"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("0-6", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("*/2", ["Tue", "Thu", "Sat", "Sun"]),
        ("1-5/2", ["Mon", "Wed", "Fri"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ],
)
def test_parse_cron_days_of_week_count_from_sunday(field: str, days: list[str]) -> None:
    trigger = schedule.parse(f"0 0 * * {field}")
    fired: set[str] = set()
    fire = trigger.get_next_fire_time(None, NOW)
    for _ in range(14):
        fired.add(fire.strftime("%a"))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert sorted(fired) == sorted(days)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("@every 30s", 30), ("@every 5m", 300), ("@every 1h", 3600), ("@every 7 s", 7)],
)
def test_parse_every_fires_on_a_grid_from_a_fixed_origin(text: str, seconds: int) -> None:
    fire = next_fire(text)
    assert timedelta(0) < fire - NOW <= timedelta(seconds=seconds)
    assert (fire - INTERVAL_ORIGIN).total_seconds() % seconds == 0


def test_parse_every_gives_two_runners_the_same_times() -> None:
    # Two runners started 11 s apart, in different local time zones, parse the schedule
    # separately: they compute the same fire times, so the database's fire key matches.
    first = schedule.parse("@every 30s")
    second = schedule.parse("@every 30s")
    later = (NOW + timedelta(seconds=11)).astimezone(timezone(timedelta(hours=-5)))
    a = first.get_next_fire_time(None, NOW)
    b = second.get_next_fire_time(None, later)
    assert a == b == datetime(2026, 3, 11, 12, 3, 30, tzinfo=UTC)
    assert first.get_next_fire_time(a, a) == a + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*/61 * * * *", 'invalid cron expression "*/61 * * * *": Error validating'),
        ("61 * * * *", 'invalid cron expression "61 * * * *": Error validating'),
        ("* * *", 'invalid cron expression "* * *": expected 5 fields'),
        ("* * * * * *", 'invalid cron expression "* * * * * *": expected 5 fields'),
        ("", 'invalid cron expression "": expected 5 fields'),
        ("@yearly", 'invalid cron expression "@yearly": expected 5 fields'),
        ("0 0 * * 8", "invalid cron expression \"0 0 * * 8\": invalid day of week '8'"),
        ("0 0 * * 5-1", "invalid cron expression \"0 0 * * 5-1\": invalid day of week '5-1'"),
        ("0 0 * * 3/2", "invalid cron expression \"0 0 * * 3/2\": invalid day of week '3/2'"),
        ("0 0 * * */0", "invalid cron expression \"0 0 * * */0\": invalid day of week '*/0'"),
        ("@every 0s", 'invalid interval "@every 0s": must be at least 1s'),
        ("@every", 'invalid interval "@every": use "@every N" with s, m or h'),
        ("@every 5x", 'invalid interval "@every 5x": use "@every N" with s, m or h'),
        ("@every -5s", 'invalid interval "@every -5s": use "@every N" with s, m or h'),
        ("@every 1.5m", 'invalid interval "@every 1.5m": use "@every N" with s, m or h'),
    ],
)
def test_parse_bad_schedules(text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as error:
        schedule.parse(text)
    assert str(error.value).startswith(message), str(error.value)


def test_parse_every_with_offset_shifts_the_grid() -> None:
    trigger = schedule.parse("@every 30s offset 15s")
    start = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, start) == datetime(2026, 1, 1, 0, 0, 15, tzinfo=UTC)


def test_parse_every_offset_must_be_below_the_interval() -> None:
    with pytest.raises(ScheduleError, match="offset must be below the interval"):
        schedule.parse("@every 30s offset 30s")


def test_parse_cron_with_day_of_month_and_weekday_fires_on_either() -> None:
    trigger = schedule.parse("0 9 1 * 1")  # the 1st of the month, and every Monday
    fires = []
    now = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # Monday 1 June, after 09:00
    for _ in range(3):
        nxt = trigger.get_next_fire_time(None, now)
        fires.append(nxt)
        now = nxt + timedelta(seconds=1)
    assert fires == [
        datetime(2026, 6, 8, 9, 0, tzinfo=UTC),  # Monday
        datetime(2026, 6, 15, 9, 0, tzinfo=UTC),  # Monday
        datetime(2026, 6, 22, 9, 0, tzinfo=UTC),  # Monday
    ]
    assert trigger.get_next_fire_time(None, datetime(2026, 6, 30, tzinfo=UTC)) == datetime(
        2026, 7, 1, 9, 0, tzinfo=UTC
    )  # Wednesday 1 July: the day of the month alone
