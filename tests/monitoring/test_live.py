"""A real Prometheus scraping a real ``jobmon run`` whose jobs sit in many statuses: every
dashboard query returns data, the status mappings match, and every alert rule evaluates."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.states import Status
from tests.monitoring.assets import (
    DASHBOARDS,
    RECORDING,
    RULES,
    alert_rules,
    concrete,
    dashboard,
    queries,
    recording_rules,
)
from tests.promtools import PrometheusServer, free_port, wait_until

pytestmark = pytest.mark.slow

JOBMON = str(Path(sys.executable).with_name("jobmon"))
DEADLINE = 45.0
SLOW = {"callable": "runner.examples:count", "params": {"total": 10**6, "step": 1, "delay": 0.2}}
JOBS: list[dict[str, Any]] = [
    {
        "name": "ok",
        "schedule": "@every 2s",
        "callable": "runner.examples:count",
        "params": {"total": 30, "step": 10, "reject_every": 7},
        "max_rejects": 100,
        "max_duration_seconds": 60,
    },
    {"name": "bad", "schedule": "@every 2s", "callable": "runner.examples:crash"},
    {"name": "slow", **SLOW, "max_duration_seconds": 600},
    {"name": "pause-me", **SLOW},
    {"name": "cancel-me", **SLOW},
    {"name": "stop-me", **SLOW},
    {"name": "never", "callable": "runner.examples:noop"},
]
# The status each job shows once the fleet is set up (the scheduled ones keep moving).
EXPECTED = {
    "ok": {"finished", "running", "editing"},
    "bad": {"finished_with_errors", "running", "editing"},
    "slow": {"running"},
    "pause-me": {"paused"},
    "cancel-me": {"canceled"},
    "stop-me": {"server_stopped"},
    "never": {"editing"},
}
# Grafana's macros, filled in for a fleet that has existed for a few seconds only.
WINDOW, RANGE = "1m", "1h"


def _metrics(exporter: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{exporter}/metrics", timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return None


@dataclass
class Fleet:
    """A jobmon database with jobs in many statuses, and the Prometheus that scrapes it."""

    config: Path
    exporter: str
    prometheus: PrometheusServer

    def jobmon(self, *args: str) -> None:
        """Run a jobmon CLI command on the fleet's config."""
        command = [JOBMON, "--config", str(self.config), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=30)

    def has_status(self, job: str, status: str) -> bool:
        """Whether the exporter shows ``job`` in ``status`` right now."""
        text = _metrics(self.exporter) or ""
        return f'jobmon_job_status{{job_name="{job}",status="{status}"}} 1.0' in text

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector ``expr`` evaluates to now."""
        return self.prometheus.query(expr)


class Processes:
    """Started jobmon processes and their log files, stopped and closed on exit."""

    def __init__(self, stack: ExitStack, workdir: Path) -> None:
        self.stack, self.workdir = stack, workdir

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = self.stack.enter_context((self.workdir / f"{name}.log").open("wb"))
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.stack.callback(_stop, process)
        return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _prometheus_config(exporter_port: int) -> dict[str, Any]:
    scrape = {"job_name": "jobmon", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES), str(RECORDING)],
        "scrape_configs": [scrape],
    }


def _jobmon_config(workdir: Path, exporter_port: int) -> Path:
    path = workdir / "jobmon.yaml"
    runner = {"heartbeat_seconds": 0.5, "stale_after_seconds": 2, "poll_seconds": 0.2}
    runner["max_restarts"] = 0  # "stop-me" must stay server_stopped for its panels
    config = {
        "database": {"url": f"sqlite:///{workdir / 'jobmon.db'}"},
        "exporter": {"listen_address": f"127.0.0.1:{exporter_port}"},
        "runner": {**runner, "concurrency": 8, "shutdown_grace_seconds": 2},
        "jobs": [{"kind": "python", **job} for job in JOBS],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _run_jobmon(processes: Processes, fleet: Fleet, name: str) -> subprocess.Popen[bytes]:
    process = processes.start(name, JOBMON, "--config", str(fleet.config), "run")
    wait_until(lambda: _metrics(fleet.exporter), DEADLINE, f"{name}'s exporter")
    return process


def _set_up_statuses(processes: Processes, fleet: Fleet) -> None:
    """Run, kill and restart jobmon, and use the CLI, until every job shows its EXPECTED status."""
    first = _run_jobmon(processes, fleet, "jobmon-first")
    fleet.jobmon("start", "stop-me")
    wait_until(lambda: fleet.has_status("stop-me", "running"), DEADLINE, "stop-me running")
    first.kill()  # a crash: its run is left without heartbeat for the next runner to reap
    first.wait()
    _run_jobmon(processes, fleet, "jobmon-second")
    for job in ("slow", "pause-me", "cancel-me"):
        fleet.jobmon("start", job)
    for job in ("pause-me", "cancel-me"):
        wait_until(_shows(fleet, job, {"running"}), DEADLINE, f"{job} running")
    fleet.jobmon("pause", "pause-me")
    fleet.jobmon("cancel", "cancel-me")
    for job, statuses in EXPECTED.items():
        wait_until(_shows(fleet, job, statuses), DEADLINE, f"{job} in {sorted(statuses)}")


def _shows(fleet: Fleet, job: str, statuses: set[str]) -> Callable[[], bool]:
    return lambda: any(fleet.has_status(job, status) for status in statuses)


def _scraped_enough(fleet: Fleet, since: float) -> bool:
    """A scrape after ``since``, and runs that ended within a minute (rates need two samples)."""
    fresh = fleet.query(f"timestamp(jobmon_database_up) > {since}")
    ended = fleet.query(
        'increase(jobmon_job_transitions_total{job_name=~"ok|bad",'
        'status=~"finished|finished_with_errors"}[1m]) > 0'
    )
    # The job dashboard's usual duration needs a job with five runs ("ok" runs every 2 s).
    usual = fleet.query('job_name:jobmon_job_run_duration_seconds:quantile{job_name="ok"}')
    return len(fresh) == 1 and len(ended) == 2 and len(usual) == 1


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("live")
    exporter_port = free_port()
    with ExitStack() as stack:
        # Started first: its first scrape comes 5-6 s later, while the jobs get going.
        prometheus = PrometheusServer(_prometheus_config(exporter_port), workdir / "prometheus")
        prometheus.start()
        stack.callback(prometheus.stop)
        fleet = Fleet(
            _jobmon_config(workdir, exporter_port), f"http://127.0.0.1:{exporter_port}", prometheus
        )
        _set_up_statuses(Processes(stack, workdir), fleet)
        since = time.time()
        wait_until(
            lambda: _scraped_enough(fleet, since), DEADLINE, "Prometheus to scrape the fleet"
        )
        yield fleet


def _fill(expr: str, job: str) -> str:
    """A dashboard query as Grafana would send it for ``job`` (or every job, ".+") of the
    deployment Prometheus scrapes as "jobmon", on all its instances."""
    values = {"job": "jobmon", "instance": ".+", "job_name": job}
    return concrete(expr.replace("$__range", RANGE), values, window=WINDOW)


def _has_a_number(result: list[dict[str, Any]]) -> bool:
    """Some sample is a number: NaN (a quantile of nothing) does not count as data."""
    return any(not math.isnan(float(sample["value"][1])) for sample in result)


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_live_every_dashboard_query_returns_data(fleet: Fleet, uid: str) -> None:
    # The job view shows one job: a query counts when it has data for some job of the fleet.
    jobs = [job["name"] for job in JOBS] if uid == "jobmon-job" else [".+"]
    empty = [
        where
        for where, expr in queries(dashboard(uid))
        if not any(_has_a_number(fleet.query(_fill(expr, job))) for job in jobs)
    ]
    assert not empty, f"queries without data: {empty}"


def test_live_job_table_shows_each_jobs_status(fleet: Fleet) -> None:
    table = next(p for p in dashboard("jobmon-overview")["panels"] if p["type"] == "table")
    expr = next(t["expr"] for t in table["targets"] if t["refId"] == "A")
    shown = {
        row["metric"]["job_name"]: row["metric"]["status"] for row in fleet.query(_fill(expr, ".+"))
    }
    assert set(shown) == set(EXPECTED)
    assert all(status in EXPECTED[job] for job, status in shown.items()), shown


def test_live_status_timeline_code_maps_to_the_jobs_status(fleet: Fleet) -> None:
    panel = next(p for p in dashboard("jobmon-job")["panels"] if p["type"] == "state-timeline")
    mapping = panel["fieldConfig"]["defaults"]["mappings"][0]["options"]
    for job in ("slow", "pause-me", "cancel-me", "stop-me", "never"):
        (sample,) = fleet.query(_fill(panel["targets"][0]["expr"], job))
        (status,) = (Status(s) for s in EXPECTED[job])
        assert mapping[sample["value"][1]]["text"] == f"{status.icon} {status.label}", job


def test_live_alert_rules_evaluate_without_error(fleet: Fleet) -> None:
    def rules() -> list[dict[str, Any]]:
        groups = fleet.prometheus.api("rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]

    # A rule not evaluated yet reports the zero time, 0001-01-01T00:00:00Z.
    wait_until(
        lambda: all(r["lastEvaluation"] > "1" for r in rules()), DEADLINE, "every rule evaluated"
    )
    assert len(rules()) == len(alert_rules()) + len(recording_rules())
    assert not [(r["name"], r.get("lastError")) for r in rules() if r["health"] != "ok"]


def test_live_failed_and_stopped_jobs_raise_their_alerts(fleet: Fleet) -> None:
    def active() -> set[tuple[str, str]]:
        alerts = fleet.prometheus.api("alerts")["alerts"]
        return {(a["labels"]["alertname"], a["labels"].get("job_name", "")) for a in alerts}

    expected = {("JobmonJobFailed", "bad"), ("JobmonJobServerStopped", "stop-me")}
    # Jobs that passed through pausing or canceling may show a pending JobmonJobStuck until
    # the next evaluation sees them paused or canceled: wait for that, not for a moment.
    quiet = {"ok", "never", "pause-me", "cancel-me", "slow"}
    wait_until(
        lambda: expected <= active() and not any(job in quiet for _, job in active()),
        DEADLINE,
        "alerts for bad and stop-me, none for the other jobs",
    )
    assert expected <= active()
