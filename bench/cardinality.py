"""Series per job in each metric family, counted in real scrapes, and the totals they make.

For each job count, a SQLite database is filled the way ``bench/exporter_bench.py`` fills it
(jobs with their totals, one run each), then every job is given a schedule, a reject limit
and a time limit, so that it has every series a job can have: the figures are the most a job
costs. A real ``jobmon exporter`` with the default config (every family, the default
buckets) is scraped once in classic text, and its sample lines are counted per family and
per job. A job family's figure per job is checked to be the same for every job and at every
job count.

The totals are the counted series of all families, and of all but the run duration
histogram (``exporter.metrics.exclude: [jobmon_job_run_duration_seconds]``); each bound of
``exporter.metrics.duration_buckets`` is one series per job.

Run: ``.venv/bin/python bench/cardinality.py`` (``--jobs 1000,10000``, the default); it
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exporter_bench import add_history, database, exporter_process, fill_jobs
from runner.core.metrics import METRICS, Metric, Scope, Type
from runner.core.storage.db import Database

HISTOGRAM = "jobmon_job_run_duration_seconds"
# The family of each sample name of a classic text exposition.
FAMILY: dict[str, Metric] = {m.name: m for m in METRICS}
FAMILY.update(
    (f"{m.name}_{part}", m)
    for m in METRICS
    if m.type is Type.HISTOGRAM
    for part in ("bucket", "count", "sum")
)
_SAMPLE = re.compile(r'([^{\s]+)(?:\{(?:.*?,)?job_name="([^"]*)")?')


@dataclass(frozen=True)
class Count:
    """A family's series in one scrape, and per job for a job family."""

    metric: Metric
    series: int
    per_job: int | None


def prepare(db: Database, jobs: int) -> None:
    """``jobs`` jobs as the exporter bench makes them, each with every optional setting."""
    fill_jobs(db, jobs)
    add_history(db, jobs, 0, 1)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE jobs SET schedule = '*/5 * * * *', max_rejects = 100, "
                "max_duration_seconds = 3600"
            )
        )


def scrape_text(port: int) -> str:
    """One scrape of ``/metrics`` in classic text."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", "/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": "60"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError(f"/metrics answered {response.status}")
        return body.decode()
    finally:
        conn.close()


def count(text: str, jobs: int) -> dict[str, Count]:
    """The series of each family in ``text``; per job for job families, the same for all."""
    series: Counter[str] = Counter()
    per_job: dict[str, Counter[str]] = {m.name: Counter() for m in METRICS}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        assert found is not None, line
        family = FAMILY[found.group(1)].name
        series[family] += 1
        if found.group(2) is not None:
            per_job[family][found.group(2)] += 1
    return {m.name: Count(m, series[m.name], _per_job(m, per_job[m.name], jobs)) for m in METRICS}


def _per_job(metric: Metric, by_job: Counter[str], jobs: int) -> int | None:
    if metric.scope is not Scope.JOB:
        return None
    figures = set(by_job.values())
    if len(by_job) != jobs or len(figures) != 1:
        raise ValueError(f"{metric.name}: series per job differ: {sorted(figures)}")
    return figures.pop()


def measure(jobs: int, tmp: Path) -> dict[str, Count]:
    """The series of each family in a real scrape of ``jobs`` prepared jobs."""
    with database("sqlite", tmp) as (db, url):
        prepare(db, jobs)
        with exporter_process(url, tmp) as (_, port):
            return count(scrape_text(port), jobs)


def _total(counts: dict[str, Count], without: str = "") -> tuple[int, int, int]:
    """Series per job, series not per job, series in all."""
    kept = [c for c in counts.values() if c.metric.name != without]
    per_job = sum(c.per_job or 0 for c in kept)
    fixed = sum(c.series for c in kept if c.per_job is None)
    return per_job, fixed, sum(c.series for c in kept)


def table(results: dict[int, dict[str, Count]]) -> list[str]:
    """The Markdown table: each family, then the totals with and without the histogram."""
    sizes = sorted(results)
    first = results[sizes[0]]
    for size in sizes[1:]:
        if [c.per_job for c in results[size].values()] != [c.per_job for c in first.values()]:
            raise ValueError(f"series per job differ between {sizes[0]} and {size} jobs")
    head = "| family | type | series per job | " + " | ".join(f"{n:,} jobs" for n in sizes)
    lines = [head + " |", "|---|---|---:|" + "---:|" * len(sizes)]
    for name, c in first.items():
        per_job = f"{c.per_job}" if c.per_job is not None else f"({c.series} in all)"
        totals = " | ".join(f"{results[n][name].series:,}" for n in sizes)
        kind = "gauge (info)" if c.metric.type is Type.INFO else c.metric.type.value
        lines.append(f"| `{name}` | {kind} | {per_job} | {totals} |")
    everything = "all families (default buckets)"
    for label, without in ((everything, ""), (f"all but `{HISTOGRAM}`", HISTOGRAM)):
        per_job, fixed, _ = _total(first, without)
        totals = " | ".join(f"**{_total(results[n], without)[2]:,}**" for n in sizes)
        lines.append(f"| **{label}** | | **{per_job}** (+{fixed} in all) | {totals} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", default="1000,10000", help="job counts, comma-separated")
    args = parser.parse_args()
    results: dict[int, dict[str, Count]] = {}
    with tempfile.TemporaryDirectory(prefix="jobmon-cardinality-") as tmp:
        for jobs in (int(n) for n in args.jobs.split(",")):
            results[jobs] = measure(jobs, Path(tmp))
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
