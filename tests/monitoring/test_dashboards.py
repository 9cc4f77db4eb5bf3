"""The Grafana dashboards: structure, links, status mappings, and every query valid PromQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.states import Status
from tests.monitoring.assets import (
    DASHBOARDS,
    SERIES_NAMES,
    concrete,
    dashboard,
    metric_names,
    panels,
    queries,
    recording_rules,
    run,
    selectors,
)

UIDS = sorted(DASHBOARDS)
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
STATUS_TEXTS = {s.value: f"{s.icon} {s.label}" for s in Status}
SELECTOR = 'job="jobmon"'  # the mixin's default jobmonSelector
RECORDED = {rule["record"].split(":", 1)[1] for rule in recording_rules()}


def _variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {var["name"]: var for var in board["templating"]["list"]}


def _status_mappings(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every value-mapping table keyed by status names or by status codes."""
    found: list[dict[str, Any]] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            options = node.get("options")
            if node.get("type") == "value" and isinstance(options, dict):
                found.append(options)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(board["panels"])
    return [m for m in found if "finished" in m or "7" in m]


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_has_fixed_uid_tag_and_schema(uid: str) -> None:
    board = dashboard(uid)
    assert board["uid"] == uid == DASHBOARDS[uid].stem
    assert "jobmon" in board["tags"]
    assert board["id"] is None
    assert 36 <= board["schemaVersion"] <= 41
    assert board["title"].startswith("jobmon / ")


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_panel_ids_are_unique_and_the_grid_has_no_overlap(uid: str) -> None:
    board = dashboard(uid)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, panel["title"]
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_picks_prometheus_through_a_datasource_variable(uid: str) -> None:
    board = dashboard(uid)
    variable = _variables(board)["datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    assert _variables(board)["job"]["datasource"] == DATASOURCE
    for panel in panels(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
    for annotation in board["annotations"]["list"]:
        if "expr" in annotation:
            assert annotation["datasource"] == DATASOURCE


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_every_panel_has_a_query_and_a_description(uid: str) -> None:
    for panel in panels(dashboard(uid)):
        assert panel["targets"], panel["title"]
        assert all(t["expr"].strip() and t["refId"] for t in panel["targets"]), panel["title"]
        assert panel["description"].strip(), panel["title"]


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_variables_pick_a_deployment_its_instances_and_jobs(uid: str) -> None:
    variables = _variables(dashboard(uid))
    assert list(variables) == ["datasource", "job", "instance", "job_name", "console_url"]
    definitions = {
        "job": f"label_values(jobmon_build_info{{{SELECTOR}}}, job)",
        "instance": f'label_values(jobmon_build_info{{{SELECTOR}, job="$job"}}, instance)',
        "job_name": (
            f'label_values(jobmon_job_info{{{SELECTOR}, job="$job", instance=~"$instance"}}, '
            "job_name)"
        ),
    }
    for name, definition in definitions.items():
        variable = variables[name]
        assert variable["type"] == "query"
        assert variable["definition"] == variable["query"]["query"] == definition
    assert variables["instance"]["multi"] and variables["instance"]["allValue"] == ".+"


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_every_query_carries_the_selector_and_the_deployment(uid: str) -> None:
    for where, expr in queries(dashboard(uid)):
        found = selectors(expr)
        assert found, where
        for name, matchers in found:
            for matcher in (SELECTOR, 'job="$job"', 'instance=~"$instance"'):
                assert matcher in matchers, f"{where}: {name}{matchers} lacks {matcher}"


def test_dashboard_job_view_is_for_one_job_at_a_time() -> None:
    job = _variables(dashboard("jobmon-job"))["job_name"]
    assert not job["multi"] and not job["includeAll"]
    for where, expr in queries(dashboard("jobmon-job")):
        for name, matchers in selectors(expr):
            if name.startswith("jobmon_job") or ":" in name:
                assert 'job_name="$job_name"' in matchers, where


def test_dashboard_overview_narrows_per_job_panels_with_the_job_name_variable() -> None:
    job = _variables(dashboard("jobmon-overview"))["job_name"]
    assert job["multi"] and job["includeAll"] and job["allValue"] == ".+"
    for where, expr in queries(dashboard("jobmon-overview")):
        for name, matchers in selectors(expr):
            if name.startswith("jobmon_job_"):
                assert 'job_name=~"$job_name"' in matchers, where


@pytest.mark.parametrize(
    ("uid", "other"), [("jobmon-overview", "jobmon-job"), ("jobmon-job", "jobmon-overview")]
)
def test_dashboard_links_to_the_other_dashboard(uid: str, other: str) -> None:
    (link,) = [link for link in dashboard(uid)["links"] if link["url"].startswith(f"/d/{other}/")]
    assert link["includeVars"] and link["keepTime"]


def test_dashboard_overview_job_names_open_the_job_dashboard() -> None:
    urls = re.findall(r'"url": "(/d/jobmon-job/[^"]*)"', DASHBOARDS["jobmon-overview"].read_text())
    data_links = [url for url in urls if "var-job_name=$" in url]
    assert data_links, "no data link from a job to its dashboard"
    for url in data_links:
        for variable in ("datasource", "job", "instance"):
            assert f"${{{variable}:queryparam}}" in url, url


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_descriptions_give_the_journal_and_rejects_commands(uid: str) -> None:
    text = " ".join(p["description"] for p in panels(dashboard(uid)))
    assert re.search(r"`jobmon journal (<job>|\$job_name)", text)
    assert re.search(r"`jobmon rejects (<job>|\$job_name)[^`]*--format csv`", text)


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_uses_only_spec_metric_names(uid: str) -> None:
    for where, expr in queries(dashboard(uid)):
        unknown = metric_names(expr) - SERIES_NAMES - RECORDED
        assert not unknown, f"{where}: {unknown}"


def test_dashboards_together_show_every_spec_metric() -> None:
    used = set()
    for uid in UIDS:
        for _, expr in queries(dashboard(uid)):
            used |= metric_names(expr) - RECORDED
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert families == {n for n in SERIES_NAMES if not n.endswith(("_bucket", "_sum", "_count"))}


@pytest.mark.parametrize("uid", UIDS)
def test_dashboard_status_mappings_show_icon_and_label_for_every_status(uid: str) -> None:
    mappings = _status_mappings(dashboard(uid))
    assert mappings
    for mapping in mappings:
        texts = {key: value["text"] for key, value in mapping.items()}
        if "finished" in mapping:  # keyed by the status label's value
            assert texts == STATUS_TEXTS
        else:  # keyed by the status timeline's codes
            assert sorted(texts.values()) == sorted(STATUS_TEXTS.values())
        assert all(value.get("color") for value in mapping.values())


def test_dashboard_status_timeline_codes_match_its_mapping() -> None:
    timeline = next(p for p in panels(dashboard("jobmon-job")) if p["type"] == "state-timeline")
    codes = dict(re.findall(r'status="(\w+)"\} \* (\d+)', timeline["targets"][0]["expr"]))
    assert set(codes) == set(STATUS_TEXTS)
    mapping = timeline["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert {status: mapping[code]["text"] for status, code in codes.items()} == STATUS_TEXTS


def test_dashboard_queries_pass_the_promql_parser(tmp_path: Path) -> None:
    rules = []
    for uid in UIDS:
        for i, (where, expr) in enumerate(queries(dashboard(uid))):
            name = f"check:{uid.replace('-', '_')}:{i}"
            rules.append({"record": name, "expr": concrete(expr), "labels": {"where": where}})
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run("promtool", "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_dashboard_query_check_rejects_a_broken_query(tmp_path: Path) -> None:
    # The parser check above is only worth something if promtool refuses bad PromQL.
    path = tmp_path / "broken.yml"
    rule = {
        "record": "check:broken",
        "expr": concrete('rate(jobmon_jobs{job_name="$job"}[$__range]'),
    }
    path.write_text(yaml.safe_dump({"groups": [{"name": "broken", "rules": [rule]}]}))
    assert run("promtool", "check", "rules", str(path)).returncode != 0


def test_dashboard_provisioning_loads_the_dashboards_and_a_prometheus() -> None:
    root = DASHBOARDS["jobmon-job"].parents[1] / "provisioning"
    provider = yaml.safe_load((root / "dashboards" / "jobmon.yml").read_text())
    (only,) = provider["providers"]
    assert only["type"] == "file" and only["options"]["path"]
    assert provider["apiVersion"] == 1
    sources = yaml.safe_load((root / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"].startswith("http")
