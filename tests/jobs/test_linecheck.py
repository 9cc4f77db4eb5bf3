"""The line route reads the same chunks as the CSV path: offsets, lines, rows and rejects.

Files are written from the tables and records of :mod:`tests.jobs.test_column_types` (every
column type with its options, defaults, plausible and odd fields), in every delimiter and
quote the config allows the route with, quoted minimally or everywhere, with blank lines, CRLF
lines, records over several lines, undecodable bytes and non-ASCII text, and read in small
chunks so that odd records fall on the first and last lines of chunks.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runner.core.columns import TYPES
from runner.core.config import Column, ImportJob
from runner.executor.jobs import linecheck
from runner.executor.jobs.csvsource import CsvReader
from runner.executor.jobs.fastrows import Output
from runner.executor.jobs.linecheck import producer
from runner.executor.jobs.rawcopy import expanded
from runner.executor.jobs.rows import RowConverter
from tests.jobs.test_column_types import OUTPUTS, records, tables

DELIMITERS = [",", ";", "\t", "|", " ", "-", "a"]
QUOTES = ['"', "'", "~"]
ENCODINGS = ["utf-8", "latin-1", "ascii"]
# Lines that are no plain record: blank, CRLF, a record over two lines, undecodable, quotes.
EXTRAS = [b"\n", b"\r\n", b'"a\nb",1\n', b"\xff\xfe,1\n", b'"x""y",2\n', b'1,"a"b\n', b'""\n']


_READ = linecheck.LineRoute.read


@contextmanager
def noting_reads() -> Iterator[list[Any]]:
    """LineRoute.read as it is, noting each chunk it took (None where it left one to the CSV
    path) in the list given."""
    results: list[Any] = []

    def read(route: linecheck.LineRoute, reader: CsvReader, count: int) -> Any:
        results.append(_READ(route, reader, count))
        return results[-1]

    linecheck.LineRoute.read = read  # type: ignore[method-assign, assignment]  # noted, same
    try:
        yield results
    finally:
        linecheck.LineRoute.read = _READ  # type: ignore[method-assign]  # put back


def job(path: Path, cols: list[Column], chunk_rows: int, **source: Any) -> ImportJob:
    return ImportJob.model_validate(
        {
            "name": "imp",
            "kind": "import",
            "source": {"path": str(path), "header": False, **source},
            "target": {"table": "t"},
            "columns": [c.model_dump(exclude_none=True) for c in cols],
            "chunk_rows": chunk_rows,
        }
    )


def chunks(
    spec: ImportJob,
    positions: list[int],
    width: int,
    output: Output,
    lines: bool,
    raw: bool = False,
) -> Any:
    """Every chunk of the file, as the producer reads it, with what identifies it (with
    ``raw``, the lines it kept as they are turned into rows, as a refused COPY of them is)."""
    found = []
    with CsvReader(spec.source.path, spec.source, keep_bytes=True) as reader:
        rows = spec.chunk_rows or 10_000
        produce = producer(spec, positions, width, output, reader, lines=lines, rows=rows, raw=raw)
        while True:
            batch, converted = produce()
            converted = expanded(converted, spec, positions, width)
            rejects = [(r.line, r.record, r.field, r.reason, r.message) for r in converted.rejects]
            failures = [(f.line, f.raw, f.reason, f.message, f.data) for f in batch.failures]
            read = (batch.offset, batch.line, batch.lines, batch.eof, batch.data, failures)
            found.append((read, (converted.rows, converted.lines, rejects)))
            if batch.eof:
                return found


def write(records: list[list[str]], fmt: dict[str, Any], quoting: int, crlf: bool) -> bytes:
    out = io.StringIO()
    ending = "\r\n" if crlf else "\n"
    options = {"delimiter": fmt["delimiter"], "quotechar": fmt["quote"], "lineterminator": ending}
    writer = csv.writer(out, quoting=quoting, **options)
    for record in records:
        try:
            writer.writerow(record)
        except csv.Error:
            writer.writerow(["x"])
    return out.getvalue().encode(fmt["encoding"], errors="replace")


@settings(
    max_examples=int(os.environ.get("LINECHECK_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_line_route_reads_what_the_csv_path_reads(tmp_path: Path, data: st.DataObject) -> None:
    cols, positions, width = data.draw(tables(st.sampled_from(list(TYPES))))
    fmt = {
        "delimiter": data.draw(st.sampled_from(DELIMITERS)),
        "quote": data.draw(st.sampled_from(QUOTES)),
        "encoding": data.draw(st.sampled_from(ENCODINGS)),
    }
    if fmt["delimiter"] == fmt["quote"]:
        fmt["quote"] = '"' if fmt["delimiter"] != '"' else "'"
    groups = data.draw(st.lists(records(cols, positions, width), min_size=1, max_size=6))
    quoting = data.draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    body = b"".join(
        write(chunk, fmt, quoting, data.draw(st.booleans(), "crlf")) for chunk in groups
    )
    extras = data.draw(st.lists(st.sampled_from(EXTRAS), max_size=3))
    cut = data.draw(st.integers(0, body.count(b"\n")))
    parts = body.split(b"\n")
    body = b"\n".join(parts[:cut]) + (b"\n" if cut else b"") + b"".join(extras)
    body += b"\n".join(parts[cut:])
    path = tmp_path / "data.csv"  # written again for each example
    path.write_bytes(body)
    spec = job(path, cols, data.draw(st.integers(1, 5)), **fmt)
    convert = RowConverter(spec.columns, positions, width, spec.source)
    on = linecheck.line_route(spec.columns, positions, width, spec.source, convert) is not None
    event(f"line route {'on' if on else 'off'} for the columns")
    for output in OUTPUTS:
        expected = chunks(spec, positions, width, output, False)
        with noting_reads() as results:
            assert chunks(spec, positions, width, output, True) == expected
        taken = sum(1 for result in results if result is not None)
        event(f"{output}: the line route took {'no' if not taken else 'some'} chunks")
    # Lines kept as they are for PostgreSQL's CSV COPY are the rows the converter gives.
    expected = chunks(spec, positions, width, "copy", False)
    with noting_reads() as results:
        assert chunks(spec, positions, width, "copy", True, raw=True) == expected
    kept = sum(1 for result in results if result is not None and result[1].raw_lines)
    event(f"raw: {'no' if not kept else 'some'} chunks kept lines as they are")
