"""Excluded families and chosen buckets: what a plan reads, and its exposition against
prometheus-client's rendering of the served families alone, in both formats and under every
name escaping."""

from __future__ import annotations

import gzip
import random
from datetime import datetime

import pytest

from exporter.deflate import gzip_pieces, plain_pieces
from exporter.formats import Escaping, Format
from exporter.plan import EVERYTHING, Plan, plan
from exporter.reader import COUNTERS, PLAIN, Row
from exporter.render import SelfValues
from exporter.snapshot import JobSnapshot
from runner.core.metrics import DURATION_BUCKETS, METRICS, Scope
from tests.exporter import reference
from tests.exporter.expo import samples
from tests.exporter.reference import KeptRows
from tests.exporter.test_render import OWN, make_row

HISTOGRAM = "jobmon_job_run_duration_seconds"
EXCLUDABLE = [m.name for m in METRICS if m.excludable]
PLANS = {
    **{f"without-{name}": plan([name]) for name in EXCLUDABLE},
    "only-the-exporters-own": plan(["jobmon_*job*", "jobmon_journal_*"]),
    "only-the-histogram": plan([n for n in EXCLUDABLE if n != HISTOGRAM]),
    "only-the-job-counts": plan([n for n in EXCLUDABLE if n != "jobmon_jobs"]),
    "three-buckets": plan(buckets=[60, 600, 3600]),
    "no-bucket-but-inf": plan(["jobmon_job_status"], buckets=[]),
    "without-job-globs": plan(["jobmon_job_last_*", "jobmon_job_*_total", "jobmon_journal_*"]),
}


def rows_of(chosen: Plan, count: int, seed: int = 31) -> tuple[list[Row], list[Row]]:
    """The same random jobs read by ``chosen`` and by a plan that reads every column."""
    full = [make_row(random.Random(seed + i), i) for i in range(count)]
    mine = [make_row(random.Random(seed + i), i, chosen.columns) for i in range(count)]
    return full, mine


def rendered_pair(chosen: Plan, count: int = 25) -> tuple[KeptRows, KeptRows]:
    full_rows, rows = rows_of(chosen, count)
    full, mine = KeptRows(), KeptRows(chosen)
    full.update(full_rows)
    mine.update(rows)
    return full, mine


@pytest.mark.parametrize("escaping", list(Escaping))
@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("name", list(PLANS))
def test_plan_renders_the_served_families_as_prometheus_client(
    name: str, fmt: Format, escaping: Escaping
) -> None:
    chosen = PLANS[name]
    full, mine = rendered_pair(chosen)
    pieces = mine.pieces(fmt, OWN, escaping)
    expected = reference.reference(full.snapshots(), OWN, fmt, escaping, chosen)
    assert plain_pieces(pieces) == expected
    assert gzip.decompress(gzip_pieces(pieces)) == expected


@pytest.mark.parametrize("name", list(PLANS))
def test_plan_serves_none_of_the_excluded_series(name: str) -> None:
    chosen = PLANS[name]
    full, mine = rendered_pair(chosen, count=3)
    for fmt in Format:
        om = fmt is Format.OPENMETRICS
        everything = samples(plain_pieces(full.pieces(fmt, OWN)).decode(), openmetrics=om)
        served = samples(plain_pieces(mine.pieces(fmt, OWN)).decode(), openmetrics=om)
        assert served == {k: v for k, v in everything.items() if _kept(chosen, k[0], k[1])}


def _kept(chosen: Plan, sample: str, labels: frozenset[tuple[str, str]]) -> bool:
    names = {m.name for m in chosen.metrics}
    if sample.startswith(HISTOGRAM):
        bounds = {str(float(b)) for b in chosen.buckets} | {"+Inf"}
        return HISTOGRAM in names and dict(labels).get("le", "+Inf") in bounds
    return sample in names


def test_plan_reads_only_the_columns_of_served_families() -> None:
    assert EVERYTHING.columns.names == (*PLAIN, *COUNTERS)
    own = PLANS["only-the-exporters-own"]
    assert own.columns.names == ("id", "name")
    assert own.snapshot((7, "job-7")) == JobSnapshot("job-7")
    histogram = PLANS["only-the-histogram"].columns
    assert histogram.plain == ("id", "name", "duration_sum")
    buckets = tuple(f"duration_le_{b:g}" for b in DURATION_BUCKETS)
    assert histogram.counters == (*buckets, "duration_count")
    three = PLANS["three-buckets"].columns.counters
    assert [c for c in three if c.startswith("duration_")] == [
        "duration_le_60",
        "duration_le_600",
        "duration_le_3600",
        "duration_count",
    ]
    status = plan([n for n in EXCLUDABLE if n not in ("jobmon_jobs", "jobmon_job_status")])
    assert status.columns.names == ("id", "name", "run_status")


def test_plan_serves_the_exporters_own_families_before_any_read() -> None:
    renderer = KeptRows(PLANS["without-jobmon_jobs"])
    never = SelfValues(False, 0.5, 1, "1.2.3")
    text = plain_pieces(renderer.pieces(Format.TEXT, never)).decode()
    assert {name for name, _ in samples(text)} == {m.name for m in METRICS if m.scope is Scope.SELF}


def test_plan_after_changes_equals_a_fresh_render() -> None:
    chosen = PLANS["without-jobmon_job_heartbeat_timestamp_seconds"]
    rng = random.Random(8)
    rows = [make_row(rng, i, chosen.columns) for i in range(200)]
    renderer = KeptRows(chosen)
    renderer.update(rows)
    for step in range(4):
        for k in rng.sample(range(len(rows)), 3):
            when = datetime(2026, 3, 1, 0, step)
            rows[k] = make_row(rng, k, chosen.columns, last_start_at=when)
        renderer.update(rows)
        fresh = KeptRows(chosen)
        fresh.update(rows)
        for fmt in Format:
            assert plain_pieces(renderer.pieces(fmt, OWN)) == plain_pieces(fresh.pieces(fmt, OWN))
