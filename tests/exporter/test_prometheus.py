"""A real Prometheus scraping real exporters on PostgreSQL: what it stores equals the database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from exporter.server import ExporterServer
from runner.core import retention
from runner.core.config import Config
from runner.core.storage.db import Database
from tests.conftest import ServerDatabases, database_url
from tests.exporter.conftest import Scraping, tls_web_config
from tests.exporter.expo import SELF
from tests.exporter.pki import PKI
from tests.exporter.scenario import T0, Series, expected, populate
from tests.promtools import wait_until

pytestmark = pytest.mark.slow
COUNTERS = (
    "jobmon_job_runs_total",
    "jobmon_job_transitions_total",
    "jobmon_job_records_total",
    "jobmon_job_rejected_records_total",
    "jobmon_journal_messages_total",
    "jobmon_job_run_duration_seconds_count",
    "jobmon_job_run_duration_seconds_sum",
    "jobmon_job_run_duration_seconds_bucket",
)


@pytest.fixture
def pg(tmp_path: Path, server_databases: ServerDatabases) -> Iterator[tuple[Database, Config]]:
    db = Database(database_url("postgresql", tmp_path, server_databases))
    yield db, populate(db)
    db.dispose()


def stored(scraping: Scraping, instance: int, since: float = 0.0) -> dict[Series, float] | None:
    """Every job series Prometheus holds for the instance, if scraped after ``since``."""
    target = f'instance="127.0.0.1:{instance}"'
    latest = scraping.prometheus.query(f"timestamp(jobmon_database_up{{{target}}})")
    if not latest or float(latest[0]["value"][1]) <= since:
        return None
    out: dict[Series, float] = {}
    for r in scraping.prometheus.query(f'{{__name__=~"jobmon_.+",{target}}}'):
        labels = dict(r["metric"])
        name = labels.pop("__name__")
        if name not in SELF:
            labels.pop("job"), labels.pop("instance")
            out[name, frozenset(labels.items())] = float(r["value"][1])
    return out


def as_stored(series: dict[Series, float]) -> dict[Series, float]:
    """``series`` as Prometheus keeps them: a label with an empty value is no label."""
    return {
        (name, frozenset((k, v) for k, v in labels if v)): x for (name, labels), x in series.items()
    }


def wait_equal(scraping: Scraping, instance: int, want: dict[Series, float], since: float) -> None:
    def check() -> bool:
        return stored(scraping, instance, since) == as_stored(want)

    wait_until(check, 30, f"Prometheus to store the database's values for :{instance}")


def no_counter_resets(scraping: Scraping, instance: int) -> bool:
    target = f'instance="127.0.0.1:{instance}"'
    return all(
        scraping.prometheus.query(f"resets({name}{{{target}}}[10m]) > 0") == [] for name in COUNTERS
    )


def test_prometheus_stores_every_series_as_the_database_says(
    scraping: Scraping, pg: tuple[Database, Config], start_exporter: Callable[..., ExporterServer]
) -> None:
    db, config = pg
    start_exporter(config, listen_address=f"127.0.0.1:{scraping.plain_a}")
    wait_equal(scraping, scraping.plain_a, expected(db), time.time())
    target = f'instance="127.0.0.1:{scraping.plain_a}"'
    ones = scraping.prometheus.values(f"sum by (job_name) (jobmon_job_status{{{target}}})")
    assert len(ones) == 10 and set(ones.values()) == {1.0}
    up = scraping.prometheus.values(f"up{{{target}}}", drop=("__name__", "job", "instance"))
    assert up == {frozenset(): 1.0}


def test_counters_hold_across_restart_replicas_and_retention(
    scraping: Scraping, pg: tuple[Database, Config], start_exporter: Callable[..., ExporterServer]
) -> None:
    db, config = pg
    want = expected(db)
    a = start_exporter(config, listen_address=f"127.0.0.1:{scraping.plain_a}")
    start_exporter(config, listen_address=f"127.0.0.1:{scraping.plain_b}")
    since = time.time()
    for port in (scraping.plain_a, scraping.plain_b):
        wait_equal(scraping, port, want, since)
    a.stop()
    restarted = time.time()
    start_exporter(config, listen_address=f"127.0.0.1:{scraping.plain_a}")
    wait_equal(scraping, scraping.plain_a, want, restarted)
    assert retention.prune(db, days=1, now=T0 + timedelta(days=30)) >= 1
    assert expected(db) == want
    pruned = time.time()
    for port in (scraping.plain_a, scraping.plain_b):
        wait_equal(scraping, port, want, pruned)
        assert no_counter_resets(scraping, port)


def _health(scraping: Scraping, job: str) -> dict[str, str] | None:
    for target in scraping.prometheus.targets():
        if target["labels"]["job"] == job and target["health"] != "unknown":
            return {"health": target["health"], "error": target["lastError"]}
    return None


def test_prometheus_scrapes_over_mutual_tls_with_basic_auth(
    scraping: Scraping,
    pg: tuple[Database, Config],
    pki: PKI,
    write_web_config: Callable[[dict[str, object]], str],
    start_exporter: Callable[..., ExporterServer],
) -> None:
    db, config = pg
    web = write_web_config(tls_web_config(pki))
    start_exporter(config, listen_address=f"127.0.0.1:{scraping.tls}", web_config_file=web)
    since = time.time()
    wait_equal(scraping, scraping.tls, expected(db), since)
    time.sleep(1.5)  # let the two jobs that must fail try after the exporter came up
    nocert = wait_until(lambda: _health(scraping, "jobmon_tls_nocert"), 10, "nocert target")
    badpw = wait_until(lambda: _health(scraping, "jobmon_tls_badpw"), 10, "badpw target")
    assert nocert["health"] == "down"
    assert badpw["health"] == "down" and "401" in badpw["error"]
    good = _health(scraping, "jobmon_tls")
    assert good is not None and good["health"] == "up"
