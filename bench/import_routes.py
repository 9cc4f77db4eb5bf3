"""What bounds an import into PostgreSQL: the server's floor for each COPY format, and the
client's cost of each way of reading and validating, measured on the import benchmark's file
(see ``import_loads.py``) in one run, each as a ratio to psycopg's ``write_row`` COPY.

- floors: the server loading rows prepared beforehand (no client work at all): jobmon's COPY
  text rows, then the binary COPY of the same table, both committed every 10,000 rows as an
  import's checkpoints are, and the text rows in one transaction;
- client costs: the ``csv`` module alone, jobmon's reading and validation (the work of an
  import's reading process), and, when ``duckdb``, ``nanoarrow`` and ``pgpq`` are installed,
  DuckDB reading and validating the file with the same rules into Arrow batches that pgpq turns
  into binary COPY.

A route's import can be no faster than the larger of its floor and its client cost.

    python bench/import_routes.py [--rows 1000000] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_loads as loads  # the benchmark's own helper, next to this file

from runner.core.config import ImportJob
from runner.executor.jobs.csvsource import CsvReader
from runner.executor.jobs.gcpause import fewer_collections
from runner.executor.jobs.rows import RowConverter

PG_ADMIN = os.environ.get("JOBMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHUNK = 10_000


def converted_chunks(path: Path) -> Iterator[list[Any]]:
    """jobmon's COPY text rows of the file's valid records, chunk after chunk."""
    job = ImportJob.model_validate(
        {
            "name": "routes",
            "kind": "import",
            "source": {"path": str(path)},
            "target": {"table": "t"},
            "columns": loads.COLUMNS,
        }
    )
    converter = RowConverter(job.columns, list(range(8)), 8, job.source, "copy")
    with CsvReader(path, job.source, offset=len(",".join(loads.HEADER)) + 1, line=1) as reader:
        while True:
            batch = reader.read(CHUNK)
            yield converter.convert(batch.records, batch.lines).rows
            if batch.eof:
                return


def timed(what: Callable[[], object]) -> float:
    began = time.perf_counter()
    what()
    return time.perf_counter() - began


def load(conn: psycopg.Connection[Any], statement: str, blocks: list[bytes], commit: bool) -> float:
    """Seconds to COPY ``blocks`` into a fresh table ``t``, one statement per block."""
    conn.execute("DROP TABLE IF EXISTS t")
    conn.execute(loads.BASELINE_TABLE.format(name="t"))
    conn.commit()

    def copy() -> None:
        for block in blocks:
            with conn.cursor().copy(statement) as writer:
                writer.write(block)
            if commit:
                conn.commit()
        conn.commit()

    return timed(copy)


def binary_blocks(conn: psycopg.Connection[Any]) -> list[bytes]:
    """The loaded table ``t`` as binary COPY blocks of :data:`CHUNK` rows (each whole, with
    its header and trailer)."""
    blocks = []
    count = conn.execute("SELECT count(*) FROM t").fetchall()[0][0]
    conn.execute("CREATE TEMPORARY TABLE ordered AS SELECT *, row_number() OVER () AS n FROM t")
    columns = ", ".join(loads.HEADER)
    for low in range(0, count, CHUNK):
        query = f"SELECT {columns} FROM ordered WHERE n > {low} AND n <= {low + CHUNK}"
        data = bytearray()
        with conn.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as reader:
            for part in reader:
                data += part
        blocks.append(bytes(data))
    conn.execute("DROP TABLE ordered")
    return blocks


def duckdb_binary(path: Path) -> float | None:
    """Seconds for DuckDB to read and validate the file and pgpq to encode it, or None."""
    try:
        import duckdb
        import nanoarrow
        import pgpq
    except ImportError:
        return None
    con = duckdb.connect()
    con.execute("SET threads = 2")
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in loads.HEADER)
    source = (
        f"read_csv('{path}', header = true, auto_detect = false, delim = ',', quote = '\"',"
        f" escape = '\"', columns = {{{columns}}}, strict_mode = true)"
    )
    valid = (
        "regexp_full_match(id, '-?[1-9][0-9]{0,17}|0') AND length(name) <= 60"
        " AND (email IS NULL OR regexp_full_match(email, '[^@\\s]+@[^@\\s]+\\.[a-z]+'))"
        " AND (country IS NULL OR country IN ('FR', 'DE', 'US', 'GB', 'NO', 'JP'))"
        " AND (amount IS NULL"
        "      OR regexp_full_match(amount, '-?(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?'))"
        " AND (score IS NULL OR regexp_full_match(score, '[0-9]{1,15}(\\.[0-9]{0,15})?'))"
        " AND (active IS NULL OR active IN ('true', 'false'))"
        " AND (signup IS NULL OR try_cast(signup AS DATE) IS NOT NULL)"
    )
    typed = (
        "CAST(id AS BIGINT) AS id, name, email, country, CAST(amount AS DECIMAL(12, 2)) AS"
        " amount, CAST(score AS DOUBLE) AS score, active = 'true' AS active,"
        " CAST(signup AS DATE) AS signup"
    )

    def encode() -> None:
        stream = nanoarrow.ArrayStream(con.sql(f"SELECT {typed} FROM {source} WHERE {valid}"))
        encoder = pgpq.ArrowToPostgresBinaryEncoder(stream.schema)
        encoder.write_header()
        for batch in stream:
            encoder.write_batch(batch)

    return timed(encode)


def client_costs(path: Path) -> dict[str, float | None]:
    def csv_pass() -> None:
        for _ in loads.records(path):
            pass

    def jobmon_pass() -> None:
        with fewer_collections():  # as during an import
            for _ in converted_chunks(path):
                pass

    return {
        "csv module alone (csv.reader)": timed(csv_pass),
        "jobmon read and validate (Python)": timed(jobmon_pass),
        "DuckDB read+validate, pgpq binary": duckdb_binary(path),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgresql", default=PG_ADMIN, help="admin URL of a PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobmon-routes-") as tmp:
        path = Path(tmp) / "bench.csv"
        loads.generate(path, args.rows)
        with fewer_collections():
            text = [("".join(rows)).encode() for rows in converted_chunks(path)]
        with loads.scratch_database(args.postgresql) as url:
            baseline = loads.postgresql_copy(url, path)
            with psycopg.connect(loads._libpq(url)) as conn:
                floors = {
                    "text rows, one transaction": load(conn, "COPY t FROM STDIN", text, False),
                    "text rows, commit each chunk": load(conn, "COPY t FROM STDIN", text, True),
                }
                binary = binary_blocks(conn)
                statement = "COPY t FROM STDIN (FORMAT binary)"
                floors["binary rows, commit each chunk"] = load(conn, statement, binary, True)
        costs = client_costs(path)
    print(f"{args.rows:,} rows, 8 columns; ratio = baseline's time / this time")
    print(f"  {'baseline: COPY (psycopg write_row)':44s} {baseline:6.2f} s")
    print("Server floors (rows prepared beforehand)")
    for what, seconds in floors.items():
        print(f"  {what:44s} {seconds:6.2f} s  {baseline / seconds:5.0%}")
    print("Client costs (reading, validating, encoding; no database)")
    for what, cost in costs.items():
        shown = "not installed" if cost is None else f"{cost:6.2f} s  {baseline / cost:5.0%}"
        print(f"  {what:44s} {shown}")


if __name__ == "__main__":
    main()
