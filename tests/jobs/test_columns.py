"""Column types: each accepts what it should, in canonical form, and rejects with its reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.core.columns import Invalid, column_type
from runner.core.config import Column, CsvFormat
from runner.core.states import RejectReason
from runner.executor.jobs.fastrows import Output, copy_line
from runner.executor.jobs.rows import RowConverter, RowError


def column(**options: Any) -> Column:
    return Column.model_validate({"name": "c", **options})


def check(value: str, **options: Any) -> str:
    declared = column(**options)
    return column_type(declared.type).checker(declared)(value)


def reason_of(value: str, **options: Any) -> RejectReason:
    with pytest.raises(Invalid) as caught:
        check(value, **options)
    return caught.value.reason


@pytest.mark.parametrize(
    ("value", "stored"),
    [("42", "42"), ("-7", "-7"), (" 12 ", "12"), ("007", "7"), ("9223372036854775807", None)],
)
def test_integer_accepts_and_canonicalizes(value: str, stored: str | None) -> None:
    assert check(value, type="integer") == (stored or value)


@pytest.mark.parametrize("value", ["4.2", "x", "1_000", "9223372036854775808", "1e3", "²"])
def test_integer_rejects_with_type(value: str) -> None:
    assert reason_of(value, type="integer") is RejectReason.TYPE


@pytest.mark.parametrize(
    ("value", "stored"), [("1.5", "1.5"), ("-0.25", "-0.25"), ("1e3", "1e3"), (" 2 ", "2")]
)
def test_float_accepts_finite_numbers(value: str, stored: str) -> None:
    assert check(value, type="float") == stored


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1_0.5", "abc", ""])
def test_float_rejects_non_finite_and_junk(value: str) -> None:
    assert reason_of(value, type="float") is RejectReason.TYPE


@pytest.mark.parametrize(
    ("value", "stored"),
    [("12.34", "12.34"), ("+5", "5"), ("007.10", "7.10"), ("1E+2", "100"), ("-0.5", "-0.5")],
)
def test_decimal_accepts_within_precision_and_scale(value: str, stored: str) -> None:
    assert check(value, type="decimal", precision=6, scale=2) == stored


@pytest.mark.parametrize("value", ["1.234", "12345.6", "abc", "NaN", "1_0", "1e10", "0.001"])
def test_decimal_rejects_out_of_precision_or_scale(value: str) -> None:
    assert reason_of(value, type="decimal", precision=6, scale=2) is RejectReason.TYPE


def test_text_rejects_over_max_length_with_length() -> None:
    assert check("abcd", type="text", max_length=4) == "abcd"
    assert reason_of("abcde", type="text", max_length=4) is RejectReason.LENGTH


def test_text_rejects_nul_character() -> None:
    assert reason_of("a\x00b", type="text") is RejectReason.TYPE


def test_boolean_accepts_usual_spellings_and_custom_ones() -> None:
    assert [check(v, type="boolean") for v in ("true", "YES", " 1 ", "f", "Off")] == [
        "1",
        "1",
        "1",
        "0",
        "0",
    ]
    assert check("oui", type="boolean", true_values=["oui"], false_values=["non"]) == "1"
    assert reason_of("yes", type="boolean", true_values=["oui"], false_values=["non"]) is (
        RejectReason.TYPE
    )


def test_date_iso_and_custom_format() -> None:
    assert check("2024-02-29", type="date") == "2024-02-29"
    assert check("29/02/2024", type="date", format="%d/%m/%Y") == "2024-02-29"
    assert reason_of("2023-02-29", type="date") is RejectReason.TYPE
    assert reason_of("2024-02-29", type="date", format="%d/%m/%Y") is RejectReason.TYPE


def test_datetime_stores_aware_times_as_utc() -> None:
    assert check("2024-01-02T03:04:05", type="datetime") == "2024-01-02 03:04:05"
    assert check("2024-01-02T03:04:05+02:00", type="datetime") == "2024-01-02 01:04:05"
    assert check("2024-01-02 03:04:05.25Z", type="datetime") == "2024-01-02 03:04:05.250000"
    assert check("02/01/2024 03:04", type="datetime", format="%d/%m/%Y %H:%M") == (
        "2024-01-02 03:04:00"
    )
    assert reason_of("2024-01-02 25:00", type="datetime") is RejectReason.TYPE


def test_enum_rejects_other_values_with_choice() -> None:
    assert check("FR", type="enum", choices=["FR", "DE"]) == "FR"
    assert reason_of("fr", type="enum", choices=["FR", "DE"]) is RejectReason.CHOICE


def test_pattern_rejects_non_matching_with_pattern() -> None:
    options = {"type": "pattern", "pattern": r"[A-Z]{2}\d{3}", "max_length": 5}
    assert check("AB123", **options) == "AB123"
    assert reason_of("AB12", **options) is RejectReason.PATTERN
    assert reason_of("AB1234", **options) is RejectReason.LENGTH


def converter(*cols: Column, output: Output = "tuple") -> RowConverter:
    return RowConverter(list(cols), list(range(len(cols))), len(cols), CsvFormat(), output)


def test_row_required_default_and_null() -> None:
    convert = converter(
        column(name="a", type="integer", required=True),
        column(name="b", type="integer", default="5"),
        column(name="c", type="text"),
    )
    assert convert.check(["1", "", ""]) == ("1", "5", None)
    with pytest.raises(RowError) as caught:
        convert.check(["", "2", "x"])
    assert (caught.value.field, caught.value.reason) == ("a", RejectReason.REQUIRED)


def test_row_ragged_record_is_a_parse_reject() -> None:
    convert = converter(column(name="a"), column(name="b"))
    with pytest.raises(RowError) as caught:
        convert.check(["1", "2", "3"])
    assert (caught.value.field, caught.value.reason) == (None, RejectReason.PARSE)
    assert convert.check([]) is None  # a blank line


def test_row_convert_keeps_lines_of_good_rows_and_rejects_bad_ones() -> None:
    convert = converter(
        column(name="a", type="integer"), column(name="b", type="enum", choices=["x"])
    )
    done = convert.convert([["1", "x"], ["z", "x"], [], ["2", "y"], ["3", "x"]], [2, 3, 4, 5, 6])
    assert done.rows == [("1", "x"), ("3", "x")]
    assert done.lines == [2, 6]
    assert [(r.line, r.record, r.field, r.reason) for r in done.rejects] == [
        (3, "z,x", "a", RejectReason.TYPE),
        (5, "2,y", "b", RejectReason.CHOICE),
    ]


ALL_TYPES = [
    column(name="i", type="integer"),
    column(name="f", type="float"),
    column(name="d", type="decimal", precision=5, scale=2),
    column(name="t", type="text", max_length=3),
    column(name="p", type="pattern", pattern="[a-c]+"),
    column(name="e", type="enum", choices=["a", "b"]),
    column(name="b", type="boolean"),
    column(name="dt", type="date"),
    column(name="ts", type="datetime"),
    column(name="r", type="integer", required=True),
    column(name="df", type="date", default="2000-01-01", format="%Y-%m-%d"),
]
FIELD = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "12.5",
            "1e3",
            "abc",
            "a",
            "b",
            "true",
            "no",
            "2024-01-31",
            "2024-01-31T10:00",
            " 7",
            "1_0",
            "inf",
            "-0",
            "0.001",
            "999.99",
            "1000",
            "²",
            "\x00",
        ]
    ),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FIELD, min_size=len(ALL_TYPES), max_size=len(ALL_TYPES)))
def test_fast_path_agrees_with_field_by_field_checks(record: list[str]) -> None:
    for output in ("tuple", "copy"):
        convert = converter(*ALL_TYPES, output=output)
        try:
            values = convert.check(record)
            assert values is not None
            expected: Any = values if output == "tuple" else copy_line(values)
        except RowError as exc:
            expected = (exc.field, exc.reason)
        done = convert.convert([record], [1])
        if done.rows:
            assert done.rows == [expected]
        else:
            assert [(r.field, r.reason) for r in done.rejects] == [expected]


def test_copy_output_escapes_text_and_writes_null() -> None:
    convert = converter(
        column(name="a", type="text"),
        column(name="b", type="enum", choices=["x\ty"]),
        column(name="c", type="integer"),
        output="copy",
    )
    assert convert.fast(["tab\there\nnew\\", "x\ty", ""]) == "tab\\there\\nnew\\\\\tx\\ty\t\\N\n"
    assert convert.fast(["a\tb", "x\ty", "1"]) == "a\\tb\tx\\ty\t1\n"


def test_fast_path_takes_plainly_valid_records() -> None:
    convert = converter(*ALL_TYPES)
    record = [
        "1",
        "2.5",
        "3.25",
        "abc",
        "ab",
        "a",
        "true",
        "2024-01-31",
        "2024-01-31 10:00",
        "4",
        "",
    ]
    assert convert.fast(record) == convert.check(record)
    assert convert.fast(["x", *record[1:]]) is None


def test_the_date_line_pattern_takes_exactly_the_valid_dates() -> None:
    import datetime
    import re

    from runner.core.columns.temporal import _DATE_FIELD

    pattern = re.compile(_DATE_FIELD)
    for year in [*range(1896, 1905), *range(1996, 2005), 1000, 1600, 1700, 2100, 2400, 9996, 9999]:
        for month in range(0, 14):
            for day in range(0, 33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    valid = datetime.date.fromisoformat(text).isoformat() == text
                except ValueError:
                    valid = False
                assert bool(pattern.fullmatch(text)) is valid, text
