"""The streaming CSV reader: encodings, bad records, line numbers and byte offsets."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.core.config import CsvFormat, CsvSource
from runner.core.states import RejectReason
from runner.executor.jobs.csvsource import MAX_RAW_CHARS, CsvReader, Failure


def fmt(**options: Any) -> CsvFormat:
    return CsvFormat.model_validate(options)


def read_all(path: Path, chunk: int = 100, **options: Any) -> tuple[list[Any], list[Failure]]:
    records: list[Any] = []
    failures: list[Failure] = []
    with CsvReader(path, fmt(**options)) as reader:
        while True:
            batch = reader.read(chunk)
            records += list(zip(batch.lines, batch.records, strict=True))
            failures += batch.failures
            if batch.eof:
                return records, failures


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return path


def test_reader_strips_utf8_bom_once(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfid,name\r\n1,\xc3\xa9t\xc3\xa9\r\n")
    with CsvReader(path, fmt()) as reader:
        assert reader.header() == ["id", "name"]
        assert reader.read(10).records == [["1", "été"]]


def test_reader_decodes_latin1_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Zoë\n".encode("latin-1"))
    records, failures = read_all(path, encoding="latin-1")
    assert records == [(1, ["id", "name"]), (2, ["1", "Zoë"])]
    assert failures == []


def test_reader_rejects_undecodable_line_and_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,ok\n2,bad\xff\xfe\n3,ok\n")
    records, failures = read_all(path)
    assert records == [(1, ["a", "b"]), (2, ["1", "ok"]), (4, ["3", "ok"])]
    assert [(f.line, f.raw, f.reason) for f in failures] == [
        (3, "2,bad\\xff\\xfe", RejectReason.ENCODING)
    ]
    assert "0xff" in failures[0].message


def test_reader_rejects_unclosed_quote_at_end(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\n1,x\n2,"never closed\nstill open\n')
    records, failures = read_all(path)
    assert records == [(1, ["a", "b"]), (2, ["1", "x"])]
    assert [(f.line, f.reason) for f in failures] == [(3, RejectReason.PARSE)]
    assert failures[0].raw == '2,"never closed\nstill open'


def test_reader_rejects_field_over_size_limit_and_goes_on(tmp_path: Path) -> None:
    huge = b"x" * (csv.field_size_limit() + 10)
    path = write(tmp_path, b"a,b\n1," + huge + b"\n2,y\n")
    records, failures = read_all(path)
    assert records == [(1, ["a", "b"]), (3, ["2", "y"])]
    assert [(f.line, f.reason) for f in failures] == [(2, RejectReason.PARSE)]
    assert "field larger than field limit" in failures[0].message


def test_reader_rejects_text_after_closing_quote(tmp_path: Path) -> None:
    records, failures = read_all(write(tmp_path, b'1,"a"b\n2,c\n'))
    assert records == [(2, ["2", "c"])]
    assert [(f.line, f.raw, f.reason) for f in failures] == [(1, '1,"a"b', RejectReason.PARSE)]


def test_reader_numbers_lines_of_multiline_records(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\n1,"two\nlines"\n2,x\n\n3,"x\r\ny"\r\n4,z\n')
    records, failures = read_all(path, chunk=2)
    assert records == [
        (1, ["a", "b"]),
        (2, ["1", "two\nlines"]),
        (4, ["2", "x"]),
        (5, []),
        (6, ["3", "x\r\ny"]),
        (8, ["4", "z"]),
    ]
    assert failures == []


def test_reader_resumes_at_offset_with_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfa\n1\n2\n3\n4\n5\n")
    with CsvReader(path, fmt()) as reader:
        reader.header()
        first = reader.read(2)
    assert (first.records, first.lines, first.line) == ([["1"], ["2"]], [2, 3], 3)
    with CsvReader(path, fmt(), offset=first.offset, line=first.line) as reader:
        rest = reader.read(10)
    assert (rest.records, rest.lines, rest.eof) == ([["3"], ["4"], ["5"]], [4, 5, 6], True)


def test_reader_empty_and_header_only_files(tmp_path: Path) -> None:
    with CsvReader(write(tmp_path, b""), fmt()) as reader:
        assert reader.header() is None
    with CsvReader(write(tmp_path, b"a,b\r\n"), fmt()) as reader:
        assert reader.header() == ["a", "b"]
        batch = reader.read(10)
    assert (batch.records, batch.failures, batch.eof) == ([], [], True)


def test_reader_uses_configured_delimiter_and_quote(tmp_path: Path) -> None:
    path = write(tmp_path, b"a;b\n'x;y';2\n")
    records, _ = read_all(path, delimiter=";", quote="'")
    assert records == [(1, ["a", "b"]), (2, ["x;y", "2"])]


def read_kept(reader: CsvReader, chunk: int) -> list[tuple[int, int, bytes]]:
    """(first line, end offset, bytes) of every batch, to the end."""
    kept = []
    while True:
        batch = reader.read(chunk)
        kept.append((batch.line, batch.offset, batch.data))
        if batch.eof:
            return kept


def test_reader_keeps_each_batchs_bytes_on_both_paths(tmp_path: Path) -> None:
    data = b'\xef\xbb\xbfa,b\n1,"two\nlines"\n2,\xff\n3,"x"y\n4,z\n5,w\n6,"open\n'
    path = write(tmp_path, data)
    with CsvReader(path, fmt(), keep_bytes=True) as reader:
        kept = read_kept(reader, 2)
    assert b"".join(k[2] for k in kept) == data[3:]  # everything after the BOM, once
    starts = [3] + [k[1] for k in kept[:-1]]
    assert [data[s : k[1]] for s, k in zip(starts, kept, strict=True)] == [k[2] for k in kept]
    with CsvReader(path, fmt()) as reader:
        assert all(k[2] == b"" for k in read_kept(reader, 2))


def test_reader_reads_an_open_binary_file_like_the_file(tmp_path: Path) -> None:
    data = "a;b\n1;'x\ny'\n2;Zoë\n3;'bad'x\n\xefx\n".encode("latin-1")
    path = write(tmp_path, data)
    options = {"encoding": "latin-1", "delimiter": ";", "quote": "'"}
    on_disk = read_all(path, 2, **options)
    with CsvReader(io.BytesIO(data), fmt(**options)) as reader:
        records: list[Any] = []
        failures: list[Failure] = []
        while True:
            batch = reader.read(2)
            records += list(zip(batch.lines, batch.records, strict=True))
            failures += batch.failures
            if batch.eof:
                break
    assert (records, failures) == on_disk
    assert [f.raw for f in failures] == ["3;'bad'x"]


def test_reader_of_an_open_file_keeps_a_leading_bom_and_numbers_from_line() -> None:
    with CsvReader(io.BytesIO(b"\xef\xbb\xbfa\nb\n"), fmt(), line=7) as reader:
        batch = reader.read(10)
    assert (batch.lines, batch.records) == ([8, 9], [["\ufeffa"], ["b"]])


def test_a_record_over_max_record_bytes_is_a_parse_failure_held_nowhere(tmp_path: Path) -> None:
    long = b"1," + b"x" * 300_000 + b"\n"
    path = write(tmp_path, b"a,b\n" + long + b"c,d\n" + long.rstrip(b"\n"))
    source = CsvSource(path=str(path), max_record_bytes=4096)
    for keep in (False, True):
        with CsvReader(path, source, keep_bytes=keep) as reader:
            batch = reader.read(100)
        assert (batch.records, batch.lines, batch.eof) == ([["a", "b"], ["c", "d"]], [1, 3], True)
        assert [(f.line, f.reason) for f in batch.failures] == [(2, "parse"), (4, "parse")]
        first = batch.failures[0]
        assert first.raw.startswith("1,xxx") and len(first.raw) == MAX_RAW_CHARS
        assert "300002 bytes is longer than max_record_bytes (4096)" in first.message
        if keep:  # the chunk's bytes parse again to the same lines, without the long ones
            assert len(batch.data) < 100
            with CsvReader(io.BytesIO(batch.data), fmt()) as again:
                assert again.read(100).records == [["a", "b"], [], ["c", "d"], []]


def test_a_line_of_exactly_max_record_bytes_is_a_record(tmp_path: Path) -> None:
    line = b"1," + b"y" * 1022
    path = write(tmp_path, line + b"\n" + line)
    with CsvReader(path, CsvSource(path=str(path), max_record_bytes=1024)) as reader:
        batch = reader.read(10)
    assert (len(batch.records), batch.failures) == (2, [])


def read_batches(data: bytes, count: int, fast: bool, **options: Any) -> list[Any]:
    """Every batch of ``data`` read ``count`` records at a time, as comparable tuples."""
    batches = []
    with CsvReader(io.BytesIO(data), CsvSource(path="x.csv", **options), keep_bytes=True) as r:
        while True:
            b = r.read(count, fast=fast)
            batches.append((b.records, b.lines, b.failures, b.offset, b.line, b.eof, b.data))
            if b.eof:
                return batches


LINES = st.lists(
    st.one_of(
        st.sampled_from([b"", b"a,b", b'"x,y",z', b'"open', b'a"b', b'"q"x', b"\xff,1", b"\r"]),
        st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
        st.text(st.sampled_from('ab,"\r é'), max_size=40).map(str.encode),
        st.integers(1020, 1030).map(lambda n: b"y," + b"x" * n),  # about the limit
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(LINES, st.booleans(), st.integers(1, 7), st.sampled_from([1024, 1027]))
def test_fast_reads_give_the_batches_of_record_by_record_reads(
    lines: list[bytes], last_break: bool, count: int, limit: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if last_break else b"")
    for options in ({}, {"encoding": "latin-1"}):
        fast = read_batches(data, count, True, max_record_bytes=limit, **options)
        assert fast == read_batches(data, count, False, max_record_bytes=limit, **options)
