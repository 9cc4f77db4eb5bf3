"""Import speed and memory: jobmon's validated import next to the fastest unvalidated loads.

Generates an 8-column CSV (integer, text, email pattern, enum, decimal, float, boolean, date)
and, on the same file in the same run, measures:

- PostgreSQL: ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy`` (``write_row`` of each
  parsed record, no validation), then a jobmon import of the same file into the same server;
- SQLite: the standard library's ``executemany`` of the parsed records in one transaction,
  then a jobmon import, both into the same database file with jobmon's settings (WAL);
- while each jobmon import runs, another process loops over run transitions of another job
  in the same jobmon database and reports the longest one (imports commit in chunks, so no
  other job should wait long);
- peak RSS of a jobmon import in a child process, for two file sizes, on both databases.

    python bench/import_bench.py [--rows 1000000] [--rss-rows 1000000 5000000]
                                 [--postgresql URL] [--skip-postgresql] [--skip-rss]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from runner.core import catalog, config, control
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor.worker import run_once

PG_ADMIN = os.environ.get("JOBMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HEADER = ["id", "name", "email", "country", "amount", "score", "active", "signup"]
COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "type": "text", "max_length": 60, "required": True},
    {"name": "email", "type": "pattern", "pattern": r"[^@\s]+@[^@\s]+\.[a-z]+"},
    {"name": "country", "type": "enum", "choices": ["FR", "DE", "US", "GB", "NO", "JP"]},
    {"name": "amount", "type": "decimal", "precision": 12, "scale": 2},
    {"name": "score", "type": "float"},
    {"name": "active", "type": "boolean"},
    {"name": "signup", "type": "date"},
]
BASELINE_TABLE = (
    "CREATE TABLE {name} (id BIGINT, name VARCHAR(60), email TEXT, country VARCHAR(2),"
    " amount NUMERIC(12, 2), score DOUBLE PRECISION, active BOOLEAN, signup DATE)"
)


def generate(path: Path, rows: int) -> None:
    """A CSV of ``rows`` valid records (the same for a given count)."""
    rng = random.Random(rows)
    countries = ["FR", "DE", "US", "GB", "NO", "JP"]
    start = date(2015, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for base in range(0, rows, 10_000):
            lines = []
            for i in range(base + 1, min(rows, base + 10_000) + 1):
                lines.append(
                    f'{i},"Customer {i}, Ltd",user{i}@example.com,{countries[i % 6]},'
                    f"{rng.randrange(10**7) / 100:.2f},{rng.random():.6f},"
                    f"{'true' if i % 3 else 'false'},{start + timedelta(days=i % 3650)}\n"
                )
            out.write("".join(lines))


def job_config(url: str, data: Path, path: Path, table: str) -> Config:
    """A config with the benchmark's import job and an idle job for the transition loop."""
    return config.parse(
        {
            "database": {"url": url},
            "runner": {"data_dirs": [str(data)]},
            "jobs": [
                {
                    "name": "bench-import",
                    "kind": "import",
                    "source": {"path": str(path)},
                    "target": {"table": table, "create": True},
                    "columns": COLUMNS,
                },
                {"name": "bench-idle", "kind": "python", "callable": "runner.examples:noop"},
            ],
        }
    )


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f} rows/s ({seconds:6.2f} s)"


def count_rows(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar())


def timed_import(cfg: Config, db: Database) -> tuple[float, float]:
    """Seconds of a jobmon import, and the longest concurrent transition (seconds)."""
    catalog.sync_jobs(db, cfg.jobs)
    loop = subprocess.Popen(
        [sys.executable, __file__, "--child-transitions", cfg.database.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert loop.stdout is not None and loop.stdin is not None
    loop.stdout.readline()  # started
    began = time.perf_counter()
    status = run_once(cfg, db, "bench-import")
    seconds = time.perf_counter() - began
    loop.stdin.close()
    longest = float(loop.stdout.readline())
    loop.wait()
    if status.value != "finished":
        raise SystemExit(f"the import ended {status.value}")
    return seconds, longest


@contextmanager
def postgresql_database(admin: str) -> Iterator[str]:
    """A scratch database on the server, dropped at the end; its URL."""
    name = f"jobmon_bench_{os.getpid()}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        engine.dispose()


def bench_postgresql(path: Path, rows: int, url: str) -> None:
    db = Database(url)
    try:
        upgrade(db)
        baseline = copy_baseline(db, path)
        assert count_rows(db, "baseline") == rows
        seconds, longest = timed_import(job_config(url, path.parent, path, "imported"), db)
        assert count_rows(db, "imported") == rows
        report("PostgreSQL", rows, "COPY (psycopg cursor.copy)", baseline, seconds, longest)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE baseline")
            conn.exec_driver_sql("DROP TABLE imported")
    finally:
        db.dispose()


def copy_baseline(db: Database, path: Path) -> float:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(BASELINE_TABLE.format(name="baseline"))
        raw.commit()
        began = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as source:
            records = csv.reader(source)
            next(records)
            with cursor.copy("COPY baseline FROM STDIN") as copy:
                for record in records:
                    copy.write_row(record)
        raw.commit()
        return time.perf_counter() - began
    finally:
        raw.close()


def bench_sqlite(path: Path, rows: int, work: Path) -> None:
    url = f"sqlite:///{work / 'jobmon.db'}"
    db = Database(url)
    upgrade(db)
    baseline = executemany_baseline(work / "jobmon.db", path)
    assert count_rows(db, "baseline") == rows
    seconds, longest = timed_import(job_config(url, path.parent, path, "imported"), db)
    assert count_rows(db, "imported") == rows
    db.dispose()
    report("SQLite", rows, "stdlib executemany", baseline, seconds, longest)


def executemany_baseline(database: Path, path: Path) -> float:
    """Into the same database file, with the settings jobmon uses (WAL, synchronous=NORMAL)."""
    import sqlite3

    base = sqlite3.connect(database, isolation_level=None)
    base.execute("PRAGMA synchronous = NORMAL")
    base.execute(BASELINE_TABLE.format(name="baseline"))
    began = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as source:
        records = csv.reader(source)
        next(records)
        base.execute("BEGIN")
        base.executemany("INSERT INTO baseline VALUES (?, ?, ?, ?, ?, ?, ?, ?)", records)
        base.execute("COMMIT")
    seconds = time.perf_counter() - began
    base.close()
    return seconds


def report(
    name: str, rows: int, what: str, baseline: float, seconds: float, longest: float
) -> None:
    print(f"{name}, {rows:,} rows, 8 columns")
    print(f"  {what + ', no validation':40s} {rate(rows, baseline)}")
    print(f"  {'jobmon import, validated, checkpointed':40s} {rate(rows, seconds)}")
    print(f"  {'ratio':40s} {baseline / seconds:10.0%} of the baseline")
    print(f"  {'longest transition of another job':40s} {longest * 1000:10.0f} ms")


def peak_rss(path: Path, url: str) -> int:
    """Peak RSS (KiB) of a child process that imports ``path`` into the database at ``url``
    (with its own reading process, if it starts one: wait4 counts waited-for descendants)."""
    child = subprocess.Popen([sys.executable, __file__, "--child-import", str(path), url])
    _pid, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit("the child import failed")
    return int(usage.ru_maxrss)


def bench_rss(sizes: list[int], work: Path, urls: dict[str, str]) -> None:
    print("Peak RSS of an import in a child process")
    print("(PostgreSQL: the larger of that process and its reading process)")
    for rows in sizes:
        path = work / f"rss-{rows}.csv"
        generate(path, rows)
        size = path.stat().st_size / 2**20
        for name, url in urls.items():
            rss = peak_rss(path, url) / 1024
            print(f"  {name:10s} {rows:>10,} rows ({size:4.0f} MiB file): {rss:5.0f} MiB")
        path.unlink()


def child_import(path: str, url: str) -> None:
    db = Database(url)
    upgrade(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS imported")
    cfg = job_config(url, Path(path).parent, Path(path), "imported")
    if run_once(cfg, db, "bench-import").value != "finished":
        raise SystemExit(1)
    db.dispose()


def child_transitions(url: str) -> None:
    """Create and cancel runs of ``bench-idle`` until stdin closes; print the longest (s)."""
    import select

    db = Database(url)
    print("started", flush=True)
    longest = 0.0
    while not select.select([sys.stdin], [], [], 0)[0]:
        for request in (control.start, control.cancel):
            began = time.perf_counter()
            request(db, "bench-idle", utcnow())
            longest = max(longest, time.perf_counter() - began)
        time.sleep(0.25)
    print(longest, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--postgresql", default=PG_ADMIN, help="admin URL of a PostgreSQL server")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--child-import", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-transitions", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        return child_import(*args.child_import)
    if args.child_transitions:
        return child_transitions(args.child_transitions)
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        path = work / "bench.csv"
        generate(path, args.rows)
        print(f"{path.stat().st_size / 2**20:.0f} MiB CSV, {args.rows:,} rows\n")
        urls = {"SQLite": f"sqlite:///{work / 'rss.db'}"}
        if not args.skip_postgresql:
            url = stack.enter_context(postgresql_database(args.postgresql))
            bench_postgresql(path, args.rows, url)
            urls["PostgreSQL"] = url
        bench_sqlite(path, args.rows, work)
        if not args.skip_rss:
            bench_rss(args.rss_rows, work, urls)


if __name__ == "__main__":
    main()
