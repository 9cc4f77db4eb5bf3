"""``exporter.metrics``: which families are excluded and the duration histogram's buckets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import cli
from runner.core.config import ConfigError, parse
from runner.core.metrics import DURATION_BUCKETS, METRICS, Scope, matching, served

REPO = Path(__file__).resolve().parents[2]
OWN = (
    "jobmon_database_up",
    "jobmon_scrape_duration_seconds",
    "jobmon_scrape_errors_total",
    "jobmon_last_successful_read_timestamp_seconds",
    "jobmon_build_info",
)
WHY = (
    "the exporter's own families stay (one series each; the alerts on monitoring outages and"
    " stale reads, and the dashboards, read them)"
)


def metrics(**section: Any) -> dict[str, Any]:
    return {"exporter": {"metrics": section}}


def problems(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse(raw, "jobmon.yaml")
    return error.value.problems


def test_defaults_serve_every_family_with_every_bucket() -> None:
    config = parse({}).exporter.metrics
    assert config.exclude == []
    assert tuple(config.duration_buckets) == DURATION_BUCKETS
    assert served(config.exclude) == METRICS


def test_exclude_takes_names_and_globs() -> None:
    exclude = ["jobmon_job_run_duration_seconds", "jobmon_journal_*", "jobmon_job_last_*_seconds"]
    config = parse(metrics(exclude=exclude)).exporter.metrics
    assert config.exclude == exclude
    dropped = {m.name for m in METRICS} - {m.name for m in served(config.exclude)}
    assert dropped == {
        "jobmon_job_run_duration_seconds",
        "jobmon_journal_messages_total",
        "jobmon_job_last_start_timestamp_seconds",
        "jobmon_job_last_success_timestamp_seconds",
        "jobmon_job_last_failure_timestamp_seconds",
    }


def test_globs_match_whole_names_case_sensitively() -> None:
    assert matching("jobmon_job_status") == matching("jobmon_job_stat?s")
    assert [m.name for m in matching("jobmon_job_status")] == ["jobmon_job_status"]
    assert matching("jobmon_job") == ()
    assert matching("JOBMON_JOBS") == ()


def test_the_exporters_own_families_are_never_served_less() -> None:
    assert tuple(m.name for m in METRICS if not m.excludable) == OWN
    assert all(m.scope is Scope.SELF for m in METRICS if not m.excludable)
    assert tuple(m.name for m in served(["jobmon_*"])) == OWN


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"exclude": ["jobmon_jobs", "jobmon_nope*"]},
            ['exporter.metrics.exclude[1]: "jobmon_nope*" matches no jobmon metric'],
        ),
        (
            {"exclude": ["jobmon_job_run_duration_seconds_bucket"]},
            [
                'exporter.metrics.exclude[0]: "jobmon_job_run_duration_seconds_bucket" matches'
                " no jobmon metric"
            ],
        ),
        (
            {"exclude": ["jobmon_database_up"]},
            [f'exporter.metrics.exclude[0]: "jobmon_database_up" cannot be excluded: {WHY}'],
        ),
        (
            {"exclude": ["jobmon_job_*", "*_timestamp_seconds"]},
            [
                'exporter.metrics.exclude[1]: "*_timestamp_seconds" would exclude'
                f" jobmon_last_successful_read_timestamp_seconds, which cannot be excluded: {WHY}"
            ],
        ),
        ({"exclude": "jobmon_jobs"}, ["exporter.metrics.exclude: Input should be a valid list"]),
        (
            {"duration_buckets": [60, 300, 3600]},
            [
                "exporter.metrics.duration_buckets[1]: 300 is not a bound jobmon counts run"
                " durations by; choose among 1, 5, 15, 30, 60, 180, 600, 1800, 3600, 10800,"
                " 28800, 86400"
            ],
        ),
        (
            {"duration_buckets": [60, 3600, float("inf")]},
            ["exporter.metrics.duration_buckets[2]: +Inf is implied; leave it out"],
        ),
        (
            {"duration_buckets": [0, "soon"]},
            [
                "exporter.metrics.duration_buckets[0]: 0 is not a bound jobmon counts run"
                " durations by; choose among 1, 5, 15, 30, 60, 180, 600, 1800, 3600, 10800,"
                " 28800, 86400",
                "exporter.metrics.duration_buckets[1]: Input should be a valid number, unable"
                " to parse string as a number",
            ],
        ),
        (
            {"duration_buckets": [60, 3600, 600, 600]},
            [
                "exporter.metrics.duration_buckets[2]: 600 is not greater than the bound before"
                " it (3600); bounds must increase",
                "exporter.metrics.duration_buckets[3]: 600 is not greater than the bound before"
                " it (600); bounds must increase",
            ],
        ),
        ({"buckets": [60]}, ["exporter.metrics.buckets: unknown key"]),
    ],
)
def test_errors_name_the_key_path(section: dict[str, Any], expected: list[str]) -> None:
    assert problems(metrics(**section)) == expected


def test_every_excludable_family_can_be_excluded_at_once() -> None:
    names = [m.name for m in METRICS if m.excludable]
    assert served(parse(metrics(exclude=names)).exporter.metrics.exclude) == tuple(
        m for m in METRICS if not m.excludable
    )


def test_buckets_may_be_fewer_or_none() -> None:
    assert parse(metrics(duration_buckets=[60, 600, 3600])).exporter.metrics.duration_buckets == [
        60,
        600,
        3600,
    ]
    assert parse(metrics(duration_buckets=[])).exporter.metrics.duration_buckets == []


def test_check_config_reports_metrics_problems_from_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "jobmon.yaml"
    path.write_text(
        "exporter:\n  metrics:\n"
        "    exclude: [jobmon_journal_*, jobmon_nope]\n"
        "    duration_buckets: [60, .inf]\n",
        encoding="utf-8",
    )
    assert cli.main(["--config", str(path), "check-config"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f'{path}: exporter.metrics.exclude[1]: "jobmon_nope" matches no jobmon metric',
        f"{path}: exporter.metrics.duration_buckets[1]: +Inf is implied; leave it out",
    ]


def test_the_example_configs_commented_metrics_section_is_valid() -> None:
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    section = re.compile(r"^  # (metrics:|  exclude:|  duration_buckets:)", re.MULTILINE)
    assert len(section.findall(text)) == 3
    config = parse(yaml.safe_load(section.sub(r"  \1", text))).exporter.metrics
    assert config.exclude == ["jobmon_journal_*"]
    assert config.duration_buckets == [60, 600, 3600]
