"""The monitoring assets under test (alert and recording rules, runbook, dashboards, all
rendered from the mixin) and helpers to read them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.promtools import tool
from tests.spec import METRIC_NAMES

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "jobmon.rules.yml"
RECORDING = ROOT / "alerts" / "jobmon.recording.yml"
RULE_TESTS = sorted((ROOT / "alerts" / "tests").glob("*.yml"))
RUNBOOK = ROOT / "alerts" / "runbook.md"
DASHBOARDS = {
    "jobmon-overview": ROOT / "grafana" / "dashboards" / "jobmon-overview.json",
    "jobmon-job": ROOT / "grafana" / "dashboards" / "jobmon-job.json",
}

# SPEC.md §3: the metric names dashboards and alerts may use (histograms add their series).
SPEC_METRICS = frozenset(METRIC_NAMES)
SPEC_HISTOGRAMS = frozenset({"jobmon_job_run_duration_seconds"})
SERIES_NAMES = SPEC_METRICS | {
    f"{name}{suffix}" for name in SPEC_HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")
}
_METRIC_TOKEN = re.compile(r"\bjobmon_[A-Za-z0-9_:]*")
_GRAFANA_INTERVALS = re.compile(r"\$(__rate_interval|__interval|__range)\b")
_VARIABLE = re.compile(r"\$\{(\w+)[^}]*\}|\$([A-Za-z_]\w*)")
# Every vector selector of jobmon's series (raw or recorded) and of up, with its matchers.
_SELECTOR = re.compile(r"(?<![\w:])((?:[a-z_]+:)?jobmon_[a-z_]+(?::[a-z0-9_]+)?|up)\b(\{[^}]*\})?")


def load_yaml(path: Path) -> Any:
    """The parsed YAML file at ``path``."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of the rules file, in file order."""
    groups = load_yaml(RULES)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    """Every recording rule, in file order."""
    groups = load_yaml(RECORDING)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def selectors(expr: str) -> list[tuple[str, str]]:
    """(series name, matchers in braces or "") of every vector selector in ``expr``."""
    return [(m.group(1), m.group(2) or "") for m in _SELECTOR.finditer(expr)]


def metric_names(expr: str) -> set[str]:
    """The jobmon series names an expression refers to."""
    return set(_METRIC_TOKEN.findall(expr))


def dashboard(uid: str) -> dict[str, Any]:
    """The dashboard with ``uid``, parsed from its JSON file."""
    data: dict[str, Any] = json.loads(DASHBOARDS[uid].read_text(encoding="utf-8"))
    return data


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that shows data (rows are only headings), including panels inside rows."""
    for panel in board["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expr) for every PromQL query: panel targets and annotation queries."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield (
                f"{board['uid']} panel {panel['id']} ({panel['title']}) {target['refId']}",
                (target.get("expr", "")),
            )
    for annotation in board["annotations"]["list"]:
        if "expr" in annotation:
            yield f"{board['uid']} annotation {annotation['name']}", annotation["expr"]


def concrete(expr: str, values: dict[str, str] | None = None, window: str = "1m") -> str:
    """``expr`` as Prometheus sees it: Grafana's interval macros and variables filled in, each
    variable with its value in ``values`` (others with "x")."""
    given = values or {}

    def value(match: re.Match[str]) -> str:
        return given.get(match.group(1) or match.group(2), "x")

    return _VARIABLE.sub(value, _GRAFANA_INTERVALS.sub(window, expr))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a Prometheus tool (found with :func:`tests.promtools.tool`) and capture its output."""
    command = [tool(args[0]), *args[1:]]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
