"""The example Prometheus and Alertmanager configs: valid for their tools, wired to jobmon."""

from __future__ import annotations

import re
from pathlib import Path

from tests.monitoring.assets import RECORDING, ROOT, RULES, alert_rules, load_yaml, run

PROMETHEUS = ROOT / "prometheus.example.yml"
ALERTMANAGER = ROOT / "alertmanager.example.yml"


def test_prometheus_example_passes_promtool_from_any_directory(tmp_path: Path) -> None:
    # Run elsewhere: the rule file path must be relative to the config file, not the cwd.
    result = run("promtool", "check", "config", str(PROMETHEUS), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


def test_prometheus_example_scrapes_jobmon_and_loads_the_rules() -> None:
    config = load_yaml(PROMETHEUS)
    assert [(PROMETHEUS.parent / f).resolve() for f in config["rule_files"]] == [RULES, RECORDING]
    (scrape,) = [s for s in config["scrape_configs"] if s["job_name"] == "jobmon"]
    assert scrape["static_configs"] == [{"targets": ["127.0.0.1:9736"]}]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]


def test_prometheus_example_job_name_matches_the_rules_selector() -> None:
    rule = next(r for r in alert_rules() if r["alert"] == "JobmonExporterDown")
    selector = re.search(r'up\{job="([^"]+)"\}', rule["expr"])
    assert selector is not None
    (scrape,) = load_yaml(PROMETHEUS)["scrape_configs"]
    assert scrape["job_name"] == selector.group(1)


def test_alertmanager_example_passes_amtool() -> None:
    result = run("amtool", "check-config", str(ALERTMANAGER))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alertmanager_example_pages_critical_queues_warnings_and_posts_early_signs() -> None:
    route = load_yaml(ALERTMANAGER)["route"]
    critical, info = route["routes"]
    assert critical["matchers"] == ['severity="critical"']
    assert info["matchers"] == ['severity="info"']
    assert len({critical["receiver"], info["receiver"], route["receiver"]}) == 3
    assert "job_name" in route["group_by"]
