"""The monitoring mixin is the one source of alerts, recording rules, dashboards and the
PrometheusRule: the committed files are its output, its config reaches every place it should,
and its selector is in every expression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.monitoring.assets import ROOT, dashboard, queries, run, selectors
from tests.monitoring.mixin import render, rules

ALERTS, RECORDING = "alerts/jobmon.rules.yml", "alerts/jobmon.recording.yml"
# A config unlike every default, so that a default that leaks through shows.
CONFIG = """{
  jobmonSelector: 'namespace="team-a", service="jobmon"',
  runbookURLPattern: 'https://runbooks.example.com/jobmon#%s',
  consoleURL: 'https://jobmon.example.com',
  grafanaURL: 'https://grafana.example.com',
  keepFiringFor: '7m',
  failedFor: '2m',
  serverStoppedFor: '20m',
  overdueSeconds: 1800,
  rejectsNearLimitRatio: 0.5,
  dashboardTags: ['jobmon', 'team-a'],
  dashboardUIDs: { overview: 'team-a-jobmon', job: 'team-a-jobmon-job' },
}
"""
TEAM_A = 'namespace="team-a", service="jobmon"'


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return render(CONFIG, tmp_path_factory.mktemp("mixin"))


def test_mixin_committed_files_are_exactly_what_it_renders() -> None:
    files = render()
    assert len(files) == 5
    for relative, text in files.items():
        committed = (ROOT / relative).read_text(encoding="utf-8")
        assert committed == text, f"{relative} differs from the mixin's output: run `make mixin`"


def test_mixin_rendered_with_a_config_passes_promtool(
    tmp_path: Path, custom: dict[str, str]
) -> None:
    paths = []
    for name in (ALERTS, RECORDING):
        path = tmp_path / Path(name).name
        path.write_text(custom[name], encoding="utf-8")
        paths.append(str(path))
    result = run("promtool", "check", "rules", *paths)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", [ALERTS, RECORDING])
def test_mixin_selector_is_in_every_rule_expression(custom: dict[str, str], name: str) -> None:
    for rule in rules(custom, name):
        found = selectors(rule["expr"])
        assert found, rule
        for series, matchers in found:
            assert TEAM_A in matchers, f"{rule.get('alert') or rule['record']}: {series}{matchers}"


def test_mixin_selector_is_in_every_dashboard_query_and_variable(custom: dict[str, str]) -> None:
    boards = [json.loads(text) for path, text in custom.items() if path.endswith(".json")]
    assert {board["uid"] for board in boards} == {"team-a-jobmon", "team-a-jobmon-job"}
    for board in boards:
        exprs = [expr for _, expr in queries(board)]
        exprs += [v["definition"] for v in board["templating"]["list"] if v["type"] == "query"]
        for expr in exprs:
            assert selectors(expr), expr
            assert all(TEAM_A in matchers for _, matchers in selectors(expr)), expr
        assert board["tags"] == ["jobmon", "team-a"]


def test_mixin_config_sets_links_thresholds_and_holds(custom: dict[str, str]) -> None:
    alerts = {rule["alert"]: rule for rule in rules(custom, ALERTS)}
    failed = alerts["JobmonJobFailed"]
    assert failed["for"] == "2m" and failed["keep_firing_for"] == "7m"
    annotations = failed["annotations"]
    assert annotations["runbook_url"] == "https://runbooks.example.com/jobmon#jobmonjobfailed"
    assert annotations["dashboard_url"].startswith(
        "https://grafana.example.com/d/team-a-jobmon-job/team-a-jobmon-job?"
    )
    assert (
        annotations["console_url"]
        == "https://jobmon.example.com/jobs/{{ $labels.job_name }}/journal"
    )
    assert alerts["JobmonJobServerStopped"]["for"] == "20m"
    assert "20 minutes" in alerts["JobmonJobServerStopped"]["annotations"]["description"]
    assert "> 1800" in alerts["JobmonJobOverdue"]["expr"]
    assert ">= 0.5" in alerts["JobmonJobRejectsNearLimit"]["expr"]
    consoles = [
        json.loads(text)["templating"]["list"][-1]
        for path, text in custom.items()
        if path.endswith(".json")
    ]
    assert {v["query"] for v in consoles if v["name"] == "console_url"} == {
        "https://jobmon.example.com"
    }


def test_mixin_prometheus_rule_holds_both_rule_files(custom: dict[str, str]) -> None:
    resource = yaml.safe_load(custom["deploy/kubernetes/prometheusrule.yaml"])
    assert (resource["apiVersion"], resource["kind"]) == (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
    )
    groups = resource["spec"]["groups"]
    expected = [yaml.safe_load(custom[name])["groups"] for name in (ALERTS, RECORDING)]
    assert groups == expected[0] + expected[1]


def test_mixin_every_recording_rule_is_read_by_a_panel() -> None:
    recorded = {rule["record"] for rule in rules(render(), RECORDING)}
    read = {
        series
        for uid in ("jobmon-overview", "jobmon-job")
        for _, expr in queries(dashboard(uid))
        for series, _ in selectors(expr)
    }
    assert recorded <= read, recorded - read
