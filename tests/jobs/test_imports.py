"""``kind: import`` runs on SQLite, PostgreSQL and MariaDB: rows, rejects, resume, limits."""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.core.config import CsvFormat
from runner.core.states import Status
from runner.executor.jobs import strategy
from runner.executor.jobs.rows import format_record
from tests.jobs.conftest import Env, drop_user_tables

CSV = CsvFormat.model_validate({})

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "type": "text", "max_length": 12, "required": True},
    {"name": "amount", "type": "decimal", "precision": 8, "scale": 2},
    {"name": "country", "type": "enum", "choices": ["FR", "DE", "US"]},
    {"name": "code", "type": "pattern", "pattern": "[A-Z]{2}[0-9]{2}"},
    {"name": "active", "type": "boolean", "default": "false"},
    {"name": "born", "type": "date"},
    {"name": "seen", "type": "datetime"},
    {"name": "score", "type": "float"},
]
HEADER = b"id,name,amount,country,code,active,born,seen,score\n"


def job(path: Path, **changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "imp",
        "kind": "import",
        "source": {"path": str(path)},
        "target": {"table": "people", "create": True, "key": ["id"]},
        "columns": COLUMNS,
    }
    spec.update(changes)
    return spec


GOOD = b"1,Ann,10.50,FR,AB12,true,2000-01-31,2024-05-01T10:00:00,1.5\n"
BAD_FILE = (
    b"\xef\xbb\xbf"
    + HEADER
    + GOOD
    + b"2,Bob,x,FR,AB12,true,2000-01-31,,\n"  # 3: amount type
    + b"3,,1,FR,AB12,true,,,\n"  # 4: name required
    + b"4,Name too long here,1,FR,AB12,,,,\n"  # 5: name length
    + b"5,Cy,1,XX,AB12,,,,\n"  # 6: country choice
    + b"6,Di,1,DE,ab12,,,,\n"  # 7: code pattern
    + b"7,Ed,1,DE,CD34\n"  # 8: ragged -> parse
    + b"8,F\xe9e,1,DE,CD34,,,,\n"  # 9: invalid UTF-8 -> encoding
    + b'9,"Gus",2,US,EF56,no,1999-12-31,2024-05-01 10:00:00+02:00,-3\n'
    + b"\n"  # 11: blank line, skipped
    + b"10,Hal,"
    + b"y" * 140_000
    + b",US,EF56,,,,\n"  # 12: field over the size limit -> parse
    + b"11,Ida,3,US,EF56,,,,\n"
    + b'12,"Jo\nJo",4,US,EF56,,,,\n'  # 14-15: a record over two lines
    + b'13,"Kim,5,US,EF56,,,,\n'  # 16: unclosed quote at the end -> parse
)


def test_import_keeps_valid_rows_and_rejects_each_bad_record(env: Env) -> None:
    path = env.data / "people.csv"
    path.write_bytes(BAD_FILE)
    cfg = env.config(job(path))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name", "amount", "country", "active", "born", "seen") == [
        (1, "Ann", 10.5, "FR", 1, "2000-01-31", "2024-05-01 10:00:00"),
        (9, "Gus", 2.0, "US", 0, "1999-12-31", "2024-05-01 08:00:00"),
        (11, "Ida", 3.0, "US", 0, None, None),
        (12, "Jo\nJo", 4.0, "US", 0, None, None),
    ]
    assert env.rejects() == [
        (3, "amount", "type"),
        (4, "name", "required"),
        (5, "name", "length"),
        (6, "country", "choice"),
        (7, "code", "pattern"),
        (8, None, "parse"),
        (9, None, "encoding"),
        (12, None, "parse"),
        (16, None, "parse"),
    ]
    run = env.last_run()
    assert (run.records, run.rejects) == (13, 9)
    assert any("imported 4 rows" in line for line in env.journal())


def test_import_reads_latin1_with_delimiter_and_quote(env: Env) -> None:
    path = env.data / "latin.csv"
    path.write_bytes("id;name\n1;'Zoë; the first'\n2;Ørjan\n".encode("latin-1"))
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    source = {"path": str(path), "encoding": "latin-1", "delimiter": ";", "quote": "'"}
    cfg = env.config(job(path, source=source, columns=columns))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "Zoë; the first"), (2, "Ørjan")]


@pytest.mark.parametrize("content", [b"", HEADER, b"\xef\xbb\xbf" + HEADER + b"\n\n"])
def test_import_empty_or_header_only_file_finishes_with_no_rows(env: Env, content: bytes) -> None:
    path = env.data / "empty.csv"
    path.write_bytes(content)
    assert env.start(env.config(job(path)), "imp") is Status.FINISHED
    assert env.rows("people", "id") == []
    assert env.last_run().records == 0


def test_import_without_header_maps_positions(env: Env) -> None:
    path = env.data / "plain.csv"
    path.write_bytes(b"x,1,Ann\ny,2,Bob\nz,3\n")
    columns = [{"name": "id", "type": "integer", "source": 2}, {"name": "name", "source": 3}]
    cfg = env.config(job(path, source={"path": str(path), "header": False}, columns=columns))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "Ann"), (2, "Bob")]
    assert env.rejects() == [(3, None, "parse")]


def test_import_upsert_updates_rows_by_key(env: Env) -> None:
    path = env.data / "up.csv"
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    target = {"table": "people", "create": True, "mode": "upsert", "key": ["id"]}
    cfg = env.config(job(path, columns=columns, target=target))
    path.write_bytes(b"id,name\n1,a\n2,b\n")
    assert env.start(cfg, "imp") is Status.FINISHED
    path.write_bytes(b"id,name\n2,B\n3,c\n3,C\n")
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "a"), (2, "B"), (3, "C")]
    assert env.rejects() == []


def test_import_database_refusals_are_rejected_alone(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL,"
            " amount INTEGER CHECK (amount < 100))"
        )
        conn.exec_driver_sql("INSERT INTO people (id, name, amount) VALUES (2, 'old', 1)")
    path = env.data / "refused.csv"
    path.write_bytes(b"id,name,amount\n1,a,1\n2,b,1\n3,c,500\n4,,1\n5,e,1\n5,f,1\n6,g,1\n")
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "name"},
        {"name": "amount", "type": "integer"},
    ]
    cfg = env.config(job(path, columns=columns, target={"table": "people"}))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "a"), (2, "old"), (5, "e"), (6, "g")]
    rejects = env.reject_rows()
    assert [(r.line, r.reason) for r in rejects] == [
        (3, "constraint"),
        (4, "constraint"),
        (5, "constraint"),
        (7, "constraint"),
    ]
    assert rejects[0].record == "2,b,1"


def test_rows_refused_amid_a_transaction_of_several_chunks_are_rejected_alone(env: Env) -> None:
    """Into PostgreSQL a transaction's lines go to one COPY as they come: a row refused
    amid it (the server stops reading there) is found again row by row, the others kept."""
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE people (id BIGINT PRIMARY KEY, amount INTEGER CHECK (amount < 100))"
        )
    refused = {10, 15_000, 24_999}
    path = env.data / "refused.csv"
    body = "".join(f"{i},{500 if i in refused else 1}\n" for i in range(1, 25_001))
    path.write_text("id,amount\n" + body)
    columns = [{"name": "id", "type": "integer"}, {"name": "amount", "type": "integer"}]
    cfg = env.config(job(path, columns=columns, target={"table": "people"}))
    assert env.start(cfg, "imp") is Status.FINISHED
    ids = [row[0] for row in env.rows("people", "id")]
    assert ids == [i for i in range(1, 25_001) if i not in refused]
    assert [(r.line, r.reason) for r in env.reject_rows()] == [
        (i + 1, "constraint") for i in sorted(refused)
    ]
    run = env.last_run()
    assert (run.records, run.rejects) == (25_000, 3)


def test_import_stopped_then_resumed_imports_every_row_once(env: Env) -> None:
    path = env.data / "many.csv"
    lines = [f"{i},n{i}" if i % 7 else f"{i},{'x' * 20}" for i in range(1, 51)]
    path.write_text("id,name\n" + "\n".join(lines) + "\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "name", "max_length": 10}]
    cfg = env.config(job(path, columns=columns, chunk_rows=8))
    assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
    assert len(env.rows("people", "id")) == 7
    assert env.start(cfg, "imp", pause=True) is Status.PAUSED
    assert len(env.rows("people", "id")) == 14
    assert env.start(cfg, "imp") is Status.FINISHED
    expected = [(i,) for i in range(1, 51) if i % 7]
    assert env.rows("people", "id") == expected
    assert env.rejects() == [(i + 1, "name", "length") for i in range(7, 50, 7)]
    run = env.last_run()
    assert (run.records, run.rejects) == (50, 7)


def test_import_refuses_to_resume_a_changed_file(env: Env) -> None:
    path = env.data / "changing.csv"
    path.write_text("id,name\n" + "".join(f"{i},n\n" for i in range(1, 21)))
    cfg = env.config(job(path, columns=[{"name": "id", "type": "integer"}], chunk_rows=5))
    assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
    with path.open("a") as file:
        file.write("21,n\n")
    assert env.start(cfg, "imp") is Status.FINISHED_WITH_ERRORS
    assert any("changed since this run started" in line for line in env.journal())
    assert len(env.rows("people", "id")) == 5


def test_import_over_max_rejects_ends_with_errors_keeping_committed_rows(env: Env) -> None:
    path = env.data / "bad.csv"
    path.write_text("id\n" + "".join(f"{i if i % 3 else 'x'}\n" for i in range(1, 31)))
    columns = [{"name": "id", "type": "integer"}]
    cfg = env.config(job(path, columns=columns, chunk_rows=6, max_rejects=3))
    assert env.start(cfg, "imp") is Status.FINISHED_WITH_ERRORS
    assert env.rows("people", "id") == [(1,), (2,), (4,), (5,), (7,), (8,), (10,), (11,)]
    assert env.last_run().rejects == 4
    assert any("more than max_rejects 3" in m and "8 rows imported" in m for m in env.journal())


def several_reads_per_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs without chunk_rows commit 9 rows per transaction, read 3 at a time, whatever
    the database (as PostgreSQL's 200,000 are read 10,000 at a time)."""
    monkeypatch.setattr(strategy, "READ_ROWS", 3)
    monkeypatch.setattr(strategy, "TRANSACTION_ROWS", {})
    monkeypatch.setattr(strategy, "DEFAULT_TRANSACTION_ROWS", 9)


def test_transactions_of_several_reads_checkpoint_each_and_resume_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    several_reads_per_transaction(monkeypatch)
    path = env.data / "many.csv"
    lines = [f"{i},n{i}" if i % 7 else f"{i},{'x' * 20}" for i in range(1, 51)]
    path.write_text("id,name\n" + "\n".join(lines) + "\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "name", "max_length": 10}]
    cfg = env.config(job(path, columns=columns))
    assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
    assert env.rows("people", "id") == [(i,) for i in range(1, 10) if i % 7]
    assert env.start(cfg, "imp", pause=True) is Status.PAUSED
    assert env.rows("people", "id") == [(i,) for i in range(1, 19) if i % 7]
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id") == [(i,) for i in range(1, 51) if i % 7]
    assert env.rejects() == [(i + 1, "name", "length") for i in range(7, 50, 7)]
    run = env.last_run()
    assert (run.records, run.rejects) == (50, 7)


def test_transaction_of_several_reads_ends_where_max_rejects_is_passed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    several_reads_per_transaction(monkeypatch)
    path = env.data / "bad.csv"
    path.write_text("id\n" + "".join(f"{i if i % 3 else 'x'}\n" for i in range(1, 31)))
    cfg = env.config(job(path, columns=[{"name": "id", "type": "integer"}], max_rejects=3))
    assert env.start(cfg, "imp") is Status.FINISHED_WITH_ERRORS
    # Rows 1-9 (3 rejects) commit together; the read of rows 10-12 passes the limit and
    # commits alone: no more is kept than with a transaction per read.
    assert env.rows("people", "id") == [(1,), (2,), (4,), (5,), (7,), (8,), (10,), (11,)]
    assert env.last_run().rejects == 4
    assert any("more than max_rejects 3" in m and "8 rows imported" in m for m in env.journal())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"target": {"table": "missing"}}, 'target: table "missing" does not exist'),
        ({"target": {"table": "runs"}}, 'target: table "runs" is one of jobmon\'s own tables'),
        (
            {"columns": [{"name": "id", "source": "nope"}]},
            'column "id": no field "nope" in the header',
        ),
        (
            {"source": {"path": "/etc/passwd"}},
            "source: /etc/passwd is outside the data directories",
        ),
    ],
)
def test_import_unusable_setup_fails_clearly(
    env: Env, changes: dict[str, Any], message: str
) -> None:
    path = env.data / "x.csv"
    path.write_text("id\n1\n")
    assert env.start(env.config(job(path, **changes)), "imp") is Status.FINISHED_WITH_ERRORS
    assert any(message in line for line in env.journal()), env.journal()


def test_import_existing_table_must_have_the_columns(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (id INTEGER, label VARCHAR(10))")
    path = env.data / "x.csv"
    path.write_text("id,name\n1,a\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    cfg = env.config(
        job(path, columns=columns, target={"table": "people", "mode": "upsert", "key": ["id"]})
    )
    assert env.start(cfg, "imp") is Status.FINISHED_WITH_ERRORS
    assert any('has no column "name" (it has id, label)' in line for line in env.journal())


def test_import_into_named_database(env: Env, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'warehouse.db'}"
    path = env.data / "x.csv"
    path.write_text("id,name\n1,a\n2,b\nz,c\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    target = {"table": "people", "create": True, "database": "wh", "mode": "upsert", "key": ["id"]}
    cfg = env.config(job(path, columns=columns, target=target), databases={"wh": {"url": other}})
    assert env.start(cfg, "imp") is Status.FINISHED
    engine = sa.create_engine(other)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id, name FROM people ORDER BY id").all() == [
            (1, "a"),
            (2, "b"),
        ]
    engine.dispose()
    assert env.rejects() == [(4, "id", "type")]


def test_import_file_changed_while_running_fails(env: Env) -> None:
    path = env.data / "x.csv"
    path.write_text("id\n1\n2\n")
    cfg = env.config(job(path, columns=[{"name": "id", "type": "integer"}], chunk_rows=1))
    assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
    os.utime(path, ns=(1, 1))
    assert env.start(cfg, "imp") is Status.FINISHED_WITH_ERRORS


def test_import_value_the_database_refuses_is_a_database_reject(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (id INTEGER, code VARCHAR(3))")
    path = env.data / "codes.csv"
    path.write_text("id,code\n1,abc\n2,abcdef\n3,xyz\n")
    columns = [{"name": "id", "type": "integer"}, {"name": "code"}]
    assert env.start(env.config(job(path, columns=columns, target={"table": "people"})), "imp") is (
        Status.FINISHED
    )
    if env.db.dialect == "sqlite":  # SQLite does not enforce VARCHAR lengths
        assert env.rows("people", "id") == [(1,), (2,), (3,)]
        return
    assert env.rows("people", "id", "code") == [(1, "abc"), (3, "xyz")]
    [reject] = env.reject_rows()
    assert (reject.line, reject.reason, reject.record) == (3, "database", "2,abcdef")
    assert "too long" in reject.message.lower()


def test_import_into_a_named_server_database_resumes_by_upsert(
    env: Env, backend: str, server_databases: Any, tmp_path: Path
) -> None:
    other = (
        f"sqlite:///{tmp_path / 'target.db'}"
        if backend == "sqlite"
        else server_databases.url(backend, "_target")
    )
    path = env.data / "x.csv"
    path.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(1, 31)))
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    target = {"table": "people", "create": True, "database": "wh", "mode": "upsert", "key": ["id"]}
    spec = job(path, columns=columns, target=target, chunk_rows=10)
    cfg = env.config(spec, databases={"wh": {"url": other}})
    engine = sa.create_engine(other)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS people")
    try:
        assert env.start(cfg, "imp", stop=True) is Status.SERVER_STOPPED
        assert env.start(cfg, "imp") is Status.FINISHED
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id FROM people ORDER BY id").all()
        assert [r[0] for r in rows] == list(range(1, 31))
        assert env.last_run().records == 30
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS people")
        engine.dispose()


def test_import_stores_each_type_as_the_database_reads_it(env: Env) -> None:
    path = env.data / "types.csv"
    path.write_text(
        "id,name,amount,country,code,active,born,seen,score\n"
        "1,Ann,-0.5,FR,AB12,yes,2024-02-29,2024-02-29 23:59:59.5,1e3\n"
        "2,Bo,7,DE,CD34,0,1900-01-01,1999-12-31T00:00:00,-0.25\n"
    )
    assert env.start(env.config(job(path)), "imp") is Status.FINISHED
    assert env.rows("people", "id", "amount", "active", "born", "seen", "score") == [
        (1, -0.5, 1, "2024-02-29", "2024-02-29 23:59:59.500000", 1000.0),
        (2, 7.0, 0, "1900-01-01", "1999-12-31 00:00:00", -0.25),
    ]


def read_in_child(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> None:
    """Read and validate every file in a child process, as large files are into PostgreSQL,
    handed over once ``after`` chunks are read here (at once: the file is all the child's)."""
    from runner.executor.jobs import convertproc, strategy

    monkeypatch.setattr(strategy, "PARALLEL_MIN_BYTES", 0)
    real = strategy.choose

    def choose(dialect: str, remaining: int, **options: Any) -> strategy.Strategy:
        chosen = real(dialect, remaining, **options)
        return dataclasses.replace(chosen, producer="process")

    monkeypatch.setattr(strategy, "choose", choose)
    asked = iter(range(after, -1, -1))
    monkeypatch.setattr(convertproc.ProcessChunks, "ready", lambda self: next(asked, 0) == 0)


@pytest.fixture
def in_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole file read in a child process."""
    read_in_child(monkeypatch)


@pytest.mark.usefixtures("in_child_process")
def test_import_in_child_process_keeps_rows_and_rejects(env: Env) -> None:
    test_import_keeps_valid_rows_and_rejects_each_bad_record(env)
    drop_user_tables(env.db)
    test_import_database_refusals_are_rejected_alone(env)


@pytest.mark.usefixtures("in_child_process")
def test_import_in_child_process_stops_and_resumes(env: Env) -> None:
    test_import_stopped_then_resumed_imports_every_row_once(env)


@pytest.mark.usefixtures("in_child_process")
def test_import_in_child_process_quotes_refused_rows_from_the_file_read_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runner.executor.jobs import csvsource

    opened: list[object] = []
    init = csvsource.CsvReader.__init__

    def spy(reader: csvsource.CsvReader, source: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(source)
        init(reader, source, *args, **kwargs)

    monkeypatch.setattr(csvsource.CsvReader, "__init__", spy)
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL,"
            " amount INTEGER CHECK (amount < 100))"
        )
        conn.exec_driver_sql("INSERT INTO people (id, name, amount) VALUES (2, 'old', 1)")
    path = env.data / "refused.csv"
    path.write_bytes(
        b'id,name,amount\n1,a,1\n2,"b, ""q""",1\n3,"multi\nline",500\n\n4,\xc3\xa9,1\n'
        b"5,\xff,1\n6,f,1\n2,again,1\n7,g,1\n"
    )
    columns = [{"name": "id", "type": "integer"}, {"name": "name"}]
    columns.append({"name": "amount", "type": "integer"})
    cfg = env.config(job(path, columns=columns, target={"table": "people"}, chunk_rows=2))
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name") == [(1, "a"), (2, "old"), (4, "é"), (6, "f"), (7, "g")]
    got = [(r.line, r.reason, r.record) for r in env.reject_rows()]
    assert got == [
        (3, "constraint", format_record(["2", 'b, "q"', "1"], CSV)),
        (4, "constraint", format_record(["3", "multi\nline", "500"], CSV)),
        (8, "encoding", "5,\\xff,1"),
        (10, "constraint", "2,again,1"),
    ]
    # The runner reads the file once (the child reads it on its own); refused rows are
    # quoted from their chunk's bytes, read back from the file.
    assert [o for o in opened if not isinstance(o, io.BytesIO)] == [path]
    assert sum(isinstance(o, io.BytesIO) for o in opened) == 3


def test_strategy_is_chosen_by_database_and_size() -> None:
    from runner.executor.jobs.strategy import PARALLEL_MIN_BYTES, Strategy, choose

    big, small = PARALLEL_MIN_BYTES, PARALLEL_MIN_BYTES - 1
    assert choose("postgresql", big, upsert=False) == Strategy(
        "copy", "process", "copy", "raw", 200_000, 10_000
    )
    assert choose("postgresql", small, upsert=True) == Strategy(
        "copy", "thread", "staged_copy", "lines", 200_000, 10_000
    )
    for dialect, rows in (("sqlite", 10_000), ("mysql", 50_000), ("mariadb", 50_000)):
        assert choose(dialect, big, upsert=True) == Strategy(
            "tuple", "process", "executemany", "lines", rows, 10_000
        )
        assert choose(dialect, small, upsert=False) == Strategy(
            "tuple", "inline", "executemany", "lines", rows, 10_000
        )
    # Into a named database, a transaction holds what is read at once (a crash replays one).
    chosen = choose("postgresql", big, upsert=False, own=False)
    assert (chosen.transaction_rows, chosen.read_rows) == (10_000, 10_000)
    # A job's own chunk_rows is the size of its transactions and of its reads.
    chosen = choose("postgresql", big, upsert=False, chunk_rows=250_000)
    assert (chosen.transaction_rows, chosen.read_rows) == (250_000, 250_000)


def test_tuple_rows_travel_from_the_child_as_columns() -> None:
    from runner.executor.jobs.convertproc import packed, unpacked

    rows: list[Any] = [("1", "a", None, "x\ny", ""), ("2", "", "z", "w", "")]
    columns = packed(rows)
    # Plain columns as one string each; a NULL or a line break keeps a column's values.
    assert columns == ["1\n2", "a\n", (None, "z"), ("x\ny", "w"), "\n"]
    assert unpacked(columns) == rows
    assert unpacked(packed([("only",)])) == [("only",)]
    assert unpacked(packed([])) == []


def test_refused_texts_come_from_records_or_from_the_chunks_bytes() -> None:
    from runner.executor.jobs.chunks import refused_texts
    from runner.executor.jobs.csvsource import Batch
    from runner.executor.jobs.rows import Converted

    fmt = CsvFormat.model_validate({"encoding": "latin-1", "delimiter": ";", "quote": "'"})
    records = [["1", "Zoë;x"], ["2", "a\r\nb"], ["3", "c"]]
    data = "1;'Zoë;x'\n2;'a\r\nb'\r\n\n3;c\n".encode("latin-1")
    lines = [11, 12, 15]
    kept = Converted(["r1", "r2", "r3"], lines, records)
    sent = Converted(["r1", "r2", "r3"], lines, [])
    batch = Batch([], lines, [], 0, 15, False, data)
    expected = {12: format_record(records[1], fmt), 15: "3;c"}
    assert refused_texts(batch, kept, [1, 2], fmt, 10) == expected
    assert refused_texts(batch, sent, [1, 2], fmt, 10) == expected
    assert refused_texts(batch, sent, [], fmt, 10) == {}


def test_import_handed_over_to_the_child_midway_keeps_every_row_and_reject_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.data / "midway.csv"
    lines = [f"{i},n{i}" if i % 7 else f"{i},{'x' * 20}" for i in range(1, 51)]
    path.write_text("id,name\n" + "\n".join(lines) + '\n51,"two\nlines"\n52,\n')
    columns = [{"name": "id", "type": "integer"}, {"name": "name", "max_length": 10}]
    cfg = env.config(job(path, columns=columns, chunk_rows=8))
    read_in_child(monkeypatch, after=3)  # three chunks read here, then the child's
    assert env.start(cfg, "imp") is Status.FINISHED
    assert env.rows("people", "id", "name")[-2:] == [(51, "two\nlines"), (52, None)]
    assert env.rows("people", "id") == [(i,) for i in range(1, 53) if i % 7 or i > 50]
    assert env.rejects() == [(i + 1, "name", "length") for i in range(7, 50, 7)]
    run = env.last_run()
    assert (run.records, run.rejects) == (52, 7)
