"""``jobmon rejects JOB --format csv``: rejected records byte for byte, fixed, imported again."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import cli
from runner.core.events import MAX_RAW_BYTES
from runner.core.rejects_csv import Layout, write_rejects
from runner.core.states import Status
from runner.core.storage.models import Reject
from tests.jobs.conftest import Env

Capture = pytest.CaptureFixture[bytes]
COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "type": "text", "max_length": 20},
    {"name": "amount", "type": "decimal", "precision": 8, "scale": 2},
]
EXTRA = b"jobmon_line,jobmon_field,jobmon_reason,jobmon_message"
# Latin-1, LF and CRLF lines; the rejected records, by line, are the ones the tests fix.
LATIN1 = (
    b"id,name,amount\n"
    b"1,Zo\xeb,1.50\n"
    b"2,Bj\xf8rn,x\n"  # 3: amount is not a number
    b"3,\xc5sa\n"  # 4: two fields of three
    b'4,"\xc6sir\nsecond line",oops\n'  # 5-6: a record over two lines, amount not a number
    b"5,Chlo\xe9,2\r\n"
    b'6,\xd8rjan,"1,5"\r\n'  # 8: amount is not a number
    b"1,Dup,3\n"  # 9: the key is taken: the database refuses it
    b"7,\xc6ble,4\n"
)
LATIN1_REJECTED = {
    3: b"2,Bj\xf8rn,x\n",
    4: b"3,\xc5sa\n",
    5: b'4,"\xc6sir\nsecond line",oops\n',
    8: b'6,\xd8rjan,"1,5"\r\n',
    9: b"1,Dup,3\n",
}
LATIN1_FIXES = {
    b"2,Bj\xf8rn,x,": b"2,Bj\xf8rn,2.5,",
    b"3,\xc5sa,": b"3,\xc5sa,3,",
    b'line",oops,': b'line",4,',
    b'"1,5",': b"1.5,",
    b"1,Dup,3,": b"8,Dup,3,",
}


@pytest.fixture(params=["chosen", "process"])
def producer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Chunks read as the strategy chooses, or by a child process (large files, PostgreSQL)."""
    if request.param == "process":
        from runner.executor.jobs import convertproc, strategy

        real = strategy.choose

        def choose(dialect: str, remaining: int, **options: Any) -> strategy.Strategy:
            chosen = real(dialect, remaining, **options)
            return dataclasses.replace(chosen, producer="process")

        monkeypatch.setattr(strategy, "choose", choose)
        # The whole file to the child, even if it is read before the child has started.
        monkeypatch.setattr(convertproc.ProcessChunks, "ready", lambda self: True)
    return str(request.param)


def job(path: Path, name: str = "imp", **source: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "import",
        "source": {"path": str(path), **source},
        "target": {"table": "people", "create": True, "key": ["id"]},
        "columns": COLUMNS,
    }


def config_file(env: Env, *jobs: dict[str, Any]) -> Path:
    path = env.data.parent / "jobmon.yaml"
    raw = {"database": {"url": env.url}, "runner": {"data_dirs": [str(env.data)]}}
    path.write_text(yaml.safe_dump({**raw, "jobs": list(jobs)}))
    return path


def jobmon(config: Path, *args: str) -> int:
    return cli.main(["--config", str(config), *args])


def rejects_csv(config: Path, name: str, capture: Capture) -> bytes:
    """What ``jobmon rejects NAME --format csv`` writes, as bytes."""
    capture.readouterr()
    assert jobmon(config, "rejects", name, "--format", "csv") == 0
    return capture.readouterr().out


def extra(env: Env, line: int, encoding: str = "latin-1", delimiter: str = ",") -> bytes:
    """The four cells the rejects CSV adds after the record of ``line``."""
    [reject] = [r for r in env.reject_rows() if r.line == line]
    out = io.StringIO()
    cells = (line, reject.field or "", reject.reason, reject.message)
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return (delimiter + out.getvalue()).encode(encoding, errors="backslashreplace")


def with_cells(env: Env, line: int, record: bytes, **options: str) -> bytes:
    """The record as read, its line break moved after the added cells."""
    body = record.rstrip(b"\r\n")
    return body + extra(env, line, **options) + record[len(body) :]


def test_rejects_csv_is_each_latin1_record_byte_for_byte_and_fixed_lines_import(
    env: Env, producer: str, capfdbinary: Capture
) -> None:
    source = env.data / "people.csv"
    source.write_bytes(LATIN1)
    config = config_file(env, job(source, encoding="latin-1"))
    cfg = env.config(job(source, encoding="latin-1"))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert [r[0] for r in env.rejects()] == list(LATIN1_REJECTED)

    out = rejects_csv(config, "imp", capfdbinary)

    lines = [with_cells(env, line, record) for line, record in LATIN1_REJECTED.items()]
    assert out == b"id,name,amount," + EXTRA + b"\n" + b"".join(lines)
    fixed = out
    for bad, good in LATIN1_FIXES.items():
        fixed = fixed.replace(bad, good)
    source.write_bytes(fixed)
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rejects() == []
    assert env.rows("people", "id", "name", "amount") == [
        (1, "Zoë", 1.5),
        (2, "Bjørn", 2.5),
        (3, "Åsa", 3.0),
        (4, "Æsir\nsecond line", 4.0),
        (5, "Chloé", 2.0),
        (6, "Ørjan", 1.5),
        (7, "Æble", 4.0),
        (8, "Dup", 3.0),
    ]


def test_rejects_csv_keeps_undecodable_bytes_of_a_source_read_as_utf8(
    env: Env, producer: str, capfdbinary: Capture
) -> None:
    source = env.data / "people.csv"
    source.write_bytes(b'id,name,amount\n1,Zo\xeb,1.50\n2,"\xc3\x86sir\nZo\xc3\xab",x\n3,Ann,2\n')
    config = config_file(env, job(source))
    cfg = env.config(job(source))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rejects() == [(2, None, "encoding"), (3, "amount", "type")]

    out = rejects_csv(config, "imp", capfdbinary)

    assert out == (
        b"id,name,amount," + EXTRA + b"\n"
        + with_cells(env, 2, b"1,Zo\xeb,1.50\n", encoding="utf-8")
        + with_cells(env, 3, b'2,"\xc3\x86sir\nZo\xc3\xab",x\n', encoding="utf-8")
    )  # fmt: skip
    source.write_bytes(out.replace(b"\xeb", "ë".encode()).replace(b",x,", b",5,"))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "Zoë"), (2, "Æsir\nZoë"), (3, "Ann")]


def test_rejects_csv_quotes_its_cells_as_the_source_does(env: Env, capfdbinary: Capture) -> None:
    source = env.data / "fixme.csv"
    source.write_bytes(b'id;name\n1;a\n2x;"b;c"\n3;"multi\nline"\n4;\xff\n')
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    spec = {**job(source, delimiter=";"), "columns": columns}
    assert env.start(env.config(spec), "imp") is Status.FINISHED
    out = rejects_csv(config_file(env, spec), "imp", capfdbinary)
    options = {"encoding": "utf-8", "delimiter": ";"}
    assert out.startswith(b"id;name;jobmon_line;jobmon_field;jobmon_reason;jobmon_message\n")
    assert out.endswith(
        with_cells(env, 3, b'2x;"b;c"\n', **options) + with_cells(env, 6, b"4;\xff\n", **options)
    )
    source.write_bytes(out.replace(b"2x;", b"2;").replace(b"\xff", b"fixed"))
    assert env.start(env.config(spec), "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [
        (1, "a"),
        (2, "b;c"),
        (3, "multi\nline"),
        (4, "fixed"),
    ]


def test_rejects_csv_of_a_source_without_header_appends_the_same_cells(
    env: Env, capfdbinary: Capture
) -> None:
    source = env.data / "plain.csv"
    source.write_bytes(b"1,Ann,1\n2,Bob,x\n3,Cy\n")
    spec = job(source, header=False)
    assert env.start(env.config(spec), "imp") is Status.FINISHED
    out = rejects_csv(config_file(env, spec), "imp", capfdbinary)
    assert out == with_cells(env, 2, b"2,Bob,x\n") + with_cells(env, 3, b"3,Cy\n")
    source.write_bytes(out.replace(b",x,", b",2,").replace(b"3,Cy,", b"3,Cy,3,"))
    assert env.start(env.config(spec), "imp") is Status.FINISHED
    assert env.rows("people", "id", "amount") == [(1, 1.0), (2, 2.0), (3, 3.0)]


def test_rejects_csv_cuts_a_record_longer_than_max_record_bytes(
    env: Env, capfdbinary: Capture
) -> None:
    source = env.data / "long.csv"
    long = b"2,Bob," + b"9" * (MAX_RAW_BYTES + 1000)
    source.write_bytes(b"id,name,amount\n1,Ann,1\n" + long + b"\n3,Cy,3\n")
    spec = job(source, max_record_bytes=4096)
    assert env.start(env.config(spec), "imp") is Status.FINISHED
    assert env.rows("people", "id") == [(1,), (3,)]
    out = rejects_csv(config_file(env, spec), "imp", capfdbinary)
    assert out == b"id,name,amount," + EXTRA + b"\n" + long[:MAX_RAW_BYTES] + extra(env, 3) + b"\n"


def test_rejects_csv_of_records_stored_without_their_bytes_encodes_their_text() -> None:
    layout = Layout(encoding="latin-1", header="id,name", source=True)
    message = "≠ int\nsee the docs"
    old = Reject(line=3, record="2x,Zoë", raw=None, field="id", reason="type", message=message)
    out = io.BytesIO()
    assert write_rejects(out, layout, [old]) == 1
    assert out.getvalue() == (
        b"id,name," + EXTRA + b'\n2x,Zo\xeb,3,id,type,"\\u2260 int\nsee the docs"\n'
    )


def test_rejects_of_a_run_without_rejects_say_so(env: Env, capfdbinary: Capture) -> None:
    bad, good = env.data / "bad.csv", env.data / "good.csv"
    bad.write_bytes(b"id,name,amount\nx,Ann,1\n")
    good.write_bytes(b"id,name,amount\n1,Ann,1\n")
    specs = [job(bad, "bad"), {**job(good, "good"), "target": {"table": "good", "create": True}}]
    cfg, config = env.config(*specs), config_file(env, *specs)
    assert env.start(cfg, "bad") is Status.FINISHED
    assert env.start(cfg, "good") is Status.FINISHED  # its run 1, the database's run 2

    assert jobmon(config, "rejects", "good") == 0
    assert capfdbinary.readouterr() == (b"", b"no rejects in run 1\n")
    assert jobmon(config, "rejects", "good", "--format", "csv") == 0
    assert capfdbinary.readouterr() == (
        b"id,name,amount," + EXTRA + b"\n",
        b"no rejects in run 1\n",
    )
    assert jobmon(config, "rejects", "good", "--output", "json") == 0
    assert capfdbinary.readouterr() == (b"[]\n", b"")
    assert jobmon(config, "rejects", "bad") == 0
    table = capfdbinary.readouterr().out.decode()
    assert "rejects of bad, run 1: 1 reject" in table and "1 rejects" not in table


def bare_config(tmp_path: Path) -> Path:
    """A config whose database is never opened: the command is refused before."""
    path = tmp_path / "jobmon.yaml"
    spec = job(tmp_path / "x.csv")
    path.write_text(yaml.safe_dump({"database": {"url": "sqlite:///unused.db"}, "jobs": [spec]}))
    return path


@pytest.mark.parametrize("before", [True, False])
def test_rejects_format_csv_and_output_json_together_is_a_usage_error(
    tmp_path: Path, capfdbinary: Capture, before: bool
) -> None:
    args = ["rejects", "imp", "--format", "csv"]
    args = ["--output", "json", *args] if before else [*args, "--output", "json"]
    assert jobmon(bare_config(tmp_path), *args) == 2
    out, err = capfdbinary.readouterr()
    assert out == b""
    assert b"--format csv and --output json cannot be used together" in err


@pytest.mark.parametrize("value", ["table", "json", "tsv"])
def test_rejects_format_takes_only_csv(tmp_path: Path, capfdbinary: Capture, value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        jobmon(bare_config(tmp_path), "rejects", "imp", "--format", value)
    assert exited.value.code == 2
    assert b"invalid choice" in capfdbinary.readouterr().err
