"""Exporter scrape latency at 100, 1k and 10k jobs, as Prometheus scrapes it.

For each backend (SQLite, PostgreSQL) and job count, the database is filled with 10 runs of
history per job, measured, grown to 100 runs per job, and measured again: a scrape must cost
the same whatever the history. Scrapes go to ``jobmon exporter`` over HTTP with the
headers Prometheus 2.42 sends (OpenMetrics first, gzip, scrape timeout). Three series each:

- cold: the first scrape after start (every job rendered);
- steady: nothing changed between scrapes;
- live: 1% of the jobs changed between scrapes (heartbeat, records, a journal line), as
  running jobs do.

The baseline, measured in the same run on the same rows: prometheus-client's OpenMetrics
``generate_latest`` of the same families, and a straightforward exporter (read, build
families, ``generate_latest``, gzip level 6); its families come from the test suite's
reference (``tests/exporter/reference.py``), the one the renderer is checked against.
Run: ``.venv/bin/python bench/exporter_bench.py`` (``--quick`` stops at 1k jobs). PostgreSQL
needs the admin URL in ``JOBMON_BENCH_PG`` (default: the local test server); a database
``jobmon_bench`` is created and dropped.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporter.formats import Format
from exporter.plan import EVERYTHING
from exporter.reader import NAME, Reader
from exporter.render import SelfValues
from runner.core.metrics import DURATION_BUCKETS
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.core.storage.models import job_totals
from tests.exporter.reference import FamiliesCollector, encoder, families
from tests.promtools import free_port

JOBMON = str(Path(sys.executable).with_name("jobmon"))  # the console script of this venv
PG_ADMIN = os.environ.get("JOBMON_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "gzip", "X-Prometheus-Scrape-Timeout-Seconds": "10"}
NOW = datetime(2026, 1, 15, 8, 0, 0)
TOTALS = [c.name for c in job_totals.columns]
RUN_COLUMNS = ["id", "job_id", "status", "attempt", "heartbeat_at", "created_at", "started_at"]
RUN_COLUMNS += ["ended_at", "records", "rejects", "number"]
JOB_COLUMNS = ["id", "name", "kind", "schedule", "max_rejects", "max_duration_seconds"]
JOB_COLUMNS += ["next_run_at", "latest_run_id", "status", "defined"]


def _stamp(db: Database, value: datetime) -> Any:
    return value.isoformat(" ") if db.is_sqlite else value


def _bulk(db: Database, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    """Insert fast: sqlite3 executemany, or PostgreSQL COPY."""
    raw: Any = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            cursor.execute("PRAGMA synchronous = OFF")  # bench data: no need to survive a crash
            marks = ",".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)
        else:
            with cursor.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _totals_row(rng: random.Random, job_id: int) -> tuple[Any, ...]:
    values: dict[str, Any] = {name: rng.randint(0, 500) for name in TOTALS}
    bucket = 0
    for bound in DURATION_BUCKETS:
        bucket += rng.randint(0, 5)
        values[f"duration_le_{bound:g}"] = bucket
    values.update(job_id=job_id, duration_count=bucket, duration_sum=bucket * 31.5)
    for name in ("last_start_at", "last_success_at", "last_failure_at"):
        values[name] = NOW - timedelta(seconds=rng.randint(0, 86400))
    return tuple(values[name] for name in TOTALS)


def fill_jobs(db: Database, count: int) -> None:
    """Jobs and their totals rows."""
    rng = random.Random(count)
    jobs = (
        (i, f"job-{i:05d}", "python", "*/5 * * * *" if i % 2 else "", 100 if i % 3 else None,
         3600.0 if i % 4 else None, NOW + timedelta(minutes=i % 60), None, "editing", True)
        for i in range(1, count + 1)
    )  # fmt: skip
    _bulk(db, "jobs", JOB_COLUMNS, jobs)
    totals = (_totals_row(rng, i) for i in range(1, count + 1))
    rows = ((*t[:-3], *(_stamp(db, v) for v in t[-3:])) for t in totals)
    _bulk(db, "job_totals", TOTALS, rows)


def add_history(db: Database, jobs: int, first: int, runs: int) -> None:
    """``runs`` more finished runs per job (run numbers from ``first``); the last is the latest."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(first, first + runs):
            status = "running" if n == first + runs - 1 else "finished"
            for job in range(1, jobs + 1):
                at = _stamp(db, NOW - timedelta(minutes=(first + runs - n) * 5))
                yield (n * jobs + job, job, status, 1, at, at, at, at, 100, n % 3, n + 1)

    _bulk(db, "runs", RUN_COLUMNS, rows())
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE jobs SET latest_run_id = id + :offset, status = 'running'"),
            {"offset": (first + runs - 1) * jobs},
        )


def touch(db: Database, jobs: int, latest: int, share: float, rng: random.Random) -> None:
    """Change ``share`` of the jobs as running jobs do: heartbeat, records, a journal line."""
    ids = rng.sample(range(1, jobs + 1), max(1, int(jobs * share)))
    beat = _stamp(db, datetime.now().replace(tzinfo=None))
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE runs SET heartbeat_at = :at WHERE id = :id"),
            [{"at": beat, "id": latest * jobs + i} for i in ids],
        )
        conn.execute(
            sa.text(
                "UPDATE job_totals SET records_total = records_total + 100, "
                "journal_info = journal_info + 1 WHERE job_id = :id"
            ),
            [{"id": i} for i in ids],
        )


@contextmanager
def exporter_process(url: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``jobmon exporter`` on a free port, stopped at the end."""
    config = tmp / "bench.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": url}}), encoding="utf-8")
    port = free_port()
    command = [JOBMON, "--config", str(config), "--log-level", "warning", "exporter"]
    with (tmp / "exporter.log").open("ab") as log:
        process = subprocess.Popen(
            [*command, "--web.listen-address", f"127.0.0.1:{port}"],
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    scrape(port, "/-/ready")
                    break
                except OSError:
                    time.sleep(0.1)
            yield process, port
        finally:
            process.terminate()
            process.wait(20)


def scrape(port: int, path: str = "/metrics") -> float:
    """Seconds one scrape took, body read in full."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        start = time.perf_counter()
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise OSError(f"status {response.status}")
        return elapsed
    finally:
        conn.close()


def rss_mib(pid: int) -> float:
    """Resident memory of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(db: Database, url: str, jobs: int, latest: int, tmp: Path) -> dict[str, Any]:
    """Cold, steady and live scrape times, and the exporter's memory."""
    count = 15 if jobs >= 10_000 else 40
    rng = random.Random(jobs)
    with exporter_process(url, tmp) as (process, port):
        cold = scrape(port)
        steady = [scrape(port) for _ in range(count)]
        live = []
        for _ in range(count):
            touch(db, jobs, latest, 0.01, rng)
            live.append(scrape(port))
        return {
            "cold": cold * 1000,
            "steady": percentiles(steady),
            "live": percentiles(live),
            "rss": rss_mib(process.pid),
        }


def baseline(db: Database, repeat: int) -> dict[str, float]:
    """prometheus-client on the same rows: generate_latest alone, and a whole plain scrape."""
    own = SelfValues(True, 0.0, 0, "bench")
    generate = encoder(Format.OPENMETRICS)
    best_generate, best_plain = float("inf"), float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        rows = Reader(db).read(60)
        ordered = sorted(rows, key=lambda r: r[NAME])
        built = families([EVERYTHING.snapshot(r) for r in ordered], own)
        generated = time.perf_counter()
        text = generate(FamiliesCollector(built))
        done = time.perf_counter()
        gzip.compress(text, 6)
        best_generate = min(best_generate, done - generated)
        best_plain = min(best_plain, time.perf_counter() - start)
    return {"generate": best_generate * 1000, "plain": best_plain * 1000, "bytes": len(text)}


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[tuple[Database, str]]:
    """A fresh, migrated bench database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        path = tmp / f"bench-{time.monotonic_ns()}.db"
        url = f"sqlite:///{path}"
    else:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS jobmon_bench WITH (FORCE)")
            conn.exec_driver_sql("CREATE DATABASE jobmon_bench")
        url = sa.make_url(PG_ADMIN).set(database="jobmon_bench").render_as_string(False)
    db = Database(url)
    upgrade(db)
    try:
        yield db, url
    finally:
        db.dispose()
        if backend != "sqlite":
            with admin.connect() as conn:
                conn.exec_driver_sql("DROP DATABASE IF EXISTS jobmon_bench WITH (FORCE)")
            admin.dispose()


def run_size(backend: str, jobs: int, tmp: Path, report: Callable[[str], None]) -> None:
    with database(backend, tmp) as (db, url):
        start = time.perf_counter()
        fill_jobs(db, jobs)
        add_history(db, jobs, 0, 10)
        with db.engine.connect() as conn:  # planner statistics, as autovacuum would
            if not db.is_sqlite:
                conn.exec_driver_sql("ANALYZE")
        short = measure(db, url, jobs, 9, tmp)
        add_history(db, jobs, 10, 90)
        if not db.is_sqlite:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        long = measure(db, url, jobs, 99, tmp)
        base = baseline(db, 1 if jobs >= 10_000 else 3)
        fill = time.perf_counter() - start
        for runs, m in ((10, short), (100, long)):
            report(
                f"| {backend} | {jobs} | {runs} | {m['cold']:.0f} | {m['steady'][0]:.1f} | "
                f"{m['steady'][1]:.1f} | {m['live'][0]:.1f} | {m['live'][1]:.1f} | "
                f"{base['generate']:.0f} | {base['plain']:.0f} | "
                f"{base['plain'] / m['live'][1]:.0f}x | {m['rss']:.0f} |"
            )
        load = os.getloadavg()[0]
        report(
            f"<!-- {backend} {jobs} jobs: {base['bytes'] / 1e6:.1f} MB text, {fill:.0f} s, "
            f"load average {load:.1f} -->"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="stop at 1000 jobs")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = (100, 1000) if args.quick else (100, 1000, 10_000)
    print(
        "| backend | jobs | runs/job | cold ms | steady p50 | steady p95 | live p50 | live p95 "
        "| generate_latest ms | plain exporter ms | plain / live p95 | RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-") as tmp:
        for backend in args.backends.split(","):
            for jobs in sizes:
                run_size(backend, jobs, Path(tmp), lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
