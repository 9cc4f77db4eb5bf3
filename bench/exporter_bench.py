"""Exporter scrape latency and memory at 1,000 and 10,000 jobs, as Prometheus scrapes it.

For each backend (SQLite, PostgreSQL) and job count, the database is filled with 1 run of
history per job (with its journal line, and a reject every tenth run), measured, grown to 100
runs per job, and measured again: a scrape must cost the same whatever the history. Scrapes go
to ``jobmon exporter`` over HTTP with the headers Prometheus sends (OpenMetrics first, gzip,
scrape timeout), and with classic text and gzip. Figures:

- startup: from starting the process to ``/-/ready`` answering 200 (the exporter reads and
  renders every job before it answers ready);
- cold: the first scrape once ready;
- steady: nothing changed between scrapes;
- live: 1% of the jobs changed between scrapes (heartbeat, records, a journal line, as
  running jobs do, through SQLAlchemy like the runner's writers), p50 and p95, in OpenMetrics
  and in classic text;
- RSS and peak RSS (VmHWM) of the exporter process after those scrapes.

The baseline, measured in the same run on the same rows: a straightforward exporter (read every
job, build prometheus-client families, OpenMetrics ``generate_latest``, gzip level 6), and
``generate_latest`` alone; its families come from the test suite's reference
(``tests/exporter/reference.py``), the one the renderer is checked against.

    .venv/bin/python bench/exporter_bench.py [--quick] [--jobs 1000,10000]
        [--backends sqlite,postgresql] [--json FILE] [--summary]

``--quick`` measures 100 and 1,000 jobs. ``--json FILE`` writes the figures at the largest job
count per backend (what ``bench/all.py`` reads); ``--summary`` prints them as one last line,
``SUMMARY {json}``. ``main(argv)`` runs it from Python. PostgreSQL needs the admin URL in
``JOBMON_BENCH_PG`` (default: the local test server); a database ``jobmon_bench`` is created
and dropped.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
from runner.core.storage.models import Job, Run, job_totals
from tests.exporter.reference import FamiliesCollector, encoder, families
from tests.promtools import free_port

JOBMON = str(Path(sys.executable).with_name("jobmon"))  # the console script of this venv
PG_ADMIN = os.environ.get("JOBMON_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
HEADERS = {"Accept": ACCEPT, "Accept-Encoding": "gzip", "X-Prometheus-Scrape-Timeout-Seconds": "10"}
TEXT_HEADERS = {**HEADERS, "Accept": "text/plain;version=0.0.4"}
NOW = datetime(2026, 1, 15, 8, 0, 0)
TOTALS = [c.name for c in job_totals.columns if c.name != "revision"]
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
    """``runs`` more finished runs per job (run numbers from ``first``), each with a journal
    line and every tenth with a reject; the last is the latest, and running."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(first, first + runs):
            status = "running" if n == first + runs - 1 else "finished"
            for job in range(1, jobs + 1):
                at = _stamp(db, NOW - timedelta(minutes=(first + runs - n) * 5))
                yield (n * jobs + job, job, status, 1, at, at, at, at, 100, n % 3, n + 1)

    def lines() -> Iterator[tuple[Any, ...]]:
        at = _stamp(db, NOW)
        for n in range(first, first + runs):
            for job in range(1, jobs + 1):
                yield (n * jobs + job, n * jobs + job, at, "info", "Run created by the bench")

    def rejects() -> Iterator[tuple[Any, ...]]:
        for n in range(first, first + runs, 10):
            for job in range(1, jobs + 1):
                yield (n * jobs + job, n * jobs + job, 7, "a,b", "b", "type", "not a number")

    _bulk(db, "runs", RUN_COLUMNS, rows())
    _bulk(db, "journal", ["id", "run_id", "at", "level", "message"], lines())
    _bulk(
        db, "rejects", ["id", "run_id", "line", "record", "field", "reason", "message"], rejects()
    )
    with db.engine.begin() as conn:  # as the runner's writers do: through SQLAlchemy
        offset = (first + runs - 1) * jobs
        conn.execute(sa.update(Job).values(latest_run_id=Job.id + offset, status="running"))


def touch(db: Database, jobs: int, latest: int, share: float, rng: random.Random) -> None:
    """Change ``share`` of the jobs as running jobs do: heartbeat, records, a journal line."""
    ids = rng.sample(range(1, jobs + 1), max(1, int(jobs * share)))
    beat = datetime.now(UTC)
    totals = job_totals.c
    with db.engine.begin() as conn:  # as the runner's writers do: through SQLAlchemy
        for i in ids:
            conn.execute(
                sa.update(Run).where(Run.id == latest * jobs + i).values(heartbeat_at=beat)
            )
            conn.execute(
                sa.update(job_totals)
                .where(totals.job_id == i)
                .values(
                    records_total=totals.records_total + 100, journal_info=totals.journal_info + 1
                )
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


def scrape(port: int, path: str = "/metrics", headers: dict[str, str] = HEADERS) -> float:
    """Seconds one scrape took, body read in full."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise OSError(f"status {response.status}")
        return elapsed
    finally:
        conn.close()


def memory_mib(pid: int) -> tuple[float, float]:
    """Resident memory of a process and its peak (VmRSS, VmHWM), MiB."""
    found = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(maxsplit=1)[0] if line else ""
        if key in found:
            found[key] = int(line.split()[1]) / 1024
    return found["VmRSS:"], found["VmHWM:"]


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(db: Database, url: str, jobs: int, latest: int, tmp: Path) -> dict[str, Any]:
    """Startup, cold, steady and live scrape times, and the exporter's memory."""
    count = 30 if jobs >= 10_000 else 40
    rng = random.Random(jobs)
    started = time.perf_counter()
    with exporter_process(url, tmp) as (process, port):
        startup = time.perf_counter() - started
        cold = scrape(port)
        steady = [scrape(port) for _ in range(count)]
        live: dict[str, list[float]] = {"openmetrics": [], "text": []}
        for _ in range(count):
            for fmt, headers in (("openmetrics", HEADERS), ("text", TEXT_HEADERS)):
                touch(db, jobs, latest, 0.01, rng)
                live[fmt].append(scrape(port, headers=headers))
        rss, peak = memory_mib(process.pid)
    return {
        "startup": startup * 1000,
        "cold": cold * 1000,
        "steady": percentiles(steady),
        "live": {fmt: percentiles(times) for fmt, times in live.items()},
        "rss": rss,
        "hwm": peak,
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


HEAD = (
    "| backend | jobs | runs/job | startup ms | cold ms | steady p50/p95 | live OM+gzip p50/p95 "
    "| live text+gzip p50/p95 | baseline plain exporter ms | generate_latest ms "
    "| baseline / live p95 | RSS MiB | VmHWM MiB |"
)
TARGETS = (
    "targets at 10,000 jobs: cold <= 500 ms, live p95 <= 50 ms, RSS <= 100 MiB, flat in history"
)


def _row(backend: str, jobs: int, runs: int, m: dict[str, Any], base: dict[str, float]) -> str:
    om, text = m["live"]["openmetrics"], m["live"]["text"]
    worst = max(om[1], text[1])
    return (
        f"| {backend} | {jobs} | {runs} | {m['startup']:.0f} | {m['cold']:.0f} "
        f"| {m['steady'][0]:.1f} / {m['steady'][1]:.1f} | {om[0]:.1f} / {om[1]:.1f} "
        f"| {text[0]:.1f} / {text[1]:.1f} | {base['plain']:.0f} | {base['generate']:.0f} "
        f"| {base['plain'] / worst:.0f}x | {m['rss']:.0f} | {m['hwm']:.0f} |"
    )


def _analyze(db: Database) -> None:
    if not db.is_sqlite:  # planner statistics, as autovacuum would
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def run_size(backend: str, jobs: int, tmp: Path, report: Callable[[str], None]) -> dict[str, Any]:
    """Measure ``jobs`` jobs at 1 and 100 runs per job; the figures, for ``--json``."""
    measured: dict[int, tuple[dict[str, Any], dict[str, float]]] = {}
    with database(backend, tmp) as (db, url):
        start = time.perf_counter()
        fill_jobs(db, jobs)
        for first, runs in ((0, 1), (1, 99)):
            add_history(db, jobs, first, runs)
            _analyze(db)
            figures = measure(db, url, jobs, first + runs - 1, tmp)
            measured[first + runs] = (figures, baseline(db, 1 if jobs >= 10_000 else 3))
            report(_row(backend, jobs, first + runs, *measured[first + runs]))
        took = time.perf_counter() - start
        size = measured[100][1]["bytes"]
    report(
        f"<!-- {backend} {jobs} jobs: {size / 1e6:.1f} MB text, {took:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f} -->"
    )
    return _figures(measured)


def _figures(measured: dict[int, tuple[dict[str, Any], dict[str, float]]]) -> dict[str, Any]:
    """The figures of one backend at one job count: the worse of the two histories."""
    small, large = measured[1][0], measured[100][0]

    def worst(pick: Callable[[dict[str, Any]], float]) -> float:
        return max(pick(small), pick(large))

    def p95(m: dict[str, Any]) -> float:
        return max(float(m["live"]["openmetrics"][1]), float(m["live"]["text"][1]))

    return {
        "startup_ms": worst(lambda m: m["startup"]),
        "cold_ms": worst(lambda m: m["cold"]),
        "live_p95_ms_openmetrics": worst(lambda m: m["live"]["openmetrics"][1]),
        "live_p95_ms_text": worst(lambda m: m["live"]["text"][1]),
        "rss_mib": worst(lambda m: m["rss"]),
        "hwm_mib": worst(lambda m: m["hwm"]),
        "history_ratio": p95(large) / p95(small),
        "history_ratio_p50": max(large["live"]["openmetrics"][0], large["live"]["text"][0])
        / max(small["live"]["openmetrics"][0], small["live"]["text"][0]),
        "baseline_plain_ms": max(b["plain"] for _, b in measured.values()),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the bench; the figures at the largest job count, by backend."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 jobs")
    parser.add_argument("--jobs", help="job counts, comma-separated (default 1000,10000)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--summary", action="store_true", help="print them as a last line")
    args = parser.parse_args(argv)
    sizes: tuple[int, ...] = (100, 1000) if args.quick else (1000, 10_000)
    if args.jobs:
        sizes = tuple(int(n) for n in args.jobs.split(","))
    print(TARGETS)
    print(HEAD)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-") as tmp:
        for backend in args.backends.split(","):
            for jobs in sizes:
                found = run_size(backend, jobs, Path(tmp), lambda s: print(s, flush=True))
                figures[backend] = {"jobs": jobs, **found}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.summary:
        print("SUMMARY " + json.dumps(figures, sort_keys=True))
    return figures


if __name__ == "__main__":
    main()
