"""Alerts end to end: real jobmon runner and exporter, Prometheus, Alertmanager and a webhook.

A failed import fires ``JobmonJobFailed`` at a local webhook receiver, the job's next
successful run resolves it, and a runner killed mid-run leads, once a second runner has reaped
the run, to ``JobmonJobServerStopped``.

Test override, and the only one: Prometheus loads a copy of ``alerts/jobmon.rules.yml`` whose
rules all have ``for: 0s``, so an alert fires at the first evaluation that matches instead of
minutes later. Every ``expr`` (and label and annotation) is the shipped one; a test checks it.
Intervals are shortened too: scrape and evaluation every 1 s, Alertmanager ``group_wait: 0s``
and ``group_interval: 1s``, and Prometheus resends active and resolved alerts every second
(``--rules.alert.resend-delay=1s``, default 1 m), so an alert evaluated before Prometheus has
discovered Alertmanager is not held back for a minute.

Prometheus 2.42 scrapes 5-6 s after it starts, so the servers start once for the module and
the scenarios run in sequence on one jobmon SQLite database.
"""

from __future__ import annotations

import signal
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.states import Status
from runner.core.storage.db import Database
from tests.e2e.procs import Proc, counting_job, jobmon, latest_run, wait_status, write_config
from tests.e2e.webhook import WebhookReceiver
from tests.promtools import AlertmanagerServer, PrometheusServer, free_port, wait_until

pytestmark = pytest.mark.slow

DEADLINE = 45.0  # per wait: generous, the machine is shared
RULES = Path(__file__).resolve().parents[2] / "alerts" / "jobmon.rules.yml"
IMPORT, SLOW = "import-orders", "slow-count"
HEADER = "order_id,amount\n"
BAD_ROWS = "1,10.50\nx,2.00\n3,lots\n,4.00\n5,5.25\n"  # three rejects, max_rejects is 1
GOOD_ROWS = "1,10.50\n2,2.00\n3,3.75\n4,4.00\n5,5.25\n"


def _import_job(csv: Path) -> dict[str, Any]:
    return {
        "name": IMPORT,
        "kind": "import",
        "max_rejects": 1,
        "source": {"path": str(csv)},
        "target": {"table": "orders", "create": True, "mode": "upsert", "key": ["order_id"]},
        "columns": [
            {"name": "order_id", "type": "integer", "required": True},
            {"name": "amount", "type": "decimal", "precision": 10, "scale": 2, "required": True},
        ],
    }


def fast_rules(directory: Path) -> Path:
    """A copy of the shipped rules with every ``for`` set to 0s and job alerts held for 1s
    after their cause (``keep_firing_for``; the outage tests keep the shipped hold): the
    module's overrides, so a test sees an alert fire and resolve within seconds."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"
            if "keep_firing_for" in rule:
                rule["keep_firing_for"] = "1s"
    path = directory / "jobmon.rules.fast.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return path


def _rules_by_name(path: Path) -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


class FastPrometheus(PrometheusServer):
    """Prometheus resending alerts to Alertmanager every second instead of every minute."""

    def arguments(self) -> list[str]:
        return [*super().arguments(), "--rules.alert.resend-delay=1s"]


def _alertmanager_config(webhook: str) -> dict[str, Any]:
    route = {
        "receiver": "webhook",
        "group_by": ["alertname", "job_name"],
        "group_wait": "0s",
        "group_interval": "1s",
        "repeat_interval": "1h",
    }
    receiver = {"name": "webhook", "webhook_configs": [{"url": webhook, "send_resolved": True}]}
    return {"route": route, "receivers": [receiver]}


def _prometheus_config(rules: Path, exporter_port: int, alertmanager_port: int) -> dict[str, Any]:
    scrape = {"job_name": "jobmon", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}
    targets = [f"127.0.0.1:{alertmanager_port}"]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": targets}]}]},
        "scrape_configs": [scrape],
    }


def _serves_metrics(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return bool(response.status == 200)


@dataclass
class Setup:
    """The jobmon side (config, database, CSV, processes) and what watches it."""

    config: Path
    db: Database
    csv: Path
    rules: Path
    webhook: WebhookReceiver
    prometheus: PrometheusServer
    procs: list[Proc] = field(default_factory=list)
    runner: Proc | None = None

    def start(self, command: str, *extra: str) -> Proc:
        """Start ``jobmon COMMAND`` on the config; killed at the end if still running."""
        proc = Proc(self.config, command, *extra)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.stop()


class _Exited(Exception):
    """The process exited before serving (most likely, its port was taken meanwhile)."""


def _exporter_serves(proc: Proc, port: int) -> bool:
    if proc.popen.poll() is not None:
        raise _Exited
    return _serves_metrics(port)


def _start_exporter(setup: Setup) -> int:
    """``jobmon exporter`` on a free port, retried on another port if it exits at once."""
    for _ in range(3):
        port = free_port()
        proc = setup.start("exporter", "--web.listen-address", f"127.0.0.1:{port}")
        try:
            wait_until(partial(_exporter_serves, proc, port), DEADLINE, "jobmon exporter")
            return port
        except _Exited:
            proc.stop()
    raise AssertionError(f"jobmon exporter did not start: see {setup.config.parent}")


def _wait_for_monitoring(prometheus: PrometheusServer) -> None:
    """Prometheus has found Alertmanager and scraped the exporter successfully."""
    wait_until(
        lambda: prometheus.api("alertmanagers")["activeAlertmanagers"],
        DEADLINE,
        "Prometheus to discover Alertmanager",
    )
    wait_until(
        lambda: [t for t in prometheus.targets() if t["health"] == "up"],
        DEADLINE,
        "Prometheus to scrape the jobmon exporter",
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("alerting")
    url = f"sqlite:///{workdir / 'jobmon.db'}"
    csv = workdir / "orders.csv"
    config = write_config(workdir / "jobmon.yaml", url, [_import_job(csv), counting_job(SLOW)])
    with ExitStack() as stack:
        webhook = WebhookReceiver()
        webhook.start()
        stack.callback(webhook.stop)
        alertmanager = AlertmanagerServer(_alertmanager_config(webhook.url), workdir / "am")
        alertmanager.start()
        stack.callback(alertmanager.stop)
        db = Database(url)
        stack.callback(db.dispose)
        assert jobmon(config, "db", "upgrade").returncode == 0
        prometheus = FastPrometheus({}, workdir / "prometheus")
        setup = Setup(config, db, csv, fast_rules(workdir), webhook, prometheus)
        stack.callback(setup.stop_all)
        exporter_port = _start_exporter(setup)
        prometheus.config = _prometheus_config(setup.rules, exporter_port, alertmanager.port)
        prometheus.start()
        stack.callback(prometheus.stop)
        setup.runner = setup.start("runner")
        _wait_for_monitoring(prometheus)
        yield setup


def _await_alert(webhook: WebhookReceiver, alertname: str, job: str, status: str) -> Any:
    """The first webhook alert ``alertname`` for ``job`` in ``status``, waited for."""
    try:
        return wait_until(
            lambda: webhook.find(alertname, job, status), DEADLINE, f"{alertname} {status}"
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the webhook received {webhook.summary()}") from None


def _failed_import_fires(setup: Setup) -> dict[str, Any]:
    setup.csv.write_text(HEADER + BAD_ROWS, encoding="utf-8")
    started = jobmon(setup.config, "start", IMPORT, "--wait", "--timeout", str(DEADLINE))
    assert started.returncode == 1, started.stdout + started.stderr
    run = wait_status(setup.db, IMPORT, Status.FINISHED_WITH_ERRORS, timeout=DEADLINE)
    assert run.rejects == 3
    firing = _await_alert(setup.webhook, "JobmonJobFailed", IMPORT, "firing")
    assert firing["labels"]["severity"] == "critical"
    assert firing["annotations"]["summary"] == f"jobmon job {IMPORT} finished with errors"
    return dict(firing)


def _successful_run_resolves(setup: Setup, firing: dict[str, Any]) -> None:
    setup.csv.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    started = jobmon(setup.config, "start", IMPORT, "--wait", "--timeout", str(DEADLINE))
    assert started.returncode == 0, started.stdout + started.stderr
    run = latest_run(setup.db, IMPORT)
    assert run is not None and run.status == Status.FINISHED.value and run.rejects == 0
    resolved = _await_alert(setup.webhook, "JobmonJobFailed", IMPORT, "resolved")
    assert resolved["startsAt"] == firing["startsAt"]  # the same alert, now over
    assert resolved["fingerprint"] == firing["fingerprint"]


def _killed_runner_is_reaped_and_fires(setup: Setup, runner: Proc) -> None:
    assert jobmon(setup.config, "start", SLOW).returncode == 0
    wait_until(
        lambda: (r := latest_run(setup.db, SLOW)) is not None and r.records >= 2,
        DEADLINE,
        f"{SLOW} to checkpoint twice",
    )
    runner.signal(signal.SIGKILL)
    runner.wait()
    killed = latest_run(setup.db, SLOW)
    assert killed is not None and killed.status == Status.RUNNING.value
    setup.start("runner")  # reaps the run once its heartbeat is stale_after_seconds old
    stopped = wait_status(setup.db, SLOW, Status.SERVER_STOPPED, timeout=DEADLINE)
    assert stopped.id == killed.id
    firing = _await_alert(setup.webhook, "JobmonJobServerStopped", SLOW, "firing")
    assert firing["labels"]["severity"] == "critical"
    assert firing["labels"]["status"] == "server_stopped"


def test_alerting_rules_copy_keeps_shipped_expressions(setup: Setup) -> None:
    shipped, used = _rules_by_name(RULES), _rules_by_name(setup.rules)
    assert set(used) == set(shipped)
    for name, rule in used.items():
        assert rule["expr"] == shipped[name]["expr"], name
        assert rule["for"] == "0s", name
        assert rule.get("keep_firing_for", "1s") == "1s", name
        overridden = ("for", "keep_firing_for")
        assert {k: v for k, v in rule.items() if k not in overridden} == {
            k: v for k, v in shipped[name].items() if k not in overridden
        }, name
    loaded = setup.prometheus.api("rules")["groups"]
    assert {r["name"] for g in loaded for r in g["rules"]} == set(shipped)


def test_alerting_failed_import_then_recovery_then_killed_runner_reach_webhook(
    setup: Setup,
) -> None:
    assert setup.runner is not None
    firing = _failed_import_fires(setup)
    _successful_run_resolves(setup, firing)
    _killed_runner_is_reaped_and_fires(setup, setup.runner)
    # Every JobmonJobServerStopped notification is about the killed runner's job.
    stopped = [a for a in setup.webhook.alerts() if a["labels"]["alertname"].endswith("Stopped")]
    assert {a["labels"]["job_name"] for a in stopped} == {SLOW}
