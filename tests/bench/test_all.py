"""``bench/all.py`` runs every benchmark for real (tiny sizes here) and prints one table of
the targets with the figures the benchmarks measured and their baselines beside them."""

from __future__ import annotations

import re

import pytest

from bench import all as everything


def test_all_benchmarks_run_and_the_targets_table_reads_their_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs = everything.main(["--rows", "3000", "--jobs", "30", "--skip-rss"])
    out = capsys.readouterr().out
    (figures,) = runs
    assert set(figures["import"]) == {"SQLite", "PostgreSQL", "MariaDB"}
    assert set(figures["exporter"]) == {"sqlite", "postgresql"}
    table = out[out.index("=== Targets over 1 run(s)") :].splitlines()[1:]
    rows = {re.split(r"\s{2,}", line)[0]: line for line in table[1:]}
    # Every target found its figure in the benchmarks' output, with its baseline beside it.
    expected = [t.what for t in (*everything.import_targets(), *everything.scrape_targets(
        ["postgresql", "sqlite"]
    )) if "peak RSS of an import" not in t.what]  # fmt: skip
    assert sorted(rows) == sorted(expected)
    speed = rows["PostgreSQL: import speed, to COPY"]
    ratio = figures["import"]["PostgreSQL"]["COPY (psycopg write_row)"]
    assert f"{ratio:.0%}" in speed and "COPY (psycopg write_row)" in speed
    live = rows["sqlite: live scrape p95, OpenMetrics+gzip"]
    exporter = figures["exporter"]["sqlite"]
    target = everything.scrape_targets(["sqlite"])[0]
    assert target.show(exporter["live_p95_ms_openmetrics"]) in live
    assert f"prometheus-client exporter {target.show(exporter['baseline_plain_ms'])}" in live
