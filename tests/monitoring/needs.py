"""Which metric family each alert and dashboard panel needs, as README's table shows it.

.venv/bin/python -m tests.monitoring.needs     # prints the table README.md holds
"""

from __future__ import annotations

import re
from collections import defaultdict

from tests.monitoring.assets import (
    SPEC_HISTOGRAMS,
    SPEC_METRICS,
    alert_rules,
    dashboard,
    metric_names,
    panels,
    recording_rules,
)

_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def _families(expr: str, recorded: dict[str, set[str]]) -> set[str]:
    """The SPEC families ``expr`` reads, directly or through a recording rule."""
    found: set[str] = set()
    for name in metric_names(expr):
        if ":" in name:  # a recorded series: what its rule reads
            found |= _families(" ".join(recorded[name]), recorded)
        elif name in SPEC_METRICS:
            found.add(name)
        elif _SUFFIX.sub("", name) in SPEC_HISTOGRAMS:
            found.add(_SUFFIX.sub("", name))
    return found


def needs() -> dict[str, tuple[list[str], list[str]]]:
    """family -> (alerts, "Dashboard: panel" titles) that read it."""
    recorded = {
        rule["record"].split(":", 1)[1]: metric_names(rule["expr"]) for rule in recording_rules()
    }
    by_family: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for rule in alert_rules():
        for family in _families(rule["expr"], recorded):
            by_family[family][0].append(rule["alert"])
    for uid, title in (("jobmon-overview", "Overview"), ("jobmon-job", "Job")):
        for panel in panels(dashboard(uid)):
            exprs = " ".join(target["expr"] for target in panel["targets"])
            for family in _families(exprs, recorded):
                by_family[family][1].append(f"{title}: {panel['title']}")
    return by_family


def table() -> str:
    """The Markdown table: every SPEC family, the alerts and panels that need it."""
    rows = ["| metric family | alerts | dashboard panels |", "|---|---|---|"]
    found = needs()
    for family in sorted(SPEC_METRICS):
        alerts, boards = found.get(family, ([], []))
        rows.append(f"| `{family}` | {', '.join(alerts) or '-'} | {', '.join(boards) or '-'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
