"""The renderer against prometheus-client's own rendering of the same families."""

from __future__ import annotations

import gzip
import random
from datetime import datetime
from typing import Any

import pytest

from exporter.deflate import gzip_pieces, plain_pieces
from exporter.formats import Escaping, Format, spelling
from exporter.reader import COUNTERS, FULL, ID, NAME, Layout, Row
from exporter.render import SelfValues
from runner.core.metrics import METRICS, Type
from tests.exporter import reference
from tests.exporter.expo import samples
from tests.exporter.reference import KeptRows
from tests.spec import METRIC_NAMES

OWN = SelfValues(
    database_up=True, duration=0.0123456789, errors=3, version="1.2.3", last_read=1767225600.5
)


def make_row(rng: random.Random, job_id: int, columns: Layout = FULL, **values: Any) -> Row:
    """A scrape row of ``columns`` with random but consistent values (cumulative buckets);
    the values drawn are the same whatever the columns."""
    counts: dict[str, int] = {}
    for name in COUNTERS:
        if name.startswith(("entered_", "rejects_", "journal_", "runs_", "records_")):
            counts[name] = rng.choice([0, 1, 7, 999_999, 1_000_000, 12_345_678_901])
    bucket = 0
    for name in COUNTERS:
        if name.startswith("duration_le_"):
            bucket += rng.randint(0, 3)
            counts[name] = bucket
    counts["duration_count"] = bucket + rng.randint(0, 2)
    row: dict[str, Any] = {
        "id": job_id,
        "name": f"job-{job_id:04d}",
        "kind": rng.choice(["python", "csv_import"]),
        "schedule": rng.choice(["", "*/5 * * * *", '@every "1m"', "back\\slash", "new\nline"]),
        "after": rng.choice([None, "job-0001", 'quote " here']),
        "max_rejects": rng.choice([None, 0, 10]),
        "max_duration_seconds": rng.choice([None, 3600.0, 0.5]),
        "next_run_at": rng.choice([None, "2026-01-15 08:00:00.123456", datetime(2026, 2, 1)]),
        "run_status": rng.choice([None, "running", "finished_with_errors", "paused"]),
        "run_rejects": rng.choice([None, 0, 3]),
        "heartbeat_at": rng.choice([None, datetime(2026, 1, 15, 8, 0, 1, 999999)]),
        "duration_sum": rng.choice([0.0, 42.5, 1e-7, 123456789.125]),
        "last_start_at": rng.choice([None, "2026-01-15 07:59:00"]),
        "last_success_at": None,
        "last_failure_at": rng.choice([None, datetime(2025, 12, 31, 23, 59, 59)]),
        **counts,
    }
    row.update(values)
    packed = [",".join(str(row[c]) for c in columns.counters)] if columns.counters else []
    return (*(row[c] for c in columns.plain), *packed)


def expected(
    renderer: KeptRows,
    fmt: Format,
    own: SelfValues = OWN,
    escaping: Escaping = Escaping.UNDERSCORES,
) -> bytes:
    return reference.reference(renderer.snapshots(), own, fmt, escaping)


def rendered(
    renderer: KeptRows,
    fmt: Format,
    own: SelfValues = OWN,
    escaping: Escaping = Escaping.UNDERSCORES,
) -> bytes:
    return plain_pieces(renderer.pieces(fmt, own, escaping))


def assert_same_as_reference(renderer: KeptRows, own: SelfValues = OWN) -> None:
    for fmt in Format:
        mine = rendered(renderer, fmt, own)
        assert mine == expected(renderer, fmt, own)
        assert gzip.decompress(gzip_pieces(renderer.pieces(fmt, own))) == mine
        assert samples(mine.decode(), openmetrics=fmt is Format.OPENMETRICS)


def test_metrics_table_has_spec_names_in_order() -> None:
    assert [m.name for m in METRICS] == list(METRIC_NAMES)


def test_metrics_table_lists_labels_sorted() -> None:
    # The renderer writes labels in table order; prometheus-client sorts them by name.
    for metric in METRICS:
        assert list(metric.labels) == sorted(metric.labels), metric.name


def test_render_matches_prometheus_client_byte_for_byte() -> None:
    rng = random.Random(7)
    renderer = KeptRows()
    renderer.update([make_row(rng, i) for i in range(60)])
    assert_same_as_reference(renderer)


@pytest.mark.parametrize("escaping", list(Escaping))
@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize(
    "own",
    [OWN, SelfValues(False, 0.5, 1, "x", last_read=OWN.last_read), SelfValues(False, 0.5, 1, "x")],
    ids=["database-up", "database-down", "never-read"],
)
def test_render_spells_names_like_prometheus_client_under_every_escaping(
    fmt: Format, escaping: Escaping, own: SelfValues
) -> None:
    renderer = KeptRows()
    renderer.update([make_row(random.Random(11), i) for i in range(30)])
    mine = rendered(renderer, fmt, own, escaping)
    assert mine == expected(renderer, fmt, own, escaping)
    assert gzip.decompress(gzip_pieces(renderer.pieces(fmt, own, escaping))) == mine


@pytest.mark.parametrize(
    ("fmt", "escaping", "plain"),
    [
        (Format.TEXT, Escaping.UNDERSCORES, True),
        (Format.OPENMETRICS, Escaping.ALLOW_UTF8, True),
        (Format.TEXT, Escaping.VALUES, True),
        (Format.OPENMETRICS, Escaping.VALUES, False),
        (Format.TEXT, Escaping.DOTS, False),
    ],
)
def test_only_escapings_that_change_names_render_again(
    fmt: Format, escaping: Escaping, plain: bool
) -> None:
    assert spelling(fmt, escaping).plain is plain
    renderer = KeptRows()
    renderer.update([make_row(random.Random(12), i) for i in range(5)])
    default, asked = renderer.pieces(fmt, OWN), renderer.pieces(fmt, OWN, escaping)
    first_chunk = 1  # after the first family's header
    assert (asked[first_chunk] is default[first_chunk]) is plain


def test_render_escapes_label_values_like_prometheus_client() -> None:
    rng = random.Random(1)
    odd = ['quote " here', "back\\slash", "two\nlines", "ünïcødé"]
    renderer = KeptRows()
    rows = [make_row(rng, i, kind=text, schedule=text, after=text) for i, text in enumerate(odd)]
    renderer.update(rows)
    assert_same_as_reference(renderer)
    info = samples(rendered(renderer, Format.TEXT).decode())
    for label in ("kind", "after"):
        values = {dict(labels)[label] for name, labels in info if name == "jobmon_job_info"}
        assert values == set(odd)


def test_render_after_changes_equals_a_fresh_render() -> None:
    rng = random.Random(3)
    rows = [make_row(rng, i) for i in range(300)]
    renderer = KeptRows()
    renderer.update(rows)
    for step in range(5):
        for k in rng.sample(range(len(rows)), 4):
            rows[k] = make_row(rng, rows[k][ID], heartbeat_at=datetime(2026, 3, 1, 0, step))
        renderer.update(rows)
        fresh = KeptRows()
        fresh.update(rows)
        for fmt in Format:
            assert rendered(renderer, fmt) == rendered(fresh, fmt)
    assert_same_as_reference(renderer)


def test_render_follows_jobs_added_and_removed() -> None:
    rng = random.Random(5)
    rows = [make_row(rng, i) for i in range(50)]
    renderer = KeptRows()
    renderer.update(rows)
    rows = [*rows[10:], *(make_row(rng, i) for i in range(100, 120))]
    renderer.update(rows)
    names = {s.name for s in renderer.snapshots()}
    assert names == {r[NAME] for r in rows}
    assert_same_as_reference(renderer)


def test_render_before_any_read_serves_only_self_metrics() -> None:
    renderer = KeptRows()
    down = SelfValues(database_up=False, duration=0.5, errors=1, version="1.2.3")
    assert_same_as_reference(renderer, down)
    names = {name for name, _ in samples(rendered(renderer, Format.TEXT, down).decode())}
    assert names == {
        "jobmon_database_up",
        "jobmon_scrape_duration_seconds",
        "jobmon_scrape_errors_total",
        "jobmon_last_successful_read_timestamp_seconds",
        "jobmon_build_info",
    }


@pytest.mark.parametrize("fmt", list(Format))
def test_render_after_a_failed_read_keeps_the_last_jobs(fmt: Format) -> None:
    renderer = KeptRows()
    renderer.update([make_row(random.Random(2), i) for i in range(3)])
    up = SelfValues(True, 0.01, 0, "1.2.3", last_read=1_767_225_600.25)
    down = SelfValues(False, 0.5, 1, "1.2.3", last_read=up.last_read)
    assert_same_as_reference(renderer, down)
    served = samples(rendered(renderer, fmt, up).decode(), openmetrics=fmt is Format.OPENMETRICS)
    kept = samples(rendered(renderer, fmt, down).decode(), openmetrics=fmt is Format.OPENMETRICS)
    changed = {name for name, labels in served if served[name, labels] != kept[name, labels]}
    assert served.keys() == kept.keys()
    assert changed == {
        "jobmon_database_up",
        "jobmon_scrape_duration_seconds",
        "jobmon_scrape_errors_total",
    }
    assert kept["jobmon_last_successful_read_timestamp_seconds", frozenset()] == up.last_read


def test_render_of_no_jobs_is_valid() -> None:
    renderer = KeptRows()
    renderer.update([])
    assert_same_as_reference(renderer)


@pytest.mark.parametrize("status", [None, "running", "server_stopped"])
def test_render_status_stateset_has_exactly_one_one(status: str | None) -> None:
    renderer = KeptRows()
    renderer.update([make_row(random.Random(4), 1, run_status=status)])
    out = samples(rendered(renderer, Format.OPENMETRICS).decode(), openmetrics=True)
    states = {dict(k[1])["status"]: v for k, v in out.items() if k[0] == "jobmon_job_status"}
    assert len(states) == 9
    assert [s for s, v in states.items() if v == 1] == [status or "editing"]


def test_histogram_buckets_are_cumulative_and_end_with_count() -> None:
    renderer = KeptRows()
    renderer.update([make_row(random.Random(9), 1)])
    hist = next(m for m in METRICS if m.type is Type.HISTOGRAM)
    out = samples(rendered(renderer, Format.TEXT).decode())
    buckets = [v for (name, _), v in out.items() if name == f"{hist.name}_bucket"]
    assert buckets == sorted(buckets)
    assert buckets[-1] == out[f"{hist.name}_count", frozenset({("job_name", "job-0001")})]


def test_go_float_writes_values_as_prometheus_client() -> None:
    from prometheus_client.utils import floatToGoString

    from exporter.fragments import go_float, number

    rng = random.Random(13)
    values: list[float] = [0.0, -0.0, 1.0, -1.0, 1e-7, 0.1, 999_999.0, 1_000_000.0, 1e15, 1e16]
    values += [1e22, 1.5e300, float("inf"), float("-inf"), float("nan"), 123456789.125]
    values += [1_767_225_600.123456, -1_767_225_600.5, 12_345_678_901, 2**63, -5, 0, 999_999]
    values += [rng.uniform(0, 2e9) for _ in range(2000)]
    values += [rng.choice([1, -1]) * 10 ** rng.uniform(-12, 30) for _ in range(2000)]
    values += [rng.randint(0, 10**18) for _ in range(2000)]
    for value in values:
        assert go_float(value) == floatToGoString(value), value
        assert number(value) == floatToGoString(value), value


@pytest.mark.parametrize("chunk_bytes", [1, 300, 5000])
def test_small_chunks_after_changes_equal_a_fresh_render(chunk_bytes: int) -> None:
    # Many chunks per family: changed fragments are spliced into the right chunk, at the
    # right offset, also when several jobs of one chunk change and their lengths differ.
    rng = random.Random(17)
    rows = [make_row(rng, i) for i in range(120)]
    renderer = KeptRows(chunk_bytes=chunk_bytes)
    renderer.update(rows)
    for step in range(6):
        for k in rng.sample(range(len(rows)), 1 + step * 7):
            rows[k] = make_row(rng, rows[k][ID])  # new values of every length
        renderer.apply([rows[k] for k in range(len(rows))], [r[ID] for r in rows])
        fresh = KeptRows()
        fresh.update(rows)
        for fmt in Format:
            assert rendered(renderer, fmt) == rendered(fresh, fmt)
            assert gzip.decompress(gzip_pieces(renderer.pieces(fmt, OWN))) == rendered(fresh, fmt)
    assert_same_as_reference(renderer)


def test_only_the_rows_given_are_rendered_again() -> None:
    rng = random.Random(19)
    rows = [make_row(rng, i) for i in range(40)]
    renderer = KeptRows(chunk_bytes=500)
    renderer.update(rows)
    before = renderer.pieces(Format.TEXT, OWN)
    rows[7] = make_row(rng, 7, heartbeat_at=datetime(2026, 4, 1))
    renderer.apply([rows[7]], [r[ID] for r in rows])
    after = renderer.pieces(Format.TEXT, OWN)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a is not b]
    assert len(changed) < len(before) // 2  # families without a change keep their chunks
    assert_same_as_reference(renderer)
    # Jobs added, removed and renamed: the order is made again, kept fragments reused.
    rows = [*rows[5:], make_row(rng, 100), make_row(rng, 8, name="aaa-renamed")]
    rows = [r for r in rows if r[ID] != 8 or r[NAME] == "aaa-renamed"]
    renderer.apply([rows[-1], rows[-2]], [r[ID] for r in rows])
    fresh = KeptRows()
    fresh.update(rows)
    assert rendered(renderer, Format.TEXT) == rendered(fresh, Format.TEXT)
    assert_same_as_reference(renderer)


@pytest.mark.parametrize("shuffled", [False, True])
def test_every_job_given_at_once_renders_as_the_reference(shuffled: bool) -> None:
    # A first read gives every job's row, in the order of their names (rendered as they
    # come); rows out of that order are laid out all the same.
    rng = random.Random(23)
    rows = sorted((make_row(rng, i) for i in range(80)), key=lambda r: r[NAME])
    if shuffled:
        rows = rows[:30] + rng.sample(rows[30:], len(rows) - 30)
    renderer = KeptRows(chunk_bytes=700)
    renderer.apply(iter(rows))
    assert_same_as_reference(renderer)
    fresh = KeptRows()
    fresh.update(rows)
    assert rendered(renderer, Format.TEXT) == rendered(fresh, Format.TEXT)
