"""Import speed and memory: jobmon's validated import next to the fastest unvalidated loads.

Generates an 8-column CSV (integer, text, e-mail pattern, enum, decimal, float, boolean, date)
with 0.1% bad records (see ``import_loads.py``) and, on the same file in the same run, measures
on each database its baselines, then a jobmon import of the same file into the same server:

- PostgreSQL: ``COPY ... FROM STDIN`` through psycopg's ``cursor.copy`` (``write_row`` of each
  parsed record, no validation);
- SQLite: the standard library's ``executemany`` of the parsed records in one transaction, into
  the same database file with jobmon's settings (WAL);
- MariaDB: PyMySQL's ``executemany`` in one transaction, and ``LOAD DATA LOCAL INFILE``;
- while each jobmon import runs, another process loops over run transitions of another job
  in the same jobmon database and reports the longest one (imports commit in chunks, so no
  other job should wait long);
- peak RSS of a jobmon import in a child process, for two file sizes, on every database.

Each load is timed ``--attempts`` times (3 by default), the baselines and jobmon in turn
(baselines first, then jobmon first, ...), and its best time kept: on a shared machine a load's
time varies from one attempt to the next, and that noise only adds time. Each figure is printed
with its baselines beside it, every attempt's time, and the ratio of the baseline's best time to
jobmon's (above 100%: jobmon is faster). ``--runs N`` repeats the speed part and ends with the
spread of each ratio; ``--json FILE`` writes the last run's figures (``bench/all.py`` reads it).
The transition loop also runs for a few seconds before each import: the longest transition
with no import running is printed beside the one during the import.

    python bench/import_bench.py [--rows 1000000] [--runs 1] [--attempts 3]
                                 [--rss-rows 1000000 5000000]
                                 [--postgresql URL] [--mariadb URL]
                                 [--skip-postgresql] [--skip-mariadb] [--skip-rss] [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_loads as loads  # the benchmark's own helper, next to this file

from runner.core import catalog, config, control
from runner.core.clock import utcnow
from runner.core.config import Config
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.executor.jobs import strategy
from runner.executor.worker import run_once

PG_ADMIN = os.environ.get("JOBMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("JOBMON_TEST_MARIADB", "mariadb+pymysql://root@127.0.0.1:3306/test")
Baseline = Callable[[str, Path, Path], float]
# Per database: each baseline's name and how it is measured (url, file, work directory).
BASELINES: dict[str, list[tuple[str, Baseline]]] = {
    "PostgreSQL": [("COPY (psycopg write_row)", lambda u, p, w: loads.postgresql_copy(u, p))],
    "SQLite": [
        ("stdlib executemany", lambda u, p, w: loads.sqlite_executemany(w / "jobmon.db", p))
    ],
    "MariaDB": [
        ("PyMySQL executemany", lambda u, p, w: loads.mariadb_executemany(u, p)),
        ("LOAD DATA LOCAL INFILE", lambda u, p, w: loads.mariadb_load_data(u, p)),
    ],
}


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
                    "columns": loads.COLUMNS,
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


IDLE_SECONDS = 3.0  # the transition loop alone, before the first import: its baseline
# Each load is timed this many times by default, baselines and jobmon in turn, and its best
# time kept: a load's time varies by 10-15% from one attempt to the next on a shared 2-core
# machine, and that noise only ever adds time.
ATTEMPTS = 3


@dataclasses.dataclass
class Times:
    """The times of each attempt of a load (seconds), in order."""

    seconds: list[float] = dataclasses.field(default_factory=list)

    def best(self) -> float:
        return min(self.seconds)

    def shown(self, rows: int) -> str:
        """The best rate, then each attempt's seconds."""
        return f"{rate(rows, self.best())}  [{', '.join(f'{s:.2f}' for s in self.seconds)}]"


def timed_import(cfg: Config, db: Database, idle: bool) -> tuple[float, float, float]:
    """Seconds of a jobmon import, the longest transition of another job while it ran, and
    (with ``idle``) the longest of the same loop in the same database with no import (s)."""
    catalog.sync_jobs(db, cfg.jobs)
    loop = subprocess.Popen(
        [sys.executable, __file__, "--child-transitions", cfg.database.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert loop.stdout is not None and loop.stdin is not None
    loop.stdout.readline()  # started
    if idle:
        time.sleep(IDLE_SECONDS)
    loop.stdin.write("next\n")
    loop.stdin.flush()
    quiet = float(loop.stdout.readline())
    began = time.perf_counter()
    status = run_once(cfg, db, "bench-import")
    seconds = time.perf_counter() - began
    loop.stdin.close()
    longest = float(loop.stdout.readline())
    loop.wait()
    if status.value != "finished":
        raise SystemExit(f"the import ended {status.value}")
    return seconds, longest, quiet if idle else 0.0


def jobmon_import(
    name: str, url: str, path: Path, rows: int, idle: bool
) -> tuple[float, float, float]:
    """One timed jobmon import of the file into a fresh table (see :func:`timed_import`)."""
    db = Database(url)
    try:
        upgrade(db)
        found = timed_import(job_config(url, path.parent, path, "imported"), db, idle)
        good = rows - loads.bad_records(rows)
        if count_rows(db, "imported") != good:
            raise SystemExit(f"{name}: {count_rows(db, 'imported')} rows, expected {good}")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE imported")
    finally:
        db.dispose()
    return found


def bench_database(
    name: str, url: str, path: Path, rows: int, work: Path, attempts: int = ATTEMPTS
) -> dict[str, float]:
    """Baselines and jobmon imports on one database, ``attempts`` times in turn (the
    baselines first, then jobmon first, and so on); prints them, returns the ratios of the
    best times and the longest transitions (``longest_transition_ms`` during any import,
    ``idle_transition_ms``)."""
    baselines = {what: Times() for what, _ in BASELINES[name]}
    jobmon, during, quiet = Times(), [0.0], [0.0]  # longest transitions: importing, and not

    def time_baselines(_attempt: int) -> None:
        for what, measure in BASELINES[name]:
            baselines[what].seconds.append(measure(url, path, work))

    def time_jobmon(attempt: int) -> None:
        seconds, importing, idle = jobmon_import(name, url, path, rows, idle=attempt == 0)
        jobmon.seconds.append(seconds)
        during.append(importing)
        quiet.append(idle)

    for attempt in range(attempts):
        turn = (time_baselines, time_jobmon) if attempt % 2 == 0 else (time_jobmon, time_baselines)
        for timed in turn:
            timed(attempt)
    longest, idle = max(during), max(quiet)
    print(f"{name}, {rows:,} rows ({loads.bad_records(rows):,} bad), 8 columns")
    if attempts > 1:
        print(f"  best of {attempts} attempts, taken in turn [each attempt's seconds]")
    for what, times in baselines.items():
        print(f"  {what + ', no validation':42s} {times.shown(rows)}")
    print(f"  {'jobmon import, validated, checkpointed':42s} {jobmon.shown(rows)}")
    ratios = {what: times.best() / jobmon.best() for what, times in baselines.items()}
    for what, ratio in ratios.items():
        print(f"  {'ratio to ' + what:42s} {ratio:10.0%}")
    print(f"  {'longest transition of another job':42s} {longest * 1000:10.0f} ms")
    print(f"  {'  the same with no import running':42s} {idle * 1000:10.0f} ms", flush=True)
    return {**ratios, "longest_transition_ms": longest * 1000, "idle_transition_ms": idle * 1000}


def peak_rss(path: Path, url: str) -> int:
    """Peak RSS (KiB) of a child process that imports ``path`` into the database at ``url``,
    or of a process it starts (the larger): each one's high-water mark, read from /proc
    until it ends. (``wait4``'s figure would count this process's own RSS at the fork.)"""
    child = subprocess.Popen([sys.executable, __file__, "--child-import", str(path), url])
    peaks: dict[int, int] = {}
    while child.poll() is None:
        for pid in (child.pid, *descendants(child.pid)):
            peaks[pid] = max(peaks.get(pid, 0), high_water(pid))
        time.sleep(0.02)
    if child.returncode != 0:
        raise SystemExit("the child import failed")
    return max(peaks.values())


def descendants(pid: int) -> list[int]:
    """The process ids of ``pid``'s children and theirs (Linux)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return []
    return found + [d for c in found for d in descendants(c)]


def high_water(pid: int) -> int:
    """The peak resident set size (KiB) of a running process so far, or 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(found[0]) if found else 0


def bench_rss(sizes: list[int], work: Path, urls: dict[str, str]) -> float:
    """Prints each peak RSS; returns the largest (MiB)."""
    print("Peak RSS of an import in a child process")
    print("(the larger of that process and any process it starts, such as a reading process)")
    largest = 0.0
    for rows in sizes:
        path = work / f"rss-{rows}.csv"
        loads.generate(path, rows)
        size = path.stat().st_size / 2**20
        for name, url in urls.items():
            rss = peak_rss(path, url) / 1024
            largest = max(largest, rss)
            print(f"  {name:10s} {rows:>10,} rows ({size:4.0f} MiB file): {rss:5.0f} MiB")
        path.unlink()
    return largest


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
    while True:
        if select.select([sys.stdin], [], [], 0)[0]:
            print(longest, flush=True)  # then start again, or end if stdin was closed
            if not sys.stdin.readline():
                return
            longest = 0.0
        for request in (control.start, control.cancel):
            began = time.perf_counter()
            request(db, "bench-idle", utcnow())
            longest = max(longest, time.perf_counter() - began)
        time.sleep(0.25)


def spread(runs: list[dict[str, dict[str, float]]]) -> None:
    print(f"Ratios over {len(runs)} runs (baseline's time / jobmon's), min - max")
    for name, figures in runs[0].items():
        for key in figures:
            if key.endswith("_ms"):
                continue
            values = [run[name][key] for run in runs]
            print(f"  {name + ': ' + key:52s} {min(values):5.0%} - {max(values):5.0%}")


def force_reading(reading: str) -> None:
    """Make every import of this process find records by ``reading`` (unless "chosen")."""
    if reading == "chosen":
        return
    real = strategy.choose

    def choose(dialect: str, remaining: int, **options: Any) -> strategy.Strategy:
        return dataclasses.replace(real(dialect, remaining, **options), reading=reading)

    strategy.choose = choose  # type: ignore[assignment]  # the Literal is checked by argparse


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat the speed part N times")
    parser.add_argument(
        "--attempts", type=int, default=ATTEMPTS, help="times each load is timed in a run"
    )
    parser.add_argument("--rss-rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--postgresql", default=PG_ADMIN, help="admin URL of a PostgreSQL server")
    parser.add_argument("--mariadb", default=MARIADB_ADMIN, help="admin URL of a MariaDB server")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-mariadb", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument(
        "--reading",
        choices=["chosen", "lines", "records"],
        default="chosen",
        help="how imports find records: as the strategy chooses, or always this way",
    )
    parser.add_argument("--json", type=Path, help="write the last run's figures to this file")
    parser.add_argument("--child-import", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-transitions", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    force_reading(args.reading)
    if args.child_import:
        return child_import(*args.child_import)
    if args.child_transitions:
        return child_transitions(args.child_transitions)
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        path = work / "bench.csv"
        loads.generate(path, args.rows)
        print(f"{path.stat().st_size / 2**20:.0f} MiB CSV, {args.rows:,} rows\n")
        urls = {"SQLite": f"sqlite:///{work / 'jobmon.db'}"}
        if not args.skip_postgresql:
            urls["PostgreSQL"] = stack.enter_context(loads.scratch_database(args.postgresql))
        if not args.skip_mariadb:
            urls["MariaDB"] = stack.enter_context(loads.scratch_database(args.mariadb))
        runs = []
        for run in range(args.runs):
            if args.runs > 1:
                print(f"Run {run + 1} of {args.runs}")
            runs.append(
                {
                    n: bench_database(n, u, path, args.rows, work, args.attempts)
                    for n, u in urls.items()
                }
            )
            print()
        if args.runs > 1:
            spread(runs)
        figures: dict[str, Any] = dict(runs[-1])
        if not args.skip_rss:
            urls["SQLite"] = f"sqlite:///{work / 'rss.db'}"
            figures["peak_rss_mib"] = bench_rss(args.rss_rows, work, urls)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
