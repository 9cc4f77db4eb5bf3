"""The overview dashboard at 10,000 jobs: its "All jobs" panels read recording rules; how much
that saves over the same panels computed from every job's series.

A real ``jobmon exporter`` serves 10,000 jobs (SQLite, 10 runs of history each, 1% of the jobs
changing every 2 s as running jobs do), a real Prometheus scrapes it every 10 s and evaluates
``alerts/jobmon.recording.yml``. After ``--minutes`` of that, each panel's query (as Grafana
sends it, over the whole period at a 15 s step) is timed five times through the HTTP API next
to the same aggregate computed from the raw per-job series, in the same run: the baseline.

    .venv/bin/python bench/overview_bench.py [--jobs 10000] [--minutes 4]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exporter_bench import add_history, exporter_process, fill_jobs, touch
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.monitoring.assets import RECORDING, concrete, dashboard, panels
from tests.promtools import PrometheusServer

SELECTOR = '{job="jobmon"}'
# The aggregate each "All jobs" panel shows, computed from every job's series.
RAW = {
    "Runs ended, all jobs": (
        'sum by (status) (increase(jobmon_job_transitions_total{job="jobmon", '
        'status=~"finished|finished_with_errors|canceled|server_stopped"}[5m]))'
    ),
    "Records and rejects per second, all jobs": (
        f"sum(rate(jobmon_job_records_total{SELECTOR}[5m]))"
        f" or sum(rate(jobmon_job_rejected_records_total{SELECTOR}[5m]))"
    ),
    "Journal messages, all jobs": (
        f"sum by (level) (increase(jobmon_journal_messages_total{SELECTOR}[5m]))"
    ),
    "Run duration p95, all jobs (runs ended in the trailing hour)": (
        "histogram_quantile(0.95, sum by (le) "
        f"(rate(jobmon_job_run_duration_seconds_bucket{SELECTOR}[1h])))"
    ),
}


def _recorded() -> dict[str, str]:
    """The dashboard's own query of each panel (several targets joined with or)."""
    values = {"job": "jobmon", "instance": ".+", "job_name": ".+"}
    found = {}
    for panel in panels(dashboard("jobmon-overview")):
        if panel["title"] in RAW:
            exprs = [concrete(t["expr"], values, window="15s") for t in panel["targets"]]
            found[panel["title"]] = " or ".join(f"({e})" for e in exprs)
    return found


def _time(prometheus: PrometheusServer, expr: str, start: float, end: float) -> float:
    """Median seconds of five range queries of ``expr``, with the series count checked."""
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": 15})
    seconds = []
    for _ in range(5):
        began = time.perf_counter()
        with urllib.request.urlopen(f"{prometheus.url}/api/v1/query_range?{params}") as answer:
            body = json.loads(answer.read())
        seconds.append(time.perf_counter() - began)
        if body["status"] != "success" or not body["data"]["result"]:
            raise RuntimeError(f"no data for {expr}: {body}")
    return statistics.median(seconds)


def _feed(db: Database, jobs: int, minutes: float) -> None:
    rng = random.Random(1)
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        touch(db, jobs, 9, 0.01, rng)
        time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        url = f"sqlite:///{tmp / 'jobmon.db'}"
        db = Database(url)
        upgrade(db)
        fill_jobs(db, args.jobs)
        add_history(db, args.jobs, 0, 10)
        with exporter_process(url, tmp) as (_, port):
            config = {
                "global": {"scrape_interval": "10s", "scrape_timeout": "10s"},
                "rule_files": [str(RECORDING)],
                "scrape_configs": [
                    {"job_name": "jobmon", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                ],
            }
            prometheus = PrometheusServer(config, tmp / "prometheus")
            prometheus.start()
            try:
                start = time.time()
                _feed(db, args.jobs, args.minutes)
                report(prometheus, start + 60, time.time(), args.jobs)
            finally:
                prometheus.stop()


def report(prometheus: PrometheusServer, start: float, end: float, jobs: int) -> None:
    """Each panel's query time from recording rules next to the raw aggregate."""
    series = prometheus.query("count({__name__=~'jobmon_.+'})")[0]["value"][1]
    print(f"{jobs} jobs, {series} jobmon series in Prometheus, {(end - start) / 60:.1f} min range")
    print(f"{'panel':<62} {'raw ms':>8} {'recorded ms':>12} {'ratio':>7}")
    for title, expr in _recorded().items():
        raw = _time(prometheus, RAW[title], start, end)
        recorded = _time(prometheus, expr, start, end)
        print(f"{title:<62} {raw * 1000:8.1f} {recorded * 1000:12.1f} {raw / recorded:6.1f}x")


if __name__ == "__main__":
    main()
