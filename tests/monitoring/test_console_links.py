"""Links from the monitoring into the web console: every job alert's ``console_url`` and the
dashboards' links open the job's console page on the right tab, from one base URL, and each
link opens a real page of a real exporter."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from exporter.console.app import TABS
from runner.core.states import Status
from tests.console.conftest import Site, serve
from tests.monitoring.assets import RULE_TESTS, alert_rules, dashboard, load_yaml, panels

# The tab each job alert opens: the one that shows its cause ("" is General).
ALERT_TABS = {
    "JobmonJobFailed": "journal",
    "JobmonJobServerStopped": "journal",
    "JobmonJobStuck": "journal",
    "JobmonJobRunningTooLong": "",
    "JobmonJobHeartbeatStale": "",
    "JobmonJobOverdue": "",
    "JobmonJobWaitingForRunner": "",
    "JobmonJobRejectsNearLimit": "rejects",
    "JobmonJobSlowerThanUsual": "",
}
# Alerts about the exporter itself (down, or its database) name no job.
JOB_ALERTS = [r["alert"] for r in alert_rules() if "job_name" in r["annotations"]["summary"]]
VARIABLE = "${console_url}"
# How a link names the job: a table row's field, a series' label, the job dashboard's variable.
JOB_REFERENCES = ("${__data.fields.job_name}", "${__field.labels.job_name}", "${job_name}")
CONSOLE_LINK = re.compile(r"\$\{console_url\}/jobs/(?P<job>\$\{[^}]+\})(?:/(?P<tab>[a-z]+))?$")
# Where the tests' job is called "too-many": it has runs, a journal and rejects.
SHOWN_JOB = "too-many"


def _links(node: Any) -> Iterator[dict[str, Any]]:
    """Every link (dashboard, panel, data link, field override) under ``node``."""
    if isinstance(node, dict):
        if "url" in node and "title" in node:
            yield node
        for value in node.values():
            yield from _links(value)
    elif isinstance(node, list):
        for value in node:
            yield from _links(value)


def _console_urls(node: Any) -> list[str]:
    return [link["url"] for link in _links(node) if link["url"].startswith(VARIABLE)]


def _job_tabs(panel: dict[str, Any]) -> set[str]:
    """The console tabs a panel's links open for a job ("" is General)."""
    found = (CONSOLE_LINK.match(url) for url in _console_urls(panel))
    return {m.group("tab") or "" for m in found if m and m.group("job") in JOB_REFERENCES}


def _base() -> str:
    """The console base URL: the default of the dashboards' ``console_url`` variable."""
    (variable,) = [
        v for v in dashboard("jobmon-overview")["templating"]["list"] if v["name"] == "console_url"
    ]
    return str(variable["query"])


def _rule(name: str) -> dict[str, Any]:
    return next(rule for rule in alert_rules() if rule["alert"] == name)


def test_console_links_cover_every_job_alert() -> None:
    assert sorted(JOB_ALERTS) == sorted(ALERT_TABS)


@pytest.mark.parametrize("alert", sorted(ALERT_TABS))
def test_console_links_job_alert_opens_the_tab_of_its_cause(alert: str) -> None:
    tab = ALERT_TABS[alert]
    expected = f"{_base()}/jobs/{{{{ $labels.job_name }}}}" + (f"/{tab}" if tab else "")
    assert _rule(alert)["annotations"]["console_url"] == expected


def test_console_links_rule_tests_expect_every_annotation() -> None:
    # promtool compares annotations exactly; this names the test case when one is missing.
    for path in RULE_TESTS:
        for case in load_yaml(path)["tests"]:
            for check in case.get("alert_rule_test", []):
                wanted = set(_rule(check["alertname"])["annotations"])
                for alert in check.get("exp_alerts") or []:
                    assert set(alert["exp_annotations"]) == wanted, (path.name, case["name"])


@pytest.mark.parametrize("uid", ["jobmon-overview", "jobmon-job"])
def test_console_links_base_url_is_one_dashboard_variable(uid: str) -> None:
    board = dashboard(uid)
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "console_url"]
    assert variable["type"] == "textbox"
    base = _base()
    assert variable["query"] == variable["current"]["value"] == base
    assert urlsplit(base).scheme in ("http", "https") and not base.endswith("/")
    # Every link goes through the variable: changing it changes them all.
    assert sum(base in link["url"] for link in _links(board)) == 0
    assert f"{VARIABLE}/jobs" in [link["url"] for link in board["links"]]


def test_console_links_overview_opens_every_job_panel_in_the_console() -> None:
    per_job = [
        p
        for p in panels(dashboard("jobmon-overview"))
        if any("job_name" in t["expr"] for t in p["targets"])
    ]
    assert len(per_job) >= 5
    for panel in per_job:
        assert _job_tabs(panel), f"{panel['title']}: no link to the job in the console"


def test_console_links_overview_job_table_opens_every_tab() -> None:
    (table,) = [p for p in panels(dashboard("jobmon-overview")) if p["type"] == "table"]
    (job_column,) = [
        o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Job"
    ]
    urls = _console_urls(job_column)
    assert urls == [
        f"{VARIABLE}/jobs/${{__data.fields.job_name}}" + (f"/{tab}" if tab else "")
        for tab in ("", *TABS)
    ]


def test_console_links_job_dashboard_opens_every_tab_and_every_panel() -> None:
    board = dashboard("jobmon-job")
    tops = _console_urls(board["links"])
    assert tops == [f"{VARIABLE}/jobs"] + [
        f"{VARIABLE}/jobs/${{job_name}}" + (f"/{tab}" if tab else "") for tab in ("", *TABS)
    ]
    for panel in panels(board):
        assert _job_tabs(panel), f"{panel['title']}: no link to the job in the console"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A real exporter serving the console (no basic auth, on loopback) on seeded jobs."""
    tmp = tmp_path_factory.mktemp("console-links")
    yield from serve(tmp, f"sqlite:///{tmp / 'jobmon.db'}", auth=False)


def _every_console_url() -> list[str]:
    urls = [_rule(alert)["annotations"]["console_url"] for alert in JOB_ALERTS]
    for uid in ("jobmon-overview", "jobmon-job"):
        urls += [url.replace(VARIABLE, _base(), 1) for url in _console_urls(dashboard(uid))]
    return sorted(set(urls))


def test_console_links_open_real_console_pages(console: Site) -> None:
    fills = {
        "{{ $labels.job_name }}": SHOWN_JOB,
        "${__field.labels.status}": Status.RUNNING.value,
        **{reference: SHOWN_JOB for reference in JOB_REFERENCES},
    }
    for url in _every_console_url():
        assert url.startswith(_base() + "/jobs"), url
        concrete = url.replace(_base(), console.server.url.rstrip("/"), 1)
        for placeholder, value in fills.items():
            concrete = concrete.replace(placeholder, value)
        assert "$" not in concrete and "{" not in concrete, url
        with urllib.request.urlopen(concrete, timeout=30) as response:
            assert response.status == 200, url
            page = response.read().decode()
        assert "text/html" in response.headers["Content-Type"], url
        if "/jobs/" in url:
            assert f'<h1 id="job-name">{SHOWN_JOB}</h1>' in page, url
