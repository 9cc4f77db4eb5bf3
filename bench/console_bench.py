"""Scrapes are not slowed by the web console: ``/metrics`` latency with and without five
browsers' worth of console polling, against 10,000 jobs, and the console pages' own latency.

The database holds 10,000 jobs with 10 runs each; each latest run has a journal of 20 lines
and its transitions, one job in ten has 30 rejects, and the latest runs are in a realistic mix
of statuses. A runner heartbeat is kept fresh, so the pages take their "runner up" path. One
real ``jobmon exporter`` (console enabled, as by default) serves everything on 127.0.0.1.

The console's pages refresh themselves every ``REFRESH_SECONDS`` (5 s, console.js: a fetch of
the page's own URL, only while the tab is visible). A "browser" here opens the job list and
one job's tab (General, Journal, Rejects, Runs, General for browsers 1 to 5) with their
stylesheet and script, then refreshes both every 5 s, from a random offset. Both windows are
taken as visible: twice what a browser with one visible tab sends, so the figure is on the
safe side.

The same run alternates quiet windows (no browser) and loaded windows (five browsers), each
with the same number of scrapes as Prometheus sends them (OpenMetrics, gzip) and 1% of the
jobs changing between scrapes, as running jobs do. Alternating keeps the two figures fair
when the machine's load drifts. Targets: ``/metrics`` p95 with the browsers within 20% of the
p95 without them, and the job list's p95 under 300 ms.

Run: ``.venv/bin/python bench/console_bench.py`` (``--jobs``, ``--rounds``, ``--backend
postgresql`` with ``JOBMON_BENCH_PG`` as in exporter_bench.py; ``--check`` exits 1 when a
target is missed).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.exporter_bench import (
    HEADERS,
    _bulk,
    _stamp,
    database,
    exporter_process,
    fill_jobs,
    percentiles,
)
from exporter.console.pages import REFRESH_SECONDS
from runner.core import presence
from runner.core.storage.db import Database

BROWSERS = 5
TABS = ("", "/journal", "/rejects", "/runs")
STATIC = ("/static/console.css", "/static/console.js")
PAGE_HEADERS = {"Accept": "text/html"}  # what console.js sends
RUNS_PER_JOB = 10
JOURNAL_LINES = 20
REJECTS = 30
METRICS_TARGET = 1.20  # loaded p95 / quiet p95
JOBS_PAGE_TARGET_MS = 300.0
# The latest run's status of job i: mostly finished, some failed, running, paused, stopped.
LATEST = ["finished"] * 14 + ["finished_with_errors", "running", "running", "paused"]
LATEST += ["server_stopped", "editing"]
RUN_COLUMNS = ["id", "job_id", "number", "status", "attempt", "claimed_by", "heartbeat_at"]
RUN_COLUMNS += ["created_at", "started_at", "ended_at", "records", "rejects"]
ACTIVE = ("running", "pausing", "canceling")


def seed_runs(db: Database, jobs: int, now: datetime) -> None:
    """Runs 1..10 of every job (the last is the latest), and the latest runs' journals,
    transitions and rejects."""

    def run_id(job: int, number: int) -> int:
        return (job - 1) * RUNS_PER_JOB + number

    def runs() -> Iterator[tuple[Any, ...]]:
        for job in range(1, jobs + 1):
            for number in range(1, RUNS_PER_JOB + 1):
                latest = number == RUNS_PER_JOB
                status = LATEST[job % len(LATEST)] if latest else "finished"
                created = now - timedelta(minutes=(RUNS_PER_JOB - number) * 60 + 5)
                started = None if status == "editing" else created + timedelta(seconds=1)
                still_open = status in (*ACTIVE, "paused", "editing")
                ended = None if still_open else created + timedelta(minutes=3)
                rejects = REJECTS if latest and job % 10 == 0 else 0
                yield (
                    run_id(job, number), job, number, status, 0 if status == "editing" else 1,
                    "bench-runner" if status in ACTIVE else None, _stamp(db, started or created),
                    _stamp(db, created), started and _stamp(db, started),
                    ended and _stamp(db, ended), 1000 * number, rejects,
                )  # fmt: skip

    _bulk(db, "runs", RUN_COLUMNS, runs())
    latest_ids = [run_id(job, RUNS_PER_JOB) for job in range(1, jobs + 1)]
    at = _stamp(db, now - timedelta(minutes=4))
    journal = (
        (run, at, "warning" if line % 7 == 6 else "info", f"read {line * 5000} records")
        for run in latest_ids
        for line in range(JOURNAL_LINES)
    )
    _bulk(db, "journal", ["run_id", "at", "level", "message"], journal)
    transitions = (
        (run, at, before, after, "runner", None)
        for run in latest_ids
        for before, after in ((None, "editing"), ("editing", "running"))
    )
    _bulk(db, "transitions", ["run_id", "at", "from_status", "to_status", "cause", "reason"],
          transitions)  # fmt: skip
    rejects = (
        (run_id(job, RUNS_PER_JOB), line, f"{line},x{line},oops", f"{line},x{line},oops".encode(),
         "amount", "type", f"amount: 'x{line}' is not a number")
        for job in range(10, jobs + 1, 10)
        for line in range(2, REJECTS + 2)
    )  # fmt: skip
    _bulk(db, "rejects", ["run_id", "line", "record", "raw", "field", "reason", "message"], rejects)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE jobs SET latest_run_id = (id - 1) * :runs + :runs, status = "
                "(SELECT status FROM runs WHERE runs.id = (jobs.id - 1) * :runs + :runs)"
            ),
            {"runs": RUNS_PER_JOB},
        )


def touch(db: Database, jobs: int, rng: random.Random) -> None:
    """1% of the jobs change as running jobs do (heartbeat, records, a journal line), and the
    runner's own heartbeat stays fresh."""
    now = datetime.now(UTC)
    ids = rng.sample(range(1, jobs + 1), max(1, jobs // 100))
    beat = _stamp(db, now.replace(tzinfo=None))
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE runs SET heartbeat_at = :at, records = records + 100 WHERE id = :id"),
            [{"at": beat, "id": (i - 1) * RUNS_PER_JOB + RUNS_PER_JOB} for i in ids],
        )
        conn.execute(
            sa.text(
                "UPDATE job_totals SET records_total = records_total + 100, "
                "journal_info = journal_info + 1 WHERE job_id = :id"
            ),
            [{"id": i} for i in ids],
        )
    presence.beat(db, "bench-runner", now)


def get(port: int, path: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds one request took (body read in full), and its status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return time.perf_counter() - start, response.status
    finally:
        conn.close()


@dataclass
class Timings:
    """Latencies in seconds by label, and the requests that did not answer 200."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, seconds: float, status: int) -> None:
        with self.lock:
            self.seconds.setdefault(label, []).append(seconds)
            if status != 200:
                self.failures[label] = self.failures.get(label, 0) + 1


def window(port: int, path: str, label: str, loaded: threading.Event, stop: threading.Event,
           timings: Timings, seed: int) -> None:  # fmt: skip
    """One browser window on ``path``: opened (with its assets) when the loaded windows start,
    then refreshed every REFRESH_SECONDS while they last."""
    rng = random.Random(seed)
    opened = False
    while not stop.is_set():
        if not loaded.wait(0.1):
            continue
        stop.wait(rng.uniform(0, REFRESH_SECONDS))  # people do not open pages in step
        due = time.monotonic()
        while loaded.is_set() and not stop.is_set():
            timings.add(label, *get(port, path, PAGE_HEADERS))
            if not opened:  # then cached by the browser (Cache-Control: max-age)
                for asset in STATIC:
                    get(port, asset, {})
                opened = True
            due += REFRESH_SECONDS
            stop.wait(max(0.0, due - time.monotonic()))


def scrapes(port: int, db: Database, jobs: int, count: int, gap: float, label: str,
            timings: Timings, rng: random.Random) -> None:  # fmt: skip
    """``count`` scrapes, ``gap`` seconds apart, with 1% of the jobs changed before each."""
    for _ in range(count):
        touch(db, jobs, rng)
        timings.add(label, *get(port, "/metrics", HEADERS))
        time.sleep(gap)


def measure(db: Database, url: str, jobs: int, rounds: int, count: int, tmp: Path) -> Timings:
    """Alternate quiet and loaded windows of ``count`` scrapes each, ``rounds`` times."""
    timings, rng = Timings(), random.Random(jobs)
    loaded, stop = threading.Event(), threading.Event()
    with exporter_process(url, tmp) as (_, port):
        # Jobs spread over the list, each with rejects (one job in ten has them).
        names = [f"job-{(i + 1) * jobs // (BROWSERS + 1) // 10 * 10:05d}" for i in range(BROWSERS)]
        windows = [("/jobs", "/jobs")] * BROWSERS
        windows += [
            (f"/jobs/{name}{TABS[i % len(TABS)]}", f"/jobs/NAME{TABS[i % len(TABS)]}")
            for i, name in enumerate(names)
        ]
        threads = [
            threading.Thread(
                target=window, args=(port, path, label, loaded, stop, timings, n), daemon=True
            )
            for n, (path, label) in enumerate(windows)
        ]
        for thread in threads:
            thread.start()
        # Warm up: the first scrape renders every job; the first pages compile templates.
        touch(db, jobs, rng)
        get(port, "/metrics", HEADERS)
        get(port, "/jobs", PAGE_HEADERS)
        try:
            for _ in range(rounds):
                scrapes(port, db, jobs, count, 0.25, "quiet", timings, rng)
                loaded.set()
                time.sleep(REFRESH_SECONDS)  # every browser has opened its pages
                scrapes(port, db, jobs, count, 0.25, "loaded", timings, rng)
                loaded.clear()
                time.sleep(1.0)  # the last refreshes finish
        finally:
            stop.set()
            loaded.set()
            for thread in threads:
                thread.join(70)
    return timings


def report(timings: Timings, jobs: int, backend: str, check: bool) -> int:
    """Print the figures; 1 when ``check`` and a target is missed."""
    quiet = percentiles(timings.seconds["quiet"])
    loaded = percentiles(timings.seconds["loaded"])
    ratio = loaded[1] / quiet[1]
    print(f"\n{backend}, {jobs} jobs x {RUNS_PER_JOB} runs; {BROWSERS} browsers, each refreshing "
          f"the job list and one job tab every {REFRESH_SECONDS} s\n")  # fmt: skip
    print("| /metrics | scrapes | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for label, name in (("quiet", "without the console"), ("loaded", f"with {BROWSERS} browsers")):
        p50, p95 = percentiles(timings.seconds[label])
        print(f"| {name} | {len(timings.seconds[label])} | {p50:.1f} | {p95:.1f} |")
    print("\n| page | requests | not 200 | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|")
    pages = sorted(label for label in timings.seconds if label.startswith("/"))
    for label in pages:
        p50, p95 = percentiles(timings.seconds[label])
        failed = timings.failures.get(label, 0)
        print(f"| {label} | {len(timings.seconds[label])} | {failed} | {p50:.1f} | {p95:.1f} |")
    jobs_p95 = percentiles(timings.seconds["/jobs"])[1]
    metrics_ok = ratio <= METRICS_TARGET and not timings.failures.get("quiet")
    metrics_ok = metrics_ok and not timings.failures.get("loaded")
    page_ok = jobs_p95 < JOBS_PAGE_TARGET_MS and not timings.failures.get("/jobs")
    print(
        f"\n/metrics p95: {quiet[1]:.1f} ms without the console, {loaded[1]:.1f} ms with "
        f"{BROWSERS} browsers = {ratio:.2f}x (target <= {METRICS_TARGET:.2f}x: "
        f"{'met' if metrics_ok else 'MISSED'}) | /jobs p95: {jobs_p95:.1f} ms (target < "
        f"{JOBS_PAGE_TARGET_MS:.0f} ms: {'met' if page_ok else 'MISSED'}) | load average "
        f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs"
    )
    return 1 if check and not (metrics_ok and page_ok) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="quiet/loaded window pairs")
    parser.add_argument("--scrapes", type=int, default=40, help="scrapes per window")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobmon-console-bench-") as tmp:
        with database(args.backend, Path(tmp)) as (db, url):
            start = time.perf_counter()
            fill_jobs(db, args.jobs)
            seed_runs(db, args.jobs, datetime.now(UTC).replace(tzinfo=None))
            if not db.is_sqlite:
                with db.engine.connect() as conn:  # planner statistics, as autovacuum would
                    conn.exec_driver_sql("ANALYZE")
            print(f"seeded {args.jobs} jobs in {time.perf_counter() - start:.1f} s", flush=True)
            timings = measure(db, url, args.jobs, args.rounds, args.scrapes, Path(tmp))
    return report(timings, args.jobs, args.backend, args.check)


if __name__ == "__main__":
    sys.exit(main())
