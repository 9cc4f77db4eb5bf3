"""The alert and recording rules: valid for promtool, unit-tested, annotated with links, with
severities that mean something, and documented in the runbook."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.monitoring.assets import (
    DASHBOARDS,
    RECORDING,
    ROOT,
    RULE_TESTS,
    RULES,
    RUNBOOK,
    SERIES_NAMES,
    alert_rules,
    load_yaml,
    metric_names,
    recording_rules,
    run,
)

ALERTS = [rule["alert"] for rule in alert_rules()]
REQUIRED = (
    "JobmonJobFailed",
    "JobmonJobServerStopped",
    "JobmonJobStuck",
    "JobmonJobRunningTooLong",
    "JobmonJobHeartbeatStale",
    "JobmonJobOverdue",
    "JobmonJobRejectsNearLimit",
    "JobmonExporterDown",
    "JobmonDatabaseDown",
    "JobmonJobSlowerThanUsual",
)
# What each severity is for (alerts/runbook.md): critical pages for failed, stopped and stuck
# runs; warning opens a ticket; info is an early sign.
SEVERITIES = {
    "critical": {
        "JobmonJobFailed",
        "JobmonJobServerStopped",
        "JobmonJobStuck",
        "JobmonJobHeartbeatStale",
    },
    "warning": {
        "JobmonJobRunningTooLong",
        "JobmonJobOverdue",
        "JobmonJobWaitingForRunner",
        "JobmonExporterDown",
        "JobmonDatabaseDown",
    },
    "info": {"JobmonJobRejectsNearLimit", "JobmonJobSlowerThanUsual"},
}
_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
# Alerts about the exporter itself carry no job_name.
EXPORTER_ALERTS = ("JobmonExporterDown", "JobmonDatabaseDown")


def _rule(name: str) -> dict[str, Any]:
    return next(rule for rule in alert_rules() if rule["alert"] == name)


def _evaluations() -> dict[str, list[tuple[str, str, bool]]]:
    """alertname -> (test name, eval_time, fires) for every alert_rule_test case."""
    seen: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for path in RULE_TESTS:
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                fires = bool(check.get("exp_alerts"))
                seen[check["alertname"]].append((case["name"], check["eval_time"], fires))
    return seen


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _runbook_sections() -> dict[str, str]:
    """Anchor -> text of every ``##`` section of the runbook."""
    parts = re.split(r"^## (.+)$", RUNBOOK.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {_github_anchor(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


def _words(duration: str) -> str:
    """'10m' as the runbook writes it: '10 minutes'."""
    count = int(duration[:-1])
    return f"{count} {_UNITS[duration[-1]]}{'' if count == 1 else 's'}"


def test_rules_pass_promtool_check() -> None:
    result = run("promtool", "check", "rules", str(RULES), str(RECORDING))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout
    assert f"SUCCESS: {len(recording_rules())} rules found" in result.stdout


def test_rules_pass_promtool_unit_tests() -> None:
    assert RULE_TESTS, "no promtool test files in alerts/tests/"
    result = run("promtool", "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS), result.stdout


def test_rules_define_every_required_alert_in_one_jobmon_group() -> None:
    groups = load_yaml(RULES)["groups"]
    assert [group["name"] for group in groups] == ["jobmon"]
    assert set(REQUIRED) <= set(ALERTS)
    assert len(ALERTS) == len(set(ALERTS))


def test_rules_tests_load_the_rules_files() -> None:
    loaded = set()
    for path in RULE_TESTS:
        files = [(path.parent / name).resolve() for name in load_yaml(path)["rule_files"]]
        assert set(files) <= {RULES, RECORDING}, path
        loaded |= set(files)
    assert loaded == {RULES, RECORDING}


def test_rules_every_recording_rule_is_unit_tested() -> None:
    tested = {
        check["expr"]
        for path in RULE_TESTS
        for case in load_yaml(path)["tests"]
        for check in case.get("promql_expr_test", [])
    }
    assert {rule["record"] for rule in recording_rules()} <= tested


@pytest.mark.parametrize("alert", ALERTS)
def test_rules_alert_fires_in_one_test_case_and_stays_silent_in_another(alert: str) -> None:
    outcomes = {fires for _, _, fires in _evaluations()[alert]}
    assert outcomes == {True, False}, f"{alert}: needs a firing and a silent case"


def test_rules_failed_alert_clears_when_the_next_run_finishes() -> None:
    cases = [case for path in RULE_TESTS for case in load_yaml(path)["tests"]]
    case = next(c for c in cases if c["name"].endswith("clears when the next run finishes"))
    checks = [c for c in case["alert_rule_test"] if c["alertname"] == "JobmonJobFailed"]
    fires = [bool(c.get("exp_alerts")) for c in checks]
    assert True in fires, "the case never fires"
    assert False in fires[fires.index(True) :], "the case never clears after firing"


@pytest.mark.parametrize("alert", ALERTS)
def test_rules_alert_has_severity_and_annotations(alert: str) -> None:
    rule = _rule(alert)
    assert alert in SEVERITIES[rule["labels"]["severity"]]
    annotations = rule["annotations"]
    assert {"summary", "description", "runbook_url", "dashboard_url"} <= set(annotations)
    if alert not in EXPORTER_ALERTS:
        assert "{{ $labels.job_name }}" in annotations["summary"]
        assert "{{ $labels.job_name }}" in annotations["description"]
        assert "status" in annotations["description"]
        assert "{{ $labels.job_name }}" in annotations["console_url"]
    else:  # the console is served by the exporter and reads the same database
        assert "console_url" not in annotations


@pytest.mark.parametrize("alert", ALERTS)
def test_rules_runbook_url_points_at_the_alerts_runbook_section(alert: str) -> None:
    url = urlsplit(_rule(alert)["annotations"]["runbook_url"])
    # Relative to the repository as shipped; README's sed may prefix a repository URL.
    assert url.path.endswith("alerts/runbook.md")
    if not url.scheme:
        assert (ROOT / url.path).resolve() == RUNBOOK.resolve()
    assert url.fragment == alert.lower()
    section = _runbook_sections()[url.fragment]
    for part in ("**Meaning.**", "**Look.**", "**Fix.**", "**Clears**", "jobmon "):
        assert part in section, f"runbook section {alert} lacks {part}"


@pytest.mark.parametrize("alert", ALERTS)
def test_rules_dashboard_url_opens_a_jobmon_dashboard(alert: str) -> None:
    url = urlsplit(_rule(alert)["annotations"]["dashboard_url"])
    found = re.search(r"/d/([^/]+)/", url.path)
    assert url.scheme in ("http", "https") and found is not None
    uid = found.group(1)
    assert uid in DASHBOARDS
    if alert not in EXPORTER_ALERTS:
        assert uid == "jobmon-job"
        assert url.query == (
            "var-job={{ $labels.job }}&var-instance={{ $labels.instance }}"
            "&var-job_name={{ $labels.job_name }}"
        )
    else:
        assert url.query == "var-job={{ $labels.job }}&var-instance={{ $labels.instance }}"


@pytest.mark.parametrize("alert", ALERTS)
def test_rules_runbook_states_the_severity_and_wait_of_the_rule(alert: str) -> None:
    rule = _rule(alert)
    section = _runbook_sections()[alert.lower()]
    expected = f"**Severity:** {rule['labels']['severity']}, after {_words(rule['for'])}."
    assert expected in section


def test_rules_runbook_says_what_each_severity_is_for() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    for severity, alerts in SEVERITIES.items():
        (row,) = [line for line in text.splitlines() if line.startswith(f"| `{severity}` |")]
        assert {a for a in ALERTS if a in row} == alerts, severity


def test_rules_use_only_spec_metric_names_and_recorded_series() -> None:
    recorded = {rule["record"] for rule in recording_rules()}
    for rule in alert_rules() + recording_rules():
        text = rule["expr"] + " ".join(rule.get("annotations", {}).values())
        unknown = metric_names(text) - SERIES_NAMES - {r.split(":", 1)[1] for r in recorded}
        assert not unknown, f"{rule.get('alert') or rule['record']}: {unknown}"


def test_rules_runbook_has_no_section_without_an_alert() -> None:
    assert set(_runbook_sections()) == {alert.lower() for alert in ALERTS}
