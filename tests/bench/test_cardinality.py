"""``bench/cardinality.py`` counts what a real scrape serves: its figures per family and per
job, from ``jobmon exporter``, against prometheus-client's parse of another real exporter's
scrape of jobs prepared the same way."""

from __future__ import annotations

import urllib.request
from collections import Counter
from pathlib import Path

from bench import cardinality
from exporter.server import ExporterServer
from runner.core.config import parse
from runner.core.metrics import METRICS, Scope
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.exporter.expo import family_of, samples

JOBS = 3


def scraped(tmp_path: Path) -> str:
    """A classic text scrape of :data:`JOBS` prepared jobs from an exporter in this process."""
    db = Database(f"sqlite:///{tmp_path / 'own.db'}")
    upgrade(db)
    cardinality.prepare(db, JOBS)
    url = db.url.render_as_string(hide_password=False)
    server = ExporterServer(parse({"database": {"url": url}}), listen_address="127.0.0.1:0")
    server.start()
    try:
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as response:
            return bytes(response.read()).decode()
    finally:
        server.stop()
        db.dispose()


def test_cardinality_counts_match_a_real_scrape(tmp_path: Path) -> None:
    counted = cardinality.measure(JOBS, tmp_path)
    series = samples(scraped(tmp_path))
    families = Counter(family_of(name) for name, _ in series)
    per_job = Counter((family_of(name), dict(labels).get("job_name")) for name, labels in series)
    assert {name: c.series for name, c in counted.items()} == dict(families)
    for metric in METRICS:
        found = {n for (family, job), n in per_job.items() if family == metric.name}
        if metric.scope is Scope.JOB:
            assert found == {counted[metric.name].per_job}, metric.name
            assert len([j for f, j in per_job if f == metric.name]) == JOBS
        else:
            assert counted[metric.name].per_job is None
    lines = cardinality.table({JOBS: counted, 2 * JOBS: counted})
    every, without = lines[-2].split(" | "), lines[-1].split(" | ")
    assert every[-1] == f"**{len(series):,}** |"
    histogram = counted[cardinality.HISTOGRAM].series
    assert without[-1] == f"**{len(series) - histogram:,}** |"
