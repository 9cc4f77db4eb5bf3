"""The import benchmark's file and the unvalidated loads it is compared with.

The file has 8 columns (integer, text, e-mail pattern, enum, decimal, float, boolean, date) and
one bad record in every :data:`BAD_EVERY`: an e-mail that does not match the pattern, a country
outside the enum, or an amount with three decimal places, in turn. Each typed baseline table
takes those values as they are (or rounded), so every baseline loads every record while jobmon
rejects the bad ones.
"""

from __future__ import annotations

import csv
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HEADER = ["id", "name", "email", "country", "amount", "score", "active", "signup"]
COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "type": "integer", "required": True},
    {"name": "name", "type": "text", "max_length": 60, "required": True},
    {"name": "email", "type": "pattern", "pattern": r"[^@\s]+@[^@\s]+\.[a-z]+"},
    {"name": "country", "type": "enum", "choices": ["FR", "DE", "US", "GB", "NO", "JP"]},
    {"name": "amount", "type": "decimal", "precision": 12, "scale": 2},
    {"name": "score", "type": "float"},
    {"name": "active", "type": "boolean"},
    {"name": "signup", "type": "date"},
]
BASELINE_TABLE = (
    "CREATE TABLE {name} (id BIGINT, name VARCHAR(60), email TEXT, country VARCHAR(2),"
    " amount NUMERIC(12, 2), score DOUBLE PRECISION, active BOOLEAN, signup DATE)"
)
BAD_EVERY = 1000  # 0.1% of the records
COUNTRIES = ["FR", "DE", "US", "GB", "NO", "JP"]


def bad_records(rows: int) -> int:
    """How many of ``rows`` records are bad."""
    return rows // BAD_EVERY


def generate(path: Path, rows: int) -> None:
    """A CSV of ``rows`` records, one in :data:`BAD_EVERY` bad (the same for a given count)."""
    rng = random.Random(rows)
    start = date(2015, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for base in range(0, rows, 10_000):
            lines = []
            for i in range(base + 1, min(rows, base + 10_000) + 1):
                email, country = f"user{i}@example.com", COUNTRIES[i % 6]
                amount = f"{rng.randrange(10**7) / 100:.2f}"
                if i % BAD_EVERY == 0:
                    kind = (i // BAD_EVERY) % 3
                    email = f"user{i}-example.com" if kind == 0 else email
                    country = "XX" if kind == 1 else country
                    amount = amount + "5" if kind == 2 else amount
                lines.append(
                    f'{i},"Customer {i}, Ltd",{email},{country},{amount},{rng.random():.6f},'
                    f"{'true' if i % 3 else 'false'},{start + timedelta(days=i % 3650)}\n"
                )
            out.write("".join(lines))


def records(path: Path) -> Iterator[list[str]]:
    """The file's records after the header, parsed by the ``csv`` module."""
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        next(reader)
        yield from reader


def postgresql_copy(url: str, path: Path) -> float:
    """Seconds of psycopg ``COPY ... FROM STDIN`` (``write_row`` of each parsed record)."""
    import psycopg

    with psycopg.connect(_libpq(url)) as conn:
        conn.execute(BASELINE_TABLE.format(name="baseline"))
        conn.commit()
        began = time.perf_counter()
        with conn.cursor().copy("COPY baseline FROM STDIN") as copy:
            for record in records(path):
                copy.write_row(record)
        conn.commit()
        seconds = time.perf_counter() - began
        conn.execute("DROP TABLE baseline")
        conn.commit()
    return seconds


def sqlite_executemany(database: Path, path: Path) -> float:
    """Seconds of the standard library's ``executemany`` in one transaction, into the same
    database file with the settings jobmon uses (WAL, synchronous=NORMAL)."""
    import sqlite3

    base = sqlite3.connect(database, isolation_level=None)
    base.execute("PRAGMA synchronous = NORMAL")
    base.execute(BASELINE_TABLE.format(name="baseline"))
    began = time.perf_counter()
    base.execute("BEGIN")
    base.executemany("INSERT INTO baseline VALUES (?, ?, ?, ?, ?, ?, ?, ?)", records(path))
    base.execute("COMMIT")
    seconds = time.perf_counter() - began
    base.execute("DROP TABLE baseline")
    base.close()
    return seconds


def mariadb_executemany(url: str, path: Path) -> float:
    """Seconds of PyMySQL's ``executemany`` (multi-row INSERTs) in one transaction."""
    insert = "INSERT INTO baseline VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    return _mariadb_timed(
        url, lambda cursor: cursor.executemany(insert, list(map(_mariadb_record, records(path))))
    )


def _mariadb_record(record: list[str]) -> list[str]:
    # MariaDB reads no "true" into its BOOLEAN (TINYINT): the baseline sends the 1/0 jobmon
    # stores, as LOAD DATA below does in SQL.
    record[6] = "1" if record[6] == "true" else "0"
    return record


def mariadb_load_data(url: str, path: Path) -> float:
    """Seconds of ``LOAD DATA LOCAL INFILE`` of the file as it is (booleans mapped in SQL)."""
    load = (
        "LOAD DATA LOCAL INFILE %s INTO TABLE baseline CHARACTER SET utf8mb4"
        " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''"
        " LINES TERMINATED BY '\\n' IGNORE 1 LINES"
        " (id, name, email, country, amount, score, @active, signup)"
        " SET active = (@active = 'true')"
    )
    return _mariadb_timed(url, lambda cursor: cursor.execute(load, (str(path),)), local_infile=True)


def _mariadb_timed(url: str, load: Callable[[Any], Any], **options: Any) -> float:
    """Seconds of ``load(cursor)`` and its commit into a new table ``baseline``, then dropped."""
    conn = _pymysql(url, **options)
    try:
        with conn.cursor() as cursor:
            cursor.execute(BASELINE_TABLE.format(name="baseline"))
            began = time.perf_counter()
            load(cursor)
            conn.commit()
            seconds = time.perf_counter() - began
            cursor.execute("DROP TABLE baseline")
        return seconds
    finally:
        conn.close()


def _libpq(url: str) -> str:
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _pymysql(url: str, **options: Any) -> Any:
    import pymysql

    parsed = sa.make_url(url)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username,
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        **options,
    )


@contextmanager
def scratch_database(admin: str) -> Iterator[str]:
    """A scratch database on the PostgreSQL or MariaDB server of ``admin``, dropped at the
    end; its URL."""
    name = f"jobmon_bench_{os.getpid()}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    postgresql = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            force = " WITH (FORCE)" if postgresql else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        engine.dispose()
