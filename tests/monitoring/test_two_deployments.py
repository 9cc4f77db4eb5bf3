"""Selectors that hold: two jobmon deployments scraped by one real Prometheus, under the scrape
jobs jobmon-a and jobmon-b, each with a failing job. The mixin rendered for jobmon-a fires for
a's failing job only, and no dashboard query or variable of it shows anything of b."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.assets import concrete, queries
from tests.monitoring.mixin import render
from tests.monitoring.test_live import JOBMON, Processes, _metrics
from tests.promtools import PrometheusServer, free_port, wait_until

pytestmark = pytest.mark.slow

DEADLINE = 60.0
CRASH = {"kind": "python", "schedule": "@every 2s", "callable": "runner.examples:crash"}
COUNT = {"kind": "python", "schedule": "@every 2s", "callable": "runner.examples:count"}
DEPLOYMENTS = {
    "jobmon-a": [{"name": "a-bad", **CRASH}, {"name": "a-ok", **COUNT, "params": {"total": 5}}],
    "jobmon-b": [{"name": "b-bad", **CRASH}],
}
# The mixin for deployment a; alerts fire at their first matching evaluation.
CONFIG = "{ jobmonSelector: 'job=\"jobmon-a\"', failedFor: '0s', keepFiringFor: '0s' }"


@dataclass
class Monitoring:
    prometheus: PrometheusServer
    dashboards: list[dict[str, Any]]


def _jobmon_config(directory: Path, jobs: list[dict[str, Any]], port: int) -> Path:
    config = {
        "database": {"url": f"sqlite:///{directory / 'jobmon.db'}"},
        "exporter": {"listen_address": f"127.0.0.1:{port}"},
        "runner": {"poll_seconds": 0.2, "shutdown_grace_seconds": 2},
        "jobs": jobs,
    }
    path = directory / "jobmon.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _rendered(directory: Path) -> tuple[list[str], list[dict[str, Any]]]:
    files = render(CONFIG, directory)
    paths = []
    for name in ("alerts/jobmon.rules.yml", "alerts/jobmon.recording.yml"):
        path = directory / Path(name).name
        path.write_text(files[name], encoding="utf-8")
        paths.append(str(path))
    boards = [json.loads(text) for name, text in files.items() if name.endswith(".json")]
    return paths, boards


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    workdir = tmp_path_factory.mktemp("two-deployments")
    rule_files, boards = _rendered(workdir)
    ports = {name: free_port() for name in DEPLOYMENTS}
    scrapes = [
        {"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        for name, port in ports.items()
    ]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": rule_files,
        "scrape_configs": scrapes,
    }
    with ExitStack() as stack:
        prometheus = PrometheusServer(config, workdir / "prometheus")
        prometheus.start()
        stack.callback(prometheus.stop)
        processes = Processes(stack, workdir)
        for name, jobs in DEPLOYMENTS.items():
            directory = workdir / name
            directory.mkdir()
            path = _jobmon_config(directory, jobs, ports[name])
            processes.start(name, JOBMON, "--config", str(path), "run")
            url = f"http://127.0.0.1:{ports[name]}"
            wait_until(lambda url=url: _metrics(url), DEADLINE, f"{name}'s exporter")
        yield Monitoring(prometheus, boards)


def _firing(monitoring: Monitoring) -> list[dict[str, str]]:
    alerts = monitoring.prometheus.api("alerts")["alerts"]
    return [a["labels"] for a in alerts if a["state"] == "firing"]


def test_two_deployments_only_the_selected_deployments_failure_fires(
    monitoring: Monitoring,
) -> None:
    prometheus = monitoring.prometheus
    failed = 'jobmon_job_last_failure_timestamp_seconds{job_name="%s"} > 0'
    wait_until(lambda: prometheus.query(failed % "b-bad"), DEADLINE, "b-bad's failure scraped")
    wait_until(
        lambda: any(a.get("job_name") == "a-bad" for a in _firing(monitoring)),
        DEADLINE,
        "JobmonJobFailed for a-bad",
    )
    since = time.time()
    # Rules are evaluated every second: several evaluations have seen b-bad failed by now.
    wait_until(lambda: time.time() - since > 5 or None, DEADLINE, "five more evaluations")
    firing = _firing(monitoring)
    assert {(a["alertname"], a["job_name"]) for a in firing if "job_name" in a} == {
        ("JobmonJobFailed", "a-bad")
    }
    assert all(a.get("job") == "jobmon-a" for a in firing), firing


def _fill(expr: str, job_name: str) -> str:
    values = {"job": "jobmon-a", "instance": ".+", "job_name": job_name}
    return concrete(expr.replace("$__range", "1h"), values, window="1m")


def test_two_deployments_no_panel_or_variable_shows_the_other_deployment(
    monitoring: Monitoring,
) -> None:
    prometheus = monitoring.prometheus
    recorded = 'job_instance:jobmon_job_records:rate5m{job="jobmon-a"}'
    wait_until(lambda: prometheus.query(recorded), DEADLINE, "the recording rules evaluated")
    shown: list[dict[str, str]] = []
    for board in monitoring.dashboards:
        names = [".+", "a-bad", "a-ok", "b-bad"] if board["uid"] != "jobmon-job" else ["b-bad"]
        for where, expr in queries(board):
            for name in names:
                shown += [sample["metric"] for sample in prometheus.query(_fill(expr, name))]
            if board["uid"] == "jobmon-job":  # b's job on a's job dashboard: nothing at all
                assert not prometheus.query(_fill(expr, "b-bad")), where
    assert any(labels.get("job_name") == "a-bad" for labels in shown), "no data of a at all"
    assert not [labels for labels in shown if "b-bad" in labels.values()]
    assert not [labels for labels in shown if labels.get("job") == "jobmon-b"]
    for board in monitoring.dashboards:
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                values = _variable_values(prometheus, variable["definition"])
                assert values and "b-bad" not in values and "jobmon-b" not in values, variable


def _variable_values(prometheus: PrometheusServer, definition: str) -> set[str]:
    """What Grafana lists for ``label_values(SELECTOR, LABEL)``, asked of Prometheus."""
    selector, label = definition.removeprefix("label_values(").removesuffix(")").rsplit(", ", 1)
    series = prometheus.api("series", **{"match[]": _fill(selector, ".+")})
    return {labels[label] for labels in series if label in labels}
