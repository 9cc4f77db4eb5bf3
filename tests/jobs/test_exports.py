"""``kind: export`` on SQLite, PostgreSQL and MariaDB: content, filters, atomic files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.core.states import Status
from tests.jobs.conftest import Env


def fill(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40),"
            " status VARCHAR(10), amount DECIMAL(8, 2), born DATE)"
        )
        conn.exec_driver_sql(
            "INSERT INTO customers VALUES"
            " (1, 'Ann', 'active', 10.50, '2000-01-31'),"
            " (2, '=HYPERLINK(1)', 'active', -3.00, NULL),"
            " (3, 'Cy', 'gone', 1.00, NULL),"
            " (4, '@Dee, \"D\"', 'active', NULL, '1999-12-31'),"
            " (5, 'Zoë', 'new', 0, NULL)"
        )


def job(env: Env, source: dict[str, Any], **destination: Any) -> dict[str, Any]:
    return {
        "name": "exp",
        "kind": "export",
        "source": source,
        "destination": {"path": str(env.data / "out" / "customers.csv"), **destination},
        "chunk_rows": 2,
    }


def test_export_table_with_filter_order_and_formula_escaping(env: Env) -> None:
    fill(env)
    source = {
        "table": "customers",
        "columns": ["id", "name", "amount", "born"],
        "where": [{"column": "status", "op": "in", "value": ["active", "new"]}],
        "order_by": [{"column": "id", "descending": True}],
    }
    cfg = env.config(job(env, source, escape_formulas=True))
    assert env.start(cfg, "exp") is Status.FINISHED
    text = (env.data / "out" / "customers.csv").read_text()
    assert text == (
        "id,name,amount,born\n"
        "5,Zoë,0.00,\n"
        '4,"\'@Dee, ""D""",,1999-12-31\n'
        "2,'=HYPERLINK(1),-3.00,\n"
        "1,Ann,10.50,2000-01-31\n"
    )
    assert env.last_run().records == 4
    assert list((env.data / "out").iterdir()) == [env.data / "out" / "customers.csv"]


def test_export_named_query_with_encoding_and_delimiter(env: Env) -> None:
    fill(env)
    queries = {"q": {"sql": "SELECT id, name FROM customers WHERE id > 3 ORDER BY id"}}
    cfg = env.config(
        job(env, {"query": "q"}, encoding="latin-1", delimiter=";", header=False), queries=queries
    )
    assert env.start(cfg, "exp") is Status.FINISHED
    data = (env.data / "out" / "customers.csv").read_bytes()
    assert data == '4;"@Dee, ""D"""\n5;Zoë\n'.encode("latin-1")


def test_export_failure_leaves_no_file(env: Env) -> None:
    fill(env)
    destination = env.data / "out" / "customers.csv"
    destination.parent.mkdir()
    destination.write_text("previous export\n")
    cfg = env.config(job(env, {"table": "customers", "order_by": ["id"]}, encoding="ascii"))
    assert env.start(cfg, "exp") is Status.FINISHED_WITH_ERRORS
    assert any("cannot be written as ascii: 'ë'" in line for line in env.journal())
    assert destination.read_text() == "previous export\n"
    assert list(destination.parent.iterdir()) == [destination]


def test_export_filters_on_dates_read_from_yaml(env: Env) -> None:
    fill(env)
    condition = yaml.safe_load("{column: born, op: '>=', value: 2000-01-01}")
    source = {"table": "customers", "columns": ["id"], "where": condition, "order_by": ["id"]}
    assert env.start(env.config(job(env, source)), "exp") is Status.FINISHED
    assert (env.data / "out" / "customers.csv").read_text() == "id\n1\n"


def test_export_stopped_then_restarted_writes_the_whole_file(env: Env) -> None:
    fill(env)
    cfg = env.config(job(env, {"table": "customers", "columns": ["id"], "order_by": ["id"]}))
    assert env.start(cfg, "exp", stop=True) is Status.SERVER_STOPPED
    out = env.data / "out"
    assert list(out.iterdir()) == []
    assert env.start(cfg, "exp") is Status.FINISHED
    assert (out / "customers.csv").read_text() == "id\n1\n2\n3\n4\n5\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"table": "nope"}, 'source table "nope" does not exist'),
        ({"table": "customers", "columns": ["id", "secret"]}, 'has no column "secret"'),
        ({"table": "customers", "order_by": ["x"]}, 'has no column "x"'),
    ],
)
def test_export_unknown_table_or_column_fails_clearly(
    env: Env, source: dict[str, Any], message: str
) -> None:
    fill(env)
    assert env.start(env.config(job(env, source)), "exp") is Status.FINISHED_WITH_ERRORS
    assert any(message in line for line in env.journal()), env.journal()


def test_export_destination_outside_data_dirs_fails(env: Env, tmp_path: Path) -> None:
    fill(env)
    spec = job(env, {"table": "customers"})
    spec["destination"]["path"] = str(env.data / ".." / "escape.csv")
    assert env.start(env.config(spec), "exp") is Status.FINISHED_WITH_ERRORS
    assert not (tmp_path / "escape.csv").exists()


def test_export_query_runs_read_only(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (1)")
    writes = {
        "postgresql": "SELECT setval(pg_get_serial_sequence('jobs', 'id'), 1000) AS n",
        "mariadb": "SELECT n FROM counter FOR UPDATE",
        "sqlite": "SELECT n FROM counter",
    }
    cfg = env.config(job(env, {"query": "q"}), queries={"q": {"sql": writes[env.db.dialect]}})
    status = env.start(cfg, "exp")
    if env.db.dialect == "sqlite":  # see test_export_sqlite_connection_is_read_only
        assert status is Status.FINISHED
    else:
        assert status is Status.FINISHED_WITH_ERRORS
        assert any("read only transaction" in m.lower().replace("-", " ") for m in env.journal())


def test_export_sqlite_connection_is_read_only(tmp_path: Path) -> None:
    from runner.core.storage.db import Database
    from runner.executor.jobs.exports import read_only

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    with read_only(db) as conn, pytest.raises(Exception, match="readonly"):
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    db.dispose()
