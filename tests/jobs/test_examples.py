"""The shipped example: customers.csv is what its generator writes, and the example import and
export jobs of config.example.yaml run as they are."""

from __future__ import annotations

import csv
from codecs import BOM_UTF8
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import cli
from runner.core import config
from runner.core.states import Status
from runner.core.storage.db import Database
from runner.core.storage.migrate import upgrade
from tests.jobs.conftest import Env

ROOT = Path(__file__).resolve().parents[2]


def test_examples_csv_matches_its_generator() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_customers", ROOT / "examples" / "make_customers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render() == (ROOT / "examples" / "customers.csv").read_bytes()


def test_example_import_and_export_jobs_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.chdir(ROOT)  # data_dirs and job paths are relative to the working directory
    raw = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    raw["database"]["url"] = f"sqlite:///{tmp_path / 'jobmon.db'}"
    raw["runner"]["data_dirs"] = ["examples", str(tmp_path)]
    export = next(j for j in raw["jobs"] if j["name"] == "export-active-customers")
    export["destination"]["path"] = str(tmp_path / "out" / "active.csv")
    cfg = config.parse(raw)
    db = Database(cfg.database.url)
    upgrade(db)
    env = Env(db, cfg.database.url, tmp_path)
    assert env.start(cfg, "import-customers") is Status.FINISHED
    reasons = sorted(r[2] for r in env.rejects())
    assert reasons == sorted(
        ["type", "type", "pattern", "choice", "required", "type", "encoding", "parse"]
    )
    assert len(env.rows("customers", "customer_id")) == 292
    assert env.start(cfg, "export-active-customers") is Status.FINISHED
    exported = (tmp_path / "out" / "active.csv").read_text().splitlines()
    assert exported[0] == "customer_id,name,email,country,balance"
    assert any(line.startswith("29,'=1+2 Mallory,") for line in exported)
    db.dispose()
    _assert_rejects_csv_is_the_bad_records(tmp_path, raw, capsysbinary)


def _assert_rejects_csv_is_the_bad_records(
    tmp_path: Path, raw: dict[str, Any], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """`jobmon rejects --format csv` gives the source's header and its bad records as read."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    capsysbinary.readouterr()
    assert cli.main(["--config", str(path), "rejects", "import-customers", "--format", "csv"]) == 0
    lines = capsysbinary.readouterr().out.splitlines()
    source = (ROOT / "examples" / "customers.csv").read_bytes().removeprefix(BOM_UTF8).splitlines()
    assert lines[0] == source[0] + b",jobmon_line,jobmon_field,jobmon_reason,jobmon_message"
    assert len(lines) == 1 + 8
    for line in lines[1:]:  # latin-1 reads any byte as one character, to find the cells
        number = int(next(csv.reader([line.decode("latin-1")]))[-4])
        assert line.startswith(source[number - 1] + b","), line
