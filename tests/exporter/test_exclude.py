"""``exporter.metrics`` against real databases and a real ``/metrics``: excluded families are
neither read nor served, the chosen buckets are the only ones, and promtool still passes."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from exporter.deflate import plain_pieces
from exporter.formats import Format
from exporter.scrape import Scraper
from exporter.server import ExporterServer
from runner.core.config import Config, parse
from runner.core.config.settings import MetricsConfig
from runner.core.metrics import METRICS, served
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.exporter.expo import family_of, job_samples, samples
from tests.exporter.scenario import Series, expected, populate
from tests.promtools import tool

HISTOGRAM = "jobmon_job_run_duration_seconds"
EXCLUDABLE = [m.name for m in METRICS if m.excludable]
EVERY_BUCKET = re.compile(r"duration_le_\w+")


def served_part(everything: dict[Series, float], config: MetricsConfig) -> dict[Series, float]:
    """The series of ``everything`` that ``config`` serves."""
    dropped = {m.name for m in METRICS} - {m.name for m in served(config.exclude)}
    bounds = {str(float(b)) for b in config.duration_buckets} | {"+Inf"}
    return {
        (name, labels): value
        for (name, labels), value in everything.items()
        if family_of(name) not in dropped and dict(labels).get("le", "+Inf") in bounds
    }


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent through ``db`` meanwhile."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def scrape(db_url: str, config: MetricsConfig, fmt: Format = Format.TEXT) -> tuple[str, list[str]]:
    """One scrape with ``config``, and the SELECT statements of job rows it sent (not the
    snapshot's watermark, read first on PostgreSQL)."""
    scraper = Scraper(Database(db_url), "1.0", config)
    try:
        with statements(scraper.db) as sent:
            text = plain_pieces(scraper.scrape(5.0, fmt).pieces).decode()
    finally:
        scraper.close()
    selects = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    return text, [s for s in selects if "jobs.id" in s]


CONFIGS = {
    "no-histogram-no-journal": MetricsConfig(exclude=[HISTOGRAM, "jobmon_journal_*"]),
    "three-buckets-no-status": MetricsConfig(
        exclude=["jobmon_job_status", "jobmon_jobs"], duration_buckets=[60, 600, 3600]
    ),
    "only-the-histogram": MetricsConfig(
        exclude=[n for n in EXCLUDABLE if n != HISTOGRAM], duration_buckets=[5]
    ),
    "only-the-exporters-own": MetricsConfig(exclude=EXCLUDABLE),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_scrape_serves_the_database_less_the_excluded(db: Database, db_url: str, name: str) -> None:
    populate(db)
    config = CONFIGS[name]
    want = served_part(expected(db), config)
    text, _ = scrape(db_url, config)
    assert job_samples(text) == want
    om, _ = scrape(db_url, config, Format.OPENMETRICS)
    assert job_samples(om, openmetrics=True) == want
    assert {family_of(n) for n, _ in samples(text)} == {m.name for m in served(config.exclude)}


def test_excluded_families_are_not_read(db: Database, db_url: str) -> None:
    populate(db)
    (everything,) = scrape(db_url, MetricsConfig())[1]
    assert {"job_totals", "runs", "duration_sum"} <= set(re.findall(r"\w+", everything))
    assert len(EVERY_BUCKET.findall(everything)) == 12

    (own,) = scrape(db_url, CONFIGS["only-the-exporters-own"])[1]
    words = set(re.findall(r"\w+", own))
    assert {"job_totals", "runs", "run_status", "runs_total"}.isdisjoint(words)
    assert EVERY_BUCKET.findall(own) == []

    (histogram,) = scrape(db_url, CONFIGS["only-the-histogram"])[1]
    assert EVERY_BUCKET.findall(histogram) == ["duration_le_5"]
    assert {"runs", "run_status", "journal_info", "entered_running"}.isdisjoint(
        re.findall(r"\w+", histogram)
    )

    (no_histogram,) = scrape(db_url, CONFIGS["no-histogram-no-journal"])[1]
    words = set(re.findall(r"\w+", no_histogram))
    assert EVERY_BUCKET.findall(no_histogram) == []
    assert {"duration_sum", "duration_count", "journal_info", "journal_error"}.isdisjoint(words)
    assert {"job_totals", "runs", "max_duration_seconds", "runs_total"} <= words


@pytest.fixture
def scenario(tmp_path: Path) -> Iterator[str]:
    """The URL of a SQLite database holding the scenario's jobs."""
    db = Database(f"sqlite:///{tmp_path / 'jobmon.db'}")
    upgrade(db)
    populate(db)
    yield db.url.render_as_string(hide_password=False)
    db.dispose()


@contextmanager
def serving(config: Config) -> Iterator[str]:
    """The URL of ``/metrics`` served by the exporter ``jobmon exporter`` runs, on a free port."""
    server = ExporterServer(config, listen_address="127.0.0.1:0")
    server.start()
    try:
        yield f"{server.url}/metrics"
    finally:
        server.stop()


def fetch(url: str, accept: str = "") -> str:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return bytes(response.read()).decode()


OM = "application/openmetrics-text;version=1.0.0"


@pytest.mark.parametrize(
    "section",
    [
        {"exclude": [HISTOGRAM, "jobmon_journal_*", "jobmon_job_last_*"]},
        {"exclude": ["jobmon_job_info", "jobmon_jobs"], "duration_buckets": []},
        {"duration_buckets": [30, 1800]},
    ],
    ids=["globs", "no-bucket-but-inf", "two-buckets"],
)
def test_metrics_over_http_lack_the_excluded_and_pass_promtool(
    scenario: str, section: dict[str, Any]
) -> None:
    config = parse({"database": {"url": scenario}, "exporter": {"metrics": section}})
    kept = served(config.exporter.metrics.exclude)
    with serving(config) as url:
        text, om = fetch(url), fetch(url, OM)
        dots = fetch(url, "text/plain;version=1.0.0;escaping=dots")
        values = fetch(url, f"{OM};escaping=values")
    lint = subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert types(text) == [m.name for m in kept]
    assert types(om) == types(values) == [m.family for m in kept]
    assert types(dots) == [m.name.replace("_", "__") for m in kept]
    assert samples(om, openmetrics=True).keys() == samples(text).keys()
    assert {family_of(name) for name, _ in samples(text)} == {m.name for m in kept}
    buckets = {dict(k[1])["le"] for k in samples(text) if k[0] == f"{HISTOGRAM}_bucket"}
    chosen = config.exporter.metrics.duration_buckets
    assert buckets == (
        {*map(str, map(float, chosen)), "+Inf"} if HISTOGRAM in types(text) else set()
    )


def types(exposition: str) -> list[str]:
    """The family names of the TYPE lines, in order."""
    return re.findall(r"^# TYPE (\S+) ", exposition, re.MULTILINE)
