"""README's "Use it in your monitoring": its lines, run as written, render the mixin with a
config, pass promtool, and load into a real Prometheus; its table of which alert and panel
needs which metric is the one the rendered assets give."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.monitoring.assets import ROOT
from tests.monitoring.needs import table
from tests.promtools import PrometheusServer, tool, wait_until

README = ROOT / "README.md"
SECTION = "### Use it in your monitoring"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start)
    return text[start:end]


def _commands() -> str:
    (block,) = re.findall(r"```sh\n(.*?)```", _section(), flags=re.DOTALL)
    return block


def test_readme_mixin_table_of_needed_metrics_is_what_the_assets_read() -> None:
    assert table() in _section()


@pytest.mark.slow
def test_readme_mixin_steps_render_check_and_load(tmp_path: Path) -> None:
    # The lines run from the repository root; here, from a directory that looks like one.
    for name in ("mixin", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    promtool = Path(tool("promtool")).parent
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _commands()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{promtool}:/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2, result.stdout
    rendered = tmp_path / "my-monitoring"
    rules = [rendered / "alerts" / "jobmon.rules.yml", rendered / "alerts" / "jobmon.recording.yml"]
    assert 'job="jobmon-prod"' in rules[0].read_text(encoding="utf-8")
    assert len(list((rendered / "grafana" / "dashboards").glob("*.json"))) == 2
    assert (rendered / "deploy" / "kubernetes" / "prometheusrule.yaml").is_file()

    config = {"global": {"evaluation_interval": "1s"}, "rule_files": [str(p) for p in rules]}
    prometheus = PrometheusServer(config, tmp_path / "prometheus")
    prometheus.start()
    try:

        def evaluated() -> list[dict[str, str]] | None:
            groups = prometheus.api("rules")["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            done = rules and all(rule["lastEvaluation"] > "1" for rule in rules)
            return rules if done else None

        loaded = wait_until(evaluated, 30, "the rendered rules evaluated")
        assert len(loaded) >= 17 and all(rule["health"] == "ok" for rule in loaded), loaded
    finally:
        prometheus.stop()
