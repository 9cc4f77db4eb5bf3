"""Exported values: one form per column type on every backend, and import -> export -> import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.core.states import Status
from tests.jobs.conftest import Env

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "amount", "type": "decimal", "precision": 15, "scale": 2},
    {"name": "rate", "type": "decimal", "precision": 6, "scale": 4},
    {"name": "units", "type": "decimal", "precision": 10, "scale": 0},
    {"name": "score", "type": "float"},
    {"name": "flag", "type": "boolean"},
    {"name": "day", "type": "date"},
    {"name": "seen", "type": "datetime"},
    {"name": "note", "type": "text"},
]
HEADER = "id,amount,rate,units,score,flag,day,seen,note\n"


def import_job(
    name: str, source: Path, table: str, columns: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "import",
        "source": {"path": str(source)},
        "target": {"table": table, "create": True, "key": ["id"]},
        "columns": columns,
    }


def export_job(name: str, table: str, destination: Path) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "export",
        "source": {"table": table, "order_by": ["id"]},
        "destination": {"path": str(destination)},
        "chunk_rows": 2,
    }


def run(env: Env, *jobs: dict[str, Any]) -> None:
    """Run each job once, in order; each must finish without a reject."""
    cfg = env.config(*jobs)
    for spec in jobs:
        assert env.start(cfg, spec["name"]) is Status.FINISHED, env.journal()
        assert env.rejects() == []


def raw_rows(env: Env, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """The table's rows as the driver returns them, ordered by id."""
    t = sa.table(table, *(sa.column(c) for c in columns))
    with env.db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(*t.c).order_by(t.c.id))]


def export_of(env: Env, csv_text: str, columns: list[dict[str, Any]] = COLUMNS) -> str:
    """The export of the table that an import of ``csv_text`` (with create: true) made."""
    source, out = env.data / "in.csv", env.data / "out.csv"
    source.write_text(csv_text, encoding="utf-8")
    run(env, import_job("imp", source, "t", columns), export_job("exp", "t", out))
    return out.read_text(encoding="utf-8")


def test_export_writes_each_type_in_its_one_form(env: Env) -> None:
    text = export_of(
        env,
        HEADER
        + "1,227.80,0.5,7,0.1,true,2024-01-31,2024-01-31T12:34:56,Ann\n"
        + '2,0.00,0,0,1e20,no,2000-02-29,2024-03-01 10:00:00.5+02:00,"a, ""b"""\n'
        + "3,-5.1,-0.0001,-12,-2.5,0,1999-12-31,2024-03-01 00:00:00,=1+2\n"
        + "4,9999999999999.99,99.9999,9999999999,3,Y,2024-12-31,2024-12-31 23:59:59.999999,Zoë\n"
        + "5,1.5e2,1E-4,1e3,2.5e-7,F,2024-02-01,2024-02-01T00:00:00Z,-x\n"
        + "6,,,,,,,,\n",
    )
    assert text == (
        HEADER
        + "1,227.80,0.5000,7,0.1,true,2024-01-31,2024-01-31 12:34:56,Ann\n"
        + '2,0.00,0.0000,0,1e+20,false,2000-02-29,2024-03-01 08:00:00.500000,"a, ""b"""\n'
        + "3,-5.10,-0.0001,-12,-2.5,false,1999-12-31,2024-03-01 00:00:00,=1+2\n"
        + "4,9999999999999.99,99.9999,9999999999,3.0,true,2024-12-31,"
        + "2024-12-31 23:59:59.999999,Zoë\n"
        + "5,150.00,0.0001,1000,2.5e-07,false,2024-02-01,2024-02-01 00:00:00,-x\n"
        + "6,,,,,,,,\n"
    )


# SQLite keeps NUMERIC values as 64-bit integers or doubles (15 digits).
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_export_decimal_of_18_digits_keeps_every_digit(env: Env) -> None:
    columns = [
        {"name": "id", "type": "integer", "required": True},
        {"name": "big", "type": "decimal", "precision": 18, "scale": 2},
    ]
    csv_text = "id,big\n1,9999999999999999.99\n2,-9999999999999999.99\n3,0.01\n4,-0.1\n"
    assert export_of(env, csv_text, columns) == (
        "id,big\n1,9999999999999999.99\n2,-9999999999999999.99\n3,0.01\n4,-0.10\n"
    )


# MariaDB's NUMERIC without a scale is DECIMAL(10, 0).
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_export_decimal_without_scale_is_written_without_exponent(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE loose (id INTEGER PRIMARY KEY, n NUMERIC)")
        conn.exec_driver_sql(
            "INSERT INTO loose VALUES (1, 0.0000001), (2, 1.5), (3, 100000000000000000000),"
            " (4, -2), (5, NULL)"
        )
    out = env.data / "loose.csv"
    run(env, export_job("exp", "loose", out))
    assert out.read_text() == ("id,n\n1,0.0000001\n2,1.5\n3,100000000000000000000\n4,-2\n5,\n")


def test_export_of_a_table_made_outside_jobmon_uses_the_same_forms(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE made (id INTEGER PRIMARY KEY, price DECIMAL(8, 3), ok BOOLEAN,"
            " day DATE, seen TIMESTAMP NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO made VALUES (1, 2.5, TRUE, '2024-01-31', '2024-01-31 12:00:00'),"
            " (2, -0.125, FALSE, NULL, NULL), (3, 0, NULL, '2000-01-01', NULL)"
        )
    out = env.data / "made.csv"
    run(env, export_job("exp", "made", out))
    assert out.read_text() == (
        "id,price,ok,day,seen\n"
        "1,2.500,true,2024-01-31,2024-01-31 12:00:00\n"
        "2,-0.125,false,,\n"
        "3,0.000,,2000-01-01,\n"
    )


# Only SQLite keeps dates and times as text of any spelling.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_export_sqlite_text_times_are_written_in_the_one_form(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE times (id INTEGER PRIMARY KEY, day DATE, seen DATETIME)")
        conn.exec_driver_sql(
            "INSERT INTO times VALUES (1, '2024-01-31', '2024-01-31 12:00:00.000000'),"
            " (2, '2024-W05-3', '2024-01-31T12:00:00.250000'),"
            " (3, 'someday', '2024-01-31T12:00:00+01:00'), (4, NULL, 'later')"
        )
    out = env.data / "times.csv"
    run(env, export_job("exp", "times", out))
    assert out.read_text() == (
        "id,day,seen\n"
        "1,2024-01-31,2024-01-31 12:00:00\n"
        "2,2024-01-31,2024-01-31 12:00:00.250000\n"
        "3,someday,2024-01-31 11:00:00+00:00\n"
        "4,,later\n"
    )


# Only PostgreSQL has a timestamp with time zone.
@pytest.mark.parametrize("backend", ["postgresql"])
def test_export_timestamptz_is_written_in_utc(env: Env) -> None:
    with env.db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE moments (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
        conn.exec_driver_sql(
            "INSERT INTO moments VALUES (1, '2024-01-31 12:00:00+02'),"
            " (2, '2024-07-01 00:00:00.5-04'), (3, NULL)"
        )
    out = env.data / "moments.csv"
    run(env, export_job("exp", "moments", out))
    assert out.read_text() == (
        "id,at\n1,2024-01-31 10:00:00+00:00\n2,2024-07-01 04:00:00.500000+00:00\n3,\n"
    )


ROUND_TRIP_COLUMNS: list[dict[str, Any]] = [
    *COLUMNS,
    {"name": "born", "type": "date", "format": "%d/%m/%Y"},
    {"name": "country", "type": "enum", "choices": ["FR", "DE", "NO"]},
    {"name": "code", "type": "pattern", "pattern": "[A-Z]{2}[0-9]{2}"},
    {"name": "label", "type": "text", "max_length": 20},
]
ROUND_TRIP_CSV = (
    HEADER.rstrip("\n")
    + ",born,country,code,label\n"
    + "1,227.80,0.5,7,0.1,true,2024-01-31,2024-01-31T12:34:56,Ann,31/01/1990,FR,AB12,x\n"
    + '2,0.00,0,0,1e20,no,2000-02-29,2024-03-01 10:00:00.5+02:00,"a, ""b""",01/02/2003,DE,CD34,\n'
    + "3,-5.1,-0.0001,-12,-2.5,0,1999-12-31,2024-03-01,=1+2,29/02/2000,NO,EF56,@y\n"
    + "4,9999999999999.99,99.9999,9999999999,3,Y,2024-12-31,2024-12-31 23:59:59.999999,"
    + '"two\nlines",31/12/9999,FR,GH78,+z\n'
    + "5,1.5e2,1E-4,1e3,2.5e-7, off ,2024-02-01,2024-02-01T00:00:00Z,Zoë,01/01/1000,DE,IJ90,-\n"
    + "6,,,,,,,,,,,,\n"
)


def test_export_round_trip_through_import_changes_no_value(env: Env) -> None:
    source, first, second = env.data / "in.csv", env.data / "first.csv", env.data / "second.csv"
    source.write_text(ROUND_TRIP_CSV, encoding="utf-8")
    # The exported file is read with each type's default spelling: no date format.
    plain = [{k: v for k, v in c.items() if k != "format"} for c in ROUND_TRIP_COLUMNS]
    run(
        env,
        import_job("imp", source, "original", ROUND_TRIP_COLUMNS),
        export_job("exp", "original", first),
        import_job("again", first, "copy", plain),
        export_job("exp-again", "copy", second),
    )
    names = [c["name"] for c in ROUND_TRIP_COLUMNS]
    original, copy = raw_rows(env, "original", names), raw_rows(env, "copy", names)
    assert len(original) == 6
    for before, after in zip(original, copy, strict=True):
        assert after == before
    assert second.read_bytes() == first.read_bytes()
