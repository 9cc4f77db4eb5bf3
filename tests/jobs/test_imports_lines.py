"""Imports read by whole lines and by records store the same: rows, rejects, checkpoints.

On SQLite, PostgreSQL and MariaDB, each generated file is imported twice, once with every
chunk offered to the line route and once by records only, and everything a run leaves is
compared: the target table, every reject (line, record, field, reason, message, raw bytes),
the run's counts, status and last checkpoint, the journal.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from runner.core.states import Status
from runner.executor.jobs import linecheck, strategy
from tests.jobs.conftest import Env, drop_user_tables

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "max_length": 12},
    {"name": "email", "type": "pattern", "pattern": r"[^@\s]+@[^@\s]+\.[a-z]+"},
    {"name": "country", "type": "enum", "choices": ["FR", "DE", "Côte", "a b"]},
    {"name": "amount", "type": "decimal", "precision": 8, "scale": 2},
    {"name": "score", "type": "float"},
    {"name": "active", "type": "boolean"},
    {"name": "born", "type": "date"},
    {"name": "seen", "type": "datetime"},
]
NAMES = [c["name"] for c in COLUMNS]
GOOD = {
    "name": ["Ann", "Zoë", "Bo Li", "", "a|b", "x;y", "o'k", "a-b", "Ünïcode"],
    "email": ["a@b.io", "", "ann.lee@example.com", "ü@é.de"],
    "country": ["FR", "DE", "Côte", "a b", ""],
    "amount": ["0", "-1.5", "123456.78", "0.10", "-0", ""],
    "score": ["1", "0.5", "-2.25", ".5", "3.", ""],
    "active": ["true", "false", "1", "0", "yes", "off", ""],
    "born": ["2024-01-31", "1999-12-28", "2023-04-30", ""],
    "seen": ["2024-01-31 10:00:00", "2024-05-01 08:30:15.250000", ""],
}
BAD = {
    "id": ["x", "", "007", "+5", "1_0", "99999999999999999999", " 7"],
    "name": ["much too long a name", "a\\b", "tab\there"],
    "email": ["no-at-sign", "a@b"],
    "country": ["XX", "fr", " FR"],
    "amount": ["1.005", "1e3", "123456789", "nan", "007"],
    "score": ["inf", "1e999", "abc", "1_0"],
    "active": ["TRUE", " yes", "maybe"],
    "born": ["2024-02-30", "2024-02-29", "20240131", "0999-01-01", " 2024-01-31"],
    "seen": ["2024-01-31T10:00:00", "2024-01-31 10:00", "2024-01-31 10:00:00.000000"],
}
# Whole lines that are no plain record.
ODD_LINES = ["", "1,2", '7,"multi\nline",a@b.io,FR,1,1,1,2024-01-01,', '"unclosed,1']


def line(rng: random.Random, number: int, delimiter: str, quote: str) -> str:
    """A record of the file: mostly plain, a field in a hundred bad, some quoted."""
    fields = [str(number)]
    for name in NAMES[1:]:
        bad = rng.random() < 0.01
        fields.append(rng.choice(BAD[name] if bad else GOOD[name]))
    if rng.random() < 0.01:
        fields[0] = rng.choice(BAD["id"])
    out = []
    for name, value in zip(NAMES, fields, strict=True):
        # Text quoted now and then, any value quoted when it must be.
        maybe = name in ("name", "email") and rng.random() < 0.1
        if delimiter in value or quote in value or maybe:
            value = quote + value.replace(quote, quote * 2) + quote
        out.append(value)
    text = delimiter.join(out)
    if rng.random() < 0.01:
        text = rng.choice(ODD_LINES).replace(",", delimiter)
    return text + ("\r\n" if rng.random() < 0.002 else "\n")


def generate(path: Path, rows: int, delimiter: str, quote: str, encoding: str) -> None:
    rng = random.Random(rows + ord(delimiter))
    body = delimiter.join(NAMES) + "\n"
    body += "".join(line(rng, i, delimiter, quote) for i in range(1, rows + 1))
    data = body.encode(encoding, errors="replace")
    cut = data.index(b"\n", len(data) // 2) + 1  # an undecodable line in the middle
    path.write_bytes(data[:cut] + b"\xff\xfe" + delimiter.encode() + b"1\n" + data[cut:])


def force(monkeypatch: pytest.MonkeyPatch, reading: str) -> None:
    real = strategy.choose

    def choose(dialect: str, remaining: int, **options: Any) -> strategy.Strategy:
        return dataclasses.replace(real(dialect, remaining, **options), reading=reading)

    monkeypatch.setattr(strategy, "choose", choose)


def outcome(env: Env, cfg: Any) -> dict[str, Any]:
    """Everything a run of the job leaves, then the target table dropped."""
    status = env.start(cfg, "imp")
    run = env.last_run()
    rejects = [
        (r.line, r.record, r.field, r.reason, r.message, r.raw) for r in env.reject_rows(run.id)
    ]
    checkpoint = json.loads(run.checkpoint or "null")
    found = {
        "status": status,
        "rows": env.rows("people", *NAMES),
        "rejects": rejects,
        "counts": (run.records, run.rejects),
        "checkpoint": checkpoint,
        "journal": env.journal(run.id),
    }
    drop_user_tables(env.db)
    return found


def job(path: Path, **changes: Any) -> dict[str, Any]:
    source = {"path": str(path), **changes.pop("source", {})}
    return {
        "name": "imp",
        "kind": "import",
        "source": source,
        "target": {"table": "people", "create": True},
        "columns": COLUMNS,
        "chunk_rows": 7,
        **changes,
    }


def compare(env: Env, monkeypatch: pytest.MonkeyPatch, spec: dict[str, Any]) -> dict[str, Any]:
    """The outcome of ``spec`` read by lines, which must be the outcome read by records."""
    taken: list[bool] = []
    kept: list[bool] = []  # whether a chunk kept lines as they are
    read = linecheck.LineRoute.read

    def spy(route: linecheck.LineRoute, *args: Any) -> Any:
        chunk = read(route, *args)
        taken.append(chunk is not None)
        kept.append(chunk is not None and bool(chunk[1].raw_lines))
        return chunk

    monkeypatch.setattr(linecheck.LineRoute, "read", spy)
    force(monkeypatch, "records")
    expected = outcome(env, env.config(spec))
    force(monkeypatch, "lines")
    got = outcome(env, env.config(spec))
    assert got == expected
    # Into PostgreSQL, runs of lines go to COPY as they are and the other rows after them:
    # the same rows come out (rows of one id in another order).
    force(monkeypatch, "raw")
    del kept[:]
    raw = outcome(env, env.config(spec))
    assert any(kept) is (env.db.dialect == "postgresql" and any(taken))
    assert sorted(raw.pop("rows"), key=repr) == sorted(expected["rows"], key=repr)
    assert raw == {k: v for k, v in expected.items() if k != "rows"}
    return {"outcome": got, "taken": taken}


@pytest.mark.parametrize(
    ("delimiter", "quote", "encoding"),
    [(",", '"', "utf-8"), (";", "'", "latin-1"), ("\t", '"', "utf-8"), ("|", "~", "utf-8")],
)
def test_lines_and_records_store_the_same(
    env: Env, monkeypatch: pytest.MonkeyPatch, delimiter: str, quote: str, encoding: str
) -> None:
    path = env.data / "people.csv"
    generate(path, 400, delimiter, quote, encoding)
    fmt = {"delimiter": delimiter, "quote": quote, "encoding": encoding}
    found = compare(env, monkeypatch, job(path, source=fmt))
    assert found["outcome"]["status"] is Status.FINISHED
    assert found["outcome"]["rows"] and found["outcome"]["rejects"]
    assert any(found["taken"]) and not all(found["taken"])  # the route took most, not all


def test_lines_and_records_stop_alike_at_max_rejects(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.data / "people.csv"
    generate(path, 300, ",", '"', "utf-8")
    found = compare(env, monkeypatch, job(path, max_rejects=9))
    assert found["outcome"]["status"] is Status.FINISHED_WITH_ERRORS
    assert any(found["taken"])


def test_columns_with_defaults_are_read_by_records(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.data / "people.csv"
    generate(path, 100, ",", '"', "utf-8")
    columns = [{**c, "default": "FR"} if c["name"] == "country" else c for c in COLUMNS]
    found = compare(env, monkeypatch, job(path, columns=columns))
    assert found["taken"] == []  # no route: every chunk by records
    assert ("FR" in {row[3] for row in found["outcome"]["rows"]}) is True


def test_lines_keep_the_checkpoint_of_a_stopped_run_and_resume_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.data / "people.csv"
    generate(path, 200, ",", '"', "utf-8")
    cfg = env.config(job(path))
    force(monkeypatch, "records")
    expected = outcome(env, cfg)
    force(monkeypatch, "lines")
    assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
    stopped = json.loads(env.last_run().checkpoint or "null")
    assert stopped["line"] == 8 and stopped["offset"] > 0  # the header and the first chunk
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", *NAMES) == expected["rows"]
    rejects = [(r.line, r.record, r.field, r.reason, r.message, r.raw) for r in env.reject_rows()]
    assert rejects == expected["rejects"]
    assert json.loads(env.last_run().checkpoint or "null") == expected["checkpoint"]
