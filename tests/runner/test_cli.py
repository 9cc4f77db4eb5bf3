"""The ``jobmon`` command line, in process, on a SQLite database made by real runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from runner import cli
from runner.core.config import load
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from runner.core.storage.models import Job, Run
from runner.executor import worker
from tests.runner.support import EXAMPLE_JOBS, Ticker

SECRET = "s3cretpw"


def write_config(path: Path, url: str, jobs: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"database": {"url": url}, "jobs": jobs}))
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A config of the example jobs, whose database holds runs of several of them."""
    jobs = [{"kind": "python", "callable": "runner.examples:count", **j} for j in EXAMPLE_JOBS]
    jobs.append({"name": "never", "kind": "python", "callable": "runner.examples:noop"})
    path = write_config(tmp_path / "jobmon.yaml", f"sqlite:///{tmp_path / 'jobmon.db'}", jobs)
    config = load(path)
    db = Database(config.database.url)
    upgrade(db)
    for name in ("too-many", "too-many", "ok", "crash"):
        worker.run_once(config, db, name, clock=Ticker())
    db.dispose()
    return path


def jobmon(path: Path, *args: str) -> int:
    return cli.main(["--config", str(path), *args])


def run_ids(path: Path, name: str) -> list[int]:
    db = Database(load(path).database.url)
    with db.read() as session:
        job_id = session.scalars(select(Job.id).where(Job.name == name)).one()
        ids = list(session.scalars(select(Run.id).where(Run.job_id == job_id).order_by(Run.id)))
    db.dispose()
    return ids


def test_jobs_json(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert jobmon(config_path, "jobs", "--output", "json") == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}

    assert list(rows) == sorted(rows)
    assert rows["ok"] | {"started_at": None, "ended_at": None, "duration_seconds": None} == {
        "name": "ok",
        "kind": "python",
        "status": "finished",
        "label": "Finished",
        "schedule": "",
        "after": None,
        "run_id": run_ids(config_path, "ok")[-1],
        "run_number": 1,
        "started_at": None,
        "ended_at": None,
        "duration_seconds": None,
        "next_run_at": None,
        "records": 30,
        "rejects": 0,
        "max_rejects": None,
        "runner_up": False,
    }
    assert (rows["too-many"]["status"], rows["too-many"]["rejects"]) == (
        "finished_with_errors",
        5,
    )
    assert (rows["never"]["status"], rows["never"]["label"], rows["never"]["run_id"]) == (
        "editing",
        "Being edited",
        None,
    )


def test_jobs_table_shows_icon_and_label(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert jobmon(config_path, "jobs") == 0
    out = capsys.readouterr().out
    for status in (Status.FINISHED, Status.FINISHED_WITH_ERRORS, Status.EDITING):
        assert f"{status.icon} {status.label}" in out
    assert "too-many" in out


def test_show(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    older, latest = run_ids(config_path, "too-many")

    assert jobmon(config_path, "show", "too-many", "--output", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["job"]["max_rejects"] == 3
    assert (shown["run"]["id"], shown["run"]["status"], shown["run"]["rejects"]) == (
        latest,
        "finished_with_errors",
        5,
    )
    moves = [(t["from_status"], t["to_status"], t["cause"]) for t in shown["transitions"]]
    assert moves == [
        (None, "editing", "user"),
        ("editing", "running", "runner"),
        ("running", "finished_with_errors", "runner"),
    ]

    assert jobmon(config_path, "show", "too-many", "--run", str(older)) == 0
    out = capsys.readouterr().out
    assert f"run {older}" in out
    assert "✖ Finished with errors" in out
    assert "transitions" in out


def test_journal(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert jobmon(config_path, "journal", "crash", "--output", "json") == 0
    lines = json.loads(capsys.readouterr().out)
    assert [line["level"] for line in lines] == ["info", "info", "error", "info"]
    assert lines[2]["message"] == "RuntimeError: something broke"

    assert jobmon(config_path, "journal", "too-many", "--limit", "1", "--output", "json") == 0
    (last,) = json.loads(capsys.readouterr().out)
    assert last["message"].startswith("Status changed from Running to Finished with errors")

    older = run_ids(config_path, "too-many")[0]
    assert jobmon(config_path, "journal", "too-many", "--run", str(older)) == 0
    out = capsys.readouterr().out
    assert f"journal of too-many, run {older}" in out
    assert "counting from 0 to 30" in out


def test_rejects_as_csv_json_and_table(
    config_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert jobmon(config_path, "rejects", "too-many", "--format", "csv") == 0
    # A python job has no source file: each record as it reported it, in a cell of its own.
    rows = list(csv.reader(io.StringIO(capsysbinary.readouterr().out.decode())))
    assert rows == [
        ["jobmon_record", "jobmon_line", "jobmon_field", "jobmon_reason", "jobmon_message"],
        *([str(n), str(n), "n", "other", f"{n} is a multiple of 4"] for n in (4, 8, 12, 16, 20)),
    ]

    older = run_ids(config_path, "too-many")[0]
    assert jobmon(config_path, "rejects", "too-many", "--run", "1", "--output", "json") == 0
    rejects = json.loads(capsysbinary.readouterr().out)
    assert [(r["run_id"], r["line"], r["reason"]) for r in rejects][:2] == [
        (older, 4, "other"),
        (older, 8, "other"),
    ]

    assert jobmon(config_path, "rejects", "too-many") == 0
    table = capsysbinary.readouterr().out.decode()
    assert "rejects of too-many, run 2: 5 rejects" in table
    assert "4 is a multiple of 4" in table


def test_pause_a_finished_job_is_refused(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(run_ids(config_path, "ok")) == 1
    assert jobmon(config_path, "pause", "ok") == 3
    out, err = capsys.readouterr()
    assert "cannot pause job 'ok': its latest run 1 is finished (Finished)" in out + err


def test_start_and_cancel(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert jobmon(config_path, "start", "noop") == 0
    (run_id,) = run_ids(config_path, "noop")
    assert run_id > 1  # runs are named to people by their number within the job
    assert capsys.readouterr().out.splitlines() == [
        "noop: run 1 created",
        "  no runner up: it starts when one does (`jobmon runner`)",
    ]
    assert jobmon(config_path, "start", "noop") == 3
    capsys.readouterr()
    assert jobmon(config_path, "cancel", "noop") == 0
    assert "noop: run 1 is ⊘ Canceled" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["show", "nope"],
        ["journal", "nope"],
        ["rejects", "nope"],
        ["start", "nope"],
        ["pause", "nope"],
        ["resume", "nope"],
        ["cancel", "nope"],
    ],
)
def test_unknown_job_is_a_usage_error(
    config_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert jobmon(config_path, *args) == 2
    out, err = capsys.readouterr()
    assert "no job named 'nope' in the config" in out + err


def test_run_of_another_job_or_none_is_a_usage_error(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = run_ids(config_path, "ok")[0]
    assert jobmon(config_path, "show", "too-many", "--run", str(other)) == 2
    assert f"job 'too-many' has no run {other}" in "".join(capsys.readouterr())
    assert jobmon(config_path, "journal", "never") == 2
    assert "job 'never' has no" in "".join(capsys.readouterr())


def test_database_errors_never_show_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = [{"name": "a", "kind": "python", "callable": "runner.examples:noop"}]
    for url in (
        f"postgresql://jobmon:{SECRET}@127.0.0.1:1/jobmon",
        f"mysql://jobmon:{SECRET}@127.0.0.1:1/jobmon",
        f"postgresql://jobmon:{SECRET}@127.0.0.1:5432/test",  # a server that refuses the user
    ):
        path = write_config(tmp_path / "jobmon.yaml", url, jobs)
        for args in (["jobs"], ["show", "a"], ["--log-level", "debug", "pause", "a"]):
            assert jobmon(path, *args) == 1, (url, args)
            out, err = capsys.readouterr()
            assert "database error" in out + err
            assert SECRET not in out + err


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{c}", "--output", "json", "show", "ok"],
        ["show", "ok", "--config", "{c}", "--output", "json"],
        ["--output", "json", "show", "--config", "{c}", "ok"],
        ["--config", "/nowhere.yaml", "show", "ok", "--config", "{c}", "--output", "json"],
    ],
)
def test_config_and_output_before_or_after_the_command(
    config_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert cli.main([a.replace("{c}", str(config_path)) for a in argv]) == 0
    assert json.loads(capsys.readouterr().out)["job"]["name"] == "ok"


def test_no_config_found_says_where_it_looked_and_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOBMON_CONFIG", raising=False)
    assert cli.main(["jobs"]) == 2
    err = capsys.readouterr().err
    assert f"looked at {tmp_path / 'config.yaml'}" in err
    for hint in ("--config FILE", "JOBMON_CONFIG=FILE", "config.example.yaml runs as it is"):
        assert hint in err
    monkeypatch.setenv("JOBMON_CONFIG", str(tmp_path / "gone.yaml"))
    assert cli.main(["db", "upgrade"]) == 2
    assert "gone.yaml: no such config file" in capsys.readouterr().err
