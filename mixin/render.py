"""Render the jobmon monitoring mixin into the files Prometheus, Grafana and Kubernetes load.

    python mixin/render.py [--config FILE] [--out DIR]

FILE is a jsonnet object merged into the mixin's ``_config`` (see mixin/config.libsonnet), for
example ``{ jobmonSelector: 'job="jobmon-prod"', grafanaURL: 'https://grafana.example.com' }``.
Writes, under DIR (default: the repository, which is what ``make mixin`` does):

    alerts/jobmon.rules.yml             prometheusAlerts
    alerts/jobmon.recording.yml         prometheusRules
    grafana/dashboards/*.json           grafanaDashboards
    deploy/kubernetes/prometheusrule.yaml   both rule files as a Prometheus Operator PrometheusRule
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import _jsonnet
import yaml

MIXIN = Path(__file__).resolve().parent
ROOT = MIXIN.parent
HEADER = (
    "# Generated from mixin/ by `make mixin` (mixin/render.py): edit the mixin, not this file.\n"
)
# The order a reader expects in a rule and in its annotations (jsonnet sorts keys).
RULE_KEYS = ("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations")
ANNOTATION_KEYS = ("summary", "description", "runbook_url", "dashboard_url", "console_url")


def evaluate(config: Path | None) -> dict[str, Any]:
    """The mixin's alerts, rules and dashboards, with ``config`` merged into its _config."""
    override = f"import {json.dumps(str(config.resolve()))}" if config else "{}"
    snippet = (
        f"local mixin = (import 'mixin.libsonnet') + {{ _config+:: {override} }};\n"
        "{ alerts: mixin.prometheusAlerts, rules: mixin.prometheusRules,"
        " dashboards: mixin.grafanaDashboards }"
    )
    rendered: dict[str, Any] = json.loads(
        _jsonnet.evaluate_snippet("render", snippet, jpathdir=[str(MIXIN)])
    )
    return rendered


def _ordered(mapping: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: mapping[key] for key in keys if key in mapping}


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    ordered = _ordered(rule, RULE_KEYS)
    if "annotations" in ordered:
        ordered["annotations"] = _ordered(ordered["annotations"], ANNOTATION_KEYS)
    return ordered


def rule_groups(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Rule groups with their keys in reading order."""
    return [
        {**group, "rules": [_rule(rule) for rule in group["rules"]]} for group in rules["groups"]
    ]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL) as literal blocks; the rest as PyYAML writes them."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _string)


def to_yaml(data: Any) -> str:
    """``data`` as YAML: keys in the given order, wide lines, PromQL in literal blocks."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)


def prometheus_rule(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule groups as a Prometheus Operator PrometheusRule."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "jobmon",
            "labels": {"app.kubernetes.io/name": "jobmon", "app.kubernetes.io/part-of": "jobmon"},
        },
        "spec": {"groups": groups},
    }


def outputs(rendered: dict[str, Any]) -> dict[str, str]:
    """Relative path -> file content, for every file the mixin renders to."""
    alerts = rule_groups(rendered["alerts"])
    rules = rule_groups(rendered["rules"])
    files = {
        "alerts/jobmon.rules.yml": HEADER + to_yaml({"groups": alerts}),
        "alerts/jobmon.recording.yml": HEADER + to_yaml({"groups": rules}),
        "deploy/kubernetes/prometheusrule.yaml": HEADER + to_yaml(prometheus_rule(alerts + rules)),
    }
    for name, board in sorted(rendered["dashboards"].items()):
        text = json.dumps(board, indent=2, ensure_ascii=False) + "\n"
        files[f"grafana/dashboards/{name}"] = text
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="jsonnet object merged into _config")
    parser.add_argument("--out", type=Path, default=ROOT, help="directory to write into")
    args = parser.parse_args(argv)
    for relative, text in outputs(evaluate(args.config)).items():
        path = args.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()
