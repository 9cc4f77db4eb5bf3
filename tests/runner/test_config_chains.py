"""``after:`` in the config: a known job, not itself, no cycle; every error names its key path."""

from __future__ import annotations

from typing import Any

import pytest

from runner.core.config import ConfigError, parse


def job(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "kind": "python", "callable": "runner.examples:noop", **fields}


def problems(*jobs: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse({"jobs": list(jobs)}, "jobmon.yaml")
    return error.value.problems


def test_config_after_with_or_without_a_schedule_is_valid() -> None:
    config = parse(
        {
            "jobs": [
                job("load", schedule="@every 30s"),
                job("report", after="load"),
                job("archive", after="report", schedule="@daily"),
                job("by-hand"),
            ]
        }
    )
    assert [(j.name, j.schedule, j.after) for j in config.jobs] == [
        ("load", "@every 30s", None),
        ("report", None, "load"),
        ("archive", "@daily", "report"),
        ("by-hand", None, None),
    ]


def test_config_after_an_unknown_job_names_the_key_path() -> None:
    assert problems(job("a"), job("b"), job("c", after="x")) == ['jobs[2].after: no job named "x"']


def test_config_after_itself_is_refused() -> None:
    assert problems(job("a", after="a")) == ["jobs[0].after: a job cannot run after itself"]


def test_config_after_cycle_is_named_once_at_its_first_job() -> None:
    found = problems(job("a", after="c"), job("b", after="a"), job("c", after="b"), job("d"))
    assert found == ["jobs[0].after: cycle a -> c -> b -> a (each runs after the next)"]


def test_config_after_a_cycle_leaves_the_jobs_leading_into_it_alone() -> None:
    found = problems(job("tail", after="x"), job("x", after="y"), job("y", after="x"))
    assert found == ["jobs[1].after: cycle x -> y -> x (each runs after the next)"]


def test_config_after_empty_is_refused() -> None:
    assert problems(job("a", after="")) == [
        "jobs[0].after: String should have at least 1 character"
    ]


def test_config_after_reports_every_problem_at_once() -> None:
    found = problems(job("a", after="b"), job("b", after="a"), job("c", after="c"), job("d"))
    assert found == [
        "jobs[2].after: a job cannot run after itself",
        "jobs[0].after: cycle a -> b -> a (each runs after the next)",
    ]
