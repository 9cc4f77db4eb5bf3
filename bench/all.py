"""Every speed figure jobmon promises, in one run, each beside the baseline it is held to.

Runs ``import_bench.py`` (imports into SQLite, PostgreSQL and MariaDB next to the fastest
unvalidated loads of the same file) and ``exporter_bench.py`` (scrapes at 100 to 10,000 jobs
next to prometheus-client), shows their own output as it comes, then one table of the targets:
each figure, its baseline measured in the same run, and whether the target is met. With
``--runs N`` each figure is measured N times and the table gives the range (min - max).

    .venv/bin/python bench/all.py [--runs 3] [--quick] [--rows 1000000] [--jobs 10000]
                                  [--skip-rss]

A full run takes about 10 minutes (1,000,000 rows into each database, peak RSS at 1,000,000
and 5,000,000 rows, scrapes at 10,000 jobs with 1 and 100 runs of history per job).
``--quick`` keeps it to a few minutes (100,000 rows, 100 and 1,000 jobs, no memory runs); the
targets are for the full sizes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Figures = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """A promised figure: how to read it and its baseline from a run's figures, and the
    bound it must meet (None: shown for reference)."""

    what: str
    value: Callable[[Figures], float | None]
    unit: str  # "%" for ratios, "x" for factors, else a unit of measure
    bound: float | None = None
    higher_is_better: bool = False
    baseline: str = ""  # what it is compared with, as printed
    base: Callable[[Figures], float | None] | None = None  # the baseline's figure

    def met(self, value: float) -> bool:
        if self.bound is None:
            return True
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def show(self, value: float) -> str:
        if self.unit == "%":
            return f"{value:.0%}"
        if self.unit == "x":
            return f"{value:.2f}x"
        return f"{value:,.0f} {self.unit}" if value >= 10 else f"{value:.1f} {self.unit}"


def _get(*path: str) -> Callable[[Figures], float | None]:
    def read(figures: Figures) -> float | None:
        found: Any = figures
        for key in path:
            if not isinstance(found, dict) or key not in found:
                return None
            found = found[key]
        return float(found)

    return read


def import_targets() -> tuple[Target, ...]:
    """Imports of the benchmark's file: ratios to the baselines (baseline's time / jobmon's)."""
    ratios = (
        ("PostgreSQL", "COPY (psycopg write_row)", "COPY", 0.90),
        ("SQLite", "stdlib executemany", "executemany", 0.80),
        ("MariaDB", "PyMySQL executemany", "executemany", None),
        ("MariaDB", "LOAD DATA LOCAL INFILE", "LOAD DATA", None),
    )
    found = [
        Target(f"{db}: import speed, to {short}", _get("import", db, what), "%", bound, True, what)
        for db, what, short, bound in ratios
    ]
    for db in ("SQLite", "PostgreSQL", "MariaDB"):
        found.append(
            Target(
                f"{db}: other jobs' transitions while importing",
                _get("import", db, "longest_transition_ms"),
                "ms",
                100,
                baseline="the same, no import",
                base=_get("import", db, "idle_transition_ms"),
            )
        )
    found.append(
        Target("peak RSS of an import, 1M and 5M rows", _get("import", "peak_rss_mib"), "MiB", 200)
    )
    return tuple(found)


def scrape_targets(backends: Sequence[str]) -> tuple[Target, ...]:
    """The exporter's figures at the largest job count on each backend."""
    found: list[Target] = []
    for backend in backends:
        key = ("exporter", backend)
        plain = _get(*key, "baseline_plain_ms")
        found += [
            Target(f"{backend}: live scrape p95, OpenMetrics+gzip",
                   _get(*key, "live_p95_ms_openmetrics"), "ms", 50, False,
                   "prometheus-client exporter", plain),
            Target(f"{backend}: live scrape p95, text+gzip", _get(*key, "live_p95_ms_text"),
                   "ms", 50, False, "prometheus-client exporter", plain),
            Target(f"{backend}: cold scrape (once ready)", _get(*key, "cold_ms"), "ms", 500),
            Target(f"{backend}: start until ready", _get(*key, "startup_ms"), "ms"),
            Target(f"{backend}: exporter RSS", _get(*key, "rss_mib"), "MiB", 100),
            Target(f"{backend}: exporter peak RSS", _get(*key, "hwm_mib"), "MiB"),
            Target(f"{backend}: live p50, 100x history / 1x", _get(*key, "history_ratio_p50"),
                   "x", 1.25, False, "the same at 1 run per job"),
        ]  # fmt: skip
    return tuple(found)


def run_bench(script: str, args: list[str], out: Path) -> Figures:
    """Run one benchmark (its output shown as it comes) and read the figures it saved."""
    command = [sys.executable, str(HERE / script), *args, "--json", str(out)]
    print(f"$ {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True)
    return dict(json.loads(out.read_text()))


def table(targets: Sequence[Target], runs: Sequence[Figures]) -> list[str]:
    """One line per target: the range over the runs, the baseline's, the bound, and whether
    every run met it."""
    lines = [f"{'figure':52s} {'measured':>15s} {'target':>9s} met  baseline"]
    for target in targets:
        values = [v for v in (target.value(run) for run in runs) if v is not None]
        if not values:
            continue
        sign = ">=" if target.higher_is_better else "<="
        bound = "-" if target.bound is None else f"{sign}{target.show(target.bound)}"
        met = "-" if target.bound is None else "yes" if all(map(target.met, values)) else "NO"
        baseline = target.baseline
        if target.base is not None:
            bases = [v for v in (target.base(run) for run in runs) if v is not None]
            baseline += f" {_range(target, bases)}" if bases else ""
        lines.append(
            f"{target.what:52s} {_range(target, values):>15s} {bound:>9s} {met:3s}  {baseline}"
        )
    return lines


def _range(target: Target, values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return target.show(low) if low == high else f"{target.show(low)}-{target.show(high)}"


def main(argv: Sequence[str] | None = None) -> list[Figures]:
    """Run every benchmark ``--runs`` times, print the targets table; the runs' figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a few minutes, smaller sizes")
    parser.add_argument("--rows", type=int, help="rows of the import file (1,000,000)")
    parser.add_argument("--jobs", help="exporter job counts, comma-separated (10000)")
    parser.add_argument("--skip-rss", action="store_true", help="no import memory runs")
    args = parser.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    import_args = ["--rows", str(rows), "--runs", "1"]
    skip_rss = args.skip_rss or args.quick
    import_args += ["--skip-rss"] if skip_rss else ["--rss-rows", str(rows), str(5 * rows)]
    scrape_args = ["--jobs", args.jobs or ("100,1000" if args.quick else "10000")]
    runs: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="jobmon-bench-all-") as tmp:
        work = Path(tmp)
        for run in range(args.runs):
            print(f"\n=== Run {run + 1} of {args.runs} ===", flush=True)
            figures = {
                "import": run_bench("import_bench.py", import_args, work / "import.json"),
                "exporter": run_bench("exporter_bench.py", scrape_args, work / "exporter.json"),
            }
            runs.append(figures)
    backends = sorted({b for run in runs for b in run.get("exporter", {})})
    sizes = f"{rows:,} rows, {scrape_args[1]} jobs"
    print(
        f"\n=== Targets over {len(runs)} run(s) ({sizes}; targets are for 1,000,000 and 10,000) ==="
    )
    print("\n".join(table((*import_targets(), *scrape_targets(backends)), runs)), flush=True)
    return runs


if __name__ == "__main__":
    main()
