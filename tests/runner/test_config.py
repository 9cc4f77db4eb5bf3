"""Config loading: every error names its key path, all at once, and never shows a password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import cli
from runner.core.config import DEFAULT_DATABASE_URL, ConfigError, load, parse

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cretpw"


def problems(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as error:
        parse(raw, "jobmon.yaml")
    return error.value.problems


def job(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "kind": "python", "callable": "runner.examples:noop", **fields}


def test_parse_defaults() -> None:
    config = parse({})
    assert config.database.url == DEFAULT_DATABASE_URL
    assert config.jobs == []
    assert config.runner.stale_after_seconds > config.runner.heartbeat_seconds


def test_parse_bad_cron_names_the_job_and_the_expression() -> None:
    raw = {"jobs": [job("a"), job("b", schedule="@every 5m"), job("c", schedule="*/61 * * * *")]}
    (problem,) = problems(raw)
    assert problem.startswith(
        'jobs[2].schedule: invalid cron expression "*/61 * * * *": Error validating'
    )
    assert "61" in problem.removeprefix('jobs[2].schedule: invalid cron expression "*/61')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"colour": 1}, "colour: unknown key"),
        ({"exporter": {"tls": {}}}, "exporter.tls: unknown key"),
        ({"runner": {"retention": {"keep": 3}}}, "runner.retention.keep: unknown key"),
        ({"jobs": [job("a"), job("b", colour="red")]}, "jobs[1].colour: unknown key"),
        (
            {"runner": {"concurrency": "many"}},
            "runner.concurrency: Input should be a valid integer",
        ),
        ({"runner": {"heartbeat_seconds": 0}}, "runner.heartbeat_seconds: Input should be greater"),
        ({"jobs": {"a": 1}}, "jobs: Input should be a valid list"),
        ({"jobs": [job("a", max_rejects=-1)]}, "jobs[0].max_rejects: Input should be greater"),
        (
            {"jobs": [{"kind": "python", "callable": "m:f"}]},
            "jobs[0].name: required key is missing",
        ),
        ({"jobs": [{"name": "a"}]}, "jobs[0]: kind is required; one of python, import, export"),
        ({"jobs": [{"name": "a", "kind": "sql"}]}, "jobs[0]: unknown job kind; expected one of"),
        ({"jobs": [job("a", callable="no colon")]}, "jobs[0].callable: String should match"),
        ({"jobs": [job("a", schedule="@every 0s")]}, 'jobs[0].schedule: invalid interval "@every'),
        (
            {"runner": {"heartbeat_seconds": 30, "stale_after_seconds": 30}},
            "runner.stale_after_seconds: must be greater than heartbeat_seconds",
        ),
        ([1, 2], "the top level must be a mapping"),
    ],
)
def test_parse_error_names_the_key_path(raw: Any, expected: str) -> None:
    (problem,) = problems(raw)
    assert problem.startswith(expected), problem


def test_parse_duplicate_job_names() -> None:
    raw = {"jobs": [job("a"), job("b"), job("a"), job("a")]}
    assert problems(raw) == [
        'jobs[2].name: duplicate job name "a" (also jobs[0])',
        'jobs[3].name: duplicate job name "a" (also jobs[0])',
    ]


def test_parse_reports_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBMON_NOPE", raising=False)
    raw = {
        "database": {"url": "${JOBMON_NOPE}"},
        "runner": {"concurrency": 0, "retention": {"keep": 1}},
        "jobs": [job("a", schedule="61 * * * *"), job("b", params={"x": "${JOBMON_NOPE}"})],
        "extra": True,
    }
    found = problems(raw)
    assert [p.split(":")[0] for p in found] == [
        "database.url",
        "jobs[1].params.x",
        "database.url",
        "runner.concurrency",
        "runner.retention.keep",
        "jobs[0].schedule",
        "extra",
    ]
    assert found[0] == "database.url: environment variable JOBMON_NOPE is not set"
    assert found[2] == "database.url: not a valid SQLAlchemy database URL"


def test_parse_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBMON_DB", "sqlite:///from-env.db")
    monkeypatch.delenv("JOBMON_UNSET", raising=False)
    raw = {
        "database": {"url": "${JOBMON_DB}"},
        "runner": {"id": "${JOBMON_UNSET:-runner-7}"},
        "jobs": [job("a", description="at ${JOBMON_UNSET:-} ${JOBMON_DB}!")],
    }
    config = parse(raw)
    assert config.database.url == "sqlite:///from-env.db"
    assert config.runner.id == "runner-7"
    assert config.jobs[0].description == "at  sqlite:///from-env.db!"


def test_load_names_the_file_and_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "jobmon.yaml"
    path.write_text(yaml.safe_dump({"jobs": [job("a", schedule="@hourly")]}))
    assert load(path).jobs[0].schedule == "@hourly"

    with pytest.raises(ConfigError) as missing:
        load(tmp_path / "nope.yaml")
    assert str(missing.value) == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    path.write_text("jobs: [1, 2\n")
    with pytest.raises(ConfigError, match=r"jobmon.yaml: not valid YAML: .*\(line 2, column 1\)"):
        load(path)


@pytest.mark.parametrize(
    "text",
    [
        f"database:\n  url: postgresql://u:{SECRET}@db:notaport/jobmon\n",
        f"databases:\n  crm:\n    url: mysql://u:{SECRET}@db:port/crm\n",
        f"database:\n  url: postgresql://u:{SECRET}@db/jobmon: x\n",  # YAML syntax error
        f"database:\n  url: 'postgresql://u:{SECRET}@db/jobmon\n",  # unclosed quote
    ],
)
def test_load_never_shows_a_password(tmp_path: Path, text: str) -> None:
    path = tmp_path / "jobmon.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load(path)
    assert error.value.problems
    assert SECRET not in str(error.value)


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBMON_DATABASE_URL", raising=False)
    config = load(REPO / "config.example.yaml")
    assert config.database.url == "sqlite:///jobmon.db"
    assert config.jobs


def test_check_config_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBMON_DATABASE_URL", raising=False)
    assert cli.main(["--config", str(REPO / "config.example.yaml"), "check-config"]) == 0
    assert "OK" in capsys.readouterr().out

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "database": {"url": f"postgresql://u:{SECRET}@db:port/x"},
                "jobs": [job("a", schedule="*/61 * * * *"), job("a", colour=1)],
            }
        )
    )
    assert cli.main(["--config", str(bad), "check-config"]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "database.url",
        "jobs[0].schedule",
        "jobs[1].colour",
    ]
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert SECRET not in out + err


def test_load_duplicate_key_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("database:\n  url: sqlite:///a.db\n  url: sqlite:///b.db\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == ["not valid YAML: duplicate key 'url' (line 3, column 3)"]


def test_check_config_reports_every_web_config_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web = tmp_path / "web.yml"
    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    "cert_file": "missing.crt",
                    "min_version": "TLS13",
                    "max_version": "TLS12",
                },
                "basic_auth_users": {"alice": "not-a-hash"},
                "colour": "blue",
            }
        )
    )
    path = tmp_path / "jobmon.yaml"
    path.write_text(yaml.safe_dump({"exporter": {"web_config_file": str(web)}}))

    assert cli.main(["--config", str(path), "check-config"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["basic_auth_users", "colour"]
    assert all(line.startswith(f"{web}: ") for line in lines)

    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    "cert_file": "missing.crt",
                    "min_version": "TLS13",
                    "max_version": "TLS12",
                }
            }
        )
    )
    assert cli.main(["--config", str(path), "check-config"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "tls_server_config.min_version",
        "tls_server_config.cert_file",
        "tls_server_config.key_file",
    ]
    assert "cannot read" in lines[1] and "required" in lines[2]

    web.write_text("{}\n")
    assert cli.main(["--config", str(path), "check-config"]) == 0
    assert f"{web}: OK" in capsys.readouterr().out
