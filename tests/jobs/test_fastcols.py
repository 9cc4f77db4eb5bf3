"""Whole chunks column by column: the plainly valid records, the same rows as row by row, and
the others named for the row path."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.executor.jobs.fastcols import ChunkConverter
from runner.executor.jobs.fastrows import ColumnPlan, Output
from runner.executor.jobs.rows import RowConverter
from tests.jobs.test_columns import ALL_TYPES, FIELD, converter

PLAIN = ["1", "2.5", "3.25", "abc", "ab", "a", "true", "2024-01-31", "2024-01-31 10:00", "4", ""]


def chunk_converter(convert: RowConverter, output: Output) -> ChunkConverter:
    plans: list[ColumnPlan] = convert._plans
    return ChunkConverter(plans, convert.width, output)


def row_by_row(convert: RowConverter, records: list[list[str]]) -> list[Any]:
    return [convert.fast(record) for record in records]


def test_chunk_converter_takes_plainly_valid_chunks() -> None:
    records = [PLAIN, ["22", "7", "-1.5", "x\u00e9", "c", "b", "0", "1999-12-31", "", "5", ""]]
    for output in ("tuple", "copy"):
        convert = converter(*ALL_TYPES, output=output)
        rows, others = chunk_converter(convert, output).convert(records)
        assert others == []
        assert rows == row_by_row(convert, records)
        assert None not in rows


def test_chunk_converter_leaves_anything_unusual_to_the_rows() -> None:
    convert = converter(*ALL_TYPES, output="copy")
    chunk = chunk_converter(convert, "copy")
    unusual = [
        ["007", *PLAIN[1:]],  # canonicalized by the row path
        [*PLAIN[:3], "a\tb", *PLAIN[4:]],  # escaped
        [*PLAIN[:3], "a\nb", *PLAIN[4:]],
        [*PLAIN[:6], " Yes ", *PLAIN[7:]],
        [*PLAIN[:9], "", ""],  # required
        PLAIN[:-1],  # width
        [],
    ]
    for record in unusual:
        assert chunk.convert([PLAIN, record, PLAIN]) == ([convert.fast(PLAIN)] * 2, [1])


# Mostly plain fields, so that many chunks are taken whole.
RECORD = st.tuples(*(st.one_of(st.just(plain), st.just(plain), FIELD) for plain in PLAIN)).map(list)


@settings(max_examples=300, deadline=None)
@given(st.lists(RECORD, min_size=1, max_size=4), st.sampled_from(["tuple", "copy"]))
def test_chunk_converter_agrees_with_the_row_path(records: list[list[str]], output: Output) -> None:
    convert = converter(*ALL_TYPES, output=output)
    rows, others = chunk_converter(convert, output).convert(records)
    taken = [record for i, record in enumerate(records) if i not in others]
    assert others == sorted(set(others))
    assert rows == row_by_row(convert, taken)
    assert None not in rows
    done = convert.convert(records, list(range(1, len(records) + 1)))
    assert len(done.rows) + len(done.rejects) == len(records)
