"""Every registered column type: the chunk path, the row fast path and the plain path agree,
on whole chunks and on the records the chunk path leaves to the rows.

Columns are generated from each type's own options, so a new type is covered as soon as it is
registered (and a new option as soon as it has values below). Fields mix what a column should
accept (its choices, pattern matches, dates in its format, numbers) with everything awkward:
empty fields, NUL, line breaks, tabs, backslashes, non-ASCII digits, huge numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from hypothesis import event, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from runner.core.columns import TYPES, Invalid, column_type
from runner.core.config import Column, CsvFormat
from runner.executor.jobs.fastcols import ChunkConverter
from runner.executor.jobs.fastrows import Output, Row, copy_line
from runner.executor.jobs.rows import RowConverter, RowError

OUTPUTS: list[Output] = ["tuple", "copy"]
FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%Y %H:%M", "%Y%m%d", "%Y-%m-%dT%H:%M:%S%z", "%H:%M"]
PATTERNS = ["[a-c]+", r"[A-Z]{2}\d{3}", r"[^@\s]+@[^@\s]+\.[a-z]+", ".*", r"\d+", "a|b\tc"]
# Empty and blank fields, NUL, line breaks, COPY's special characters, non-ASCII look-alikes.
ODD_TEXT = ["", " ", "\x00", "a\x00", "\n", "a\nb", "\r\n", "\\", "a\\b", "\t", "a\tb", "\\N"]
ODD_TEXT += ["é", "²", "١٢", "\uff41", "\u2028", "\x85", "true", " Yes ", "OFF", "oui"]
# Numbers some parser reads but a column may not: underscores, non-finite, out of range, long.
ODD_NUMBERS = ["1_0", "nan", "inf", "-Infinity", "-0", "007", "+5", " 7 ", "1e400", "1E+2"]
ODD_NUMBERS += ["9223372036854775807", "9223372036854775808", "-9223372036854775809", "1" * 40]
ODD_NUMBERS += [".5", "5.", "0.001", "-0.25", "1.005", "9" * 19 + ".99"]
ODD_TIMES = ["2024-01-31", "2024-02-30", "20240131", "2024-W05-3", " 2024-01-31 ", "31/01/2024"]
ODD_TIMES += ["2024-01-31T10:00+02:00", "2024-01-31 10:00:00.25Z"]
AWKWARD = st.sampled_from([*ODD_TEXT, *ODD_NUMBERS, *ODD_TIMES])
TEXT = st.text(st.characters(codec="utf-8"), max_size=6)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats().map(str),
)
ZONES = st.one_of(
    st.none(), st.just(UTC), st.integers(-12, 12).map(lambda h: timezone(timedelta(hours=h)))
)
MOMENTS = st.datetimes(timezones=ZONES)
DATES = st.one_of(
    st.dates().map(str),
    st.dates().map(lambda d: d.strftime("%G-W%V-%u")),
    MOMENTS.map(str),
    MOMENTS.map(lambda m: m.isoformat()),
)
# Near misses of a plausible value: what a parser may read but a fast path must not keep as is.
TWISTS: list[Callable[[str], str]] = [
    lambda v: "0" + v,
    lambda v: f" {v} ",
    str.upper,
    str.title,
    lambda v: v.replace("-", ""),
    lambda v: v[:1] + "_" + v[1:],
    lambda v: "-" + v,
    lambda v: v + "0" * 20,
    lambda v: v + "\x00",
    lambda v: v + "\t\\",
    lambda v: v + "\u0663",
]
# Values for every option a type may take; a type's options must all be listed here.
OPTION_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "max_length": st.integers(1, 8),
    "precision": st.one_of(st.integers(1, 12), st.just(65)),
    "scale": st.integers(0, 6),
    "format": st.sampled_from(FORMATS),
    "choices": st.lists(st.one_of(AWKWARD, TEXT), min_size=1, max_size=4),
    "pattern": st.sampled_from(PATTERNS),
    "true_values": st.lists(st.sampled_from(["oui", " Ja ", "TRUE", "1", "x\ty"]), min_size=1),
    "false_values": st.lists(st.sampled_from(["non", "Nein ", "0", "a\\b"]), min_size=1),
}


def test_every_option_of_every_type_has_values() -> None:
    declared = {option for kind in TYPES.values() for option in kind.options}
    assert declared <= set(OPTION_VALUES)


def candidates(column: Column) -> st.SearchStrategy[str]:
    """Fields ``column`` may accept: numbers, dates, its spellings, choices, matches, default."""
    liked = [NUMBERS, DATES, st.sampled_from(sorted(column.booleans)), st.just("")]
    if column.choices:
        liked.append(st.sampled_from(column.choices))
    if column.pattern:
        liked.append(st.from_regex(column.pattern, fullmatch=True))
    if column.format:
        liked.append(MOMENTS.map(lambda m: m.strftime(column.format or "")))
    if column.default:
        liked.append(st.just(column.default))
    return st.one_of(*liked)


@st.composite
def plausible(draw: st.DrawFn, column: Column) -> str:
    """A field ``column``'s checker accepts (as written or as stored), after a few tries."""
    check = column_type(column.type).checker(column)
    for _ in range(4):
        value = draw(candidates(column))
        try:
            stored = check(value)
        except Invalid:
            continue
        return value if draw(st.booleans()) else stored
    return value


def odd(column: Column) -> st.SearchStrategy[str]:
    """Fields ``column`` should mostly refuse, or accept only through its checker."""
    twisted = st.tuples(plausible(column), st.sampled_from(TWISTS)).map(lambda p: p[1](p[0]))
    return st.one_of(AWKWARD, TEXT, twisted, twisted)


@st.composite
def columns(draw: st.DrawFn, kind: str, index: int) -> Column:
    """A valid column of type ``kind`` with some of its options, maybe required or defaulted."""
    options: dict[str, Any] = {"name": f"c{index}", "type": kind}
    needed = {option for option, _ in TYPES[kind].needs}
    for option in TYPES[kind].options:
        if option in needed or draw(st.booleans()):
            options[option] = draw(OPTION_VALUES[option])
    options["required"] = draw(st.booleans())
    try:
        column = Column.model_validate(options)
    except ValidationError:
        reject()  # options that contradict each other (the config tests cover those)
    if column.required or not draw(st.booleans()):
        return column
    default = draw(st.one_of(plausible(column), odd(column)).filter(bool))
    try:
        return Column.model_validate({**options, "default": default})
    except ValidationError:
        return column  # an invalid default is a config error, not a conversion


@st.composite
def tables(draw: st.DrawFn, kinds: st.SearchStrategy[str]) -> tuple[list[Column], list[int], int]:
    """Columns, the record field each reads (some fields unread) and the record width."""
    cols = [draw(columns(draw(kinds), i)) for i in range(draw(st.integers(1, 3)))]
    width = len(cols) + draw(st.integers(0, 1))
    positions = draw(st.permutations(range(width)))[: len(cols)]
    return cols, positions, width


@st.composite
def records(
    draw: st.DrawFn, cols: list[Column], positions: list[int], width: int
) -> list[list[str]]:
    """A chunk of plausible records, some with odd fields, or also of the wrong width."""
    liked = {p: plausible(c) for c, p in zip(cols, positions, strict=True)}
    # Mostly plausible: one odd field among plain ones is what a fast path must notice.
    wild = {p: st.one_of(liked[p], liked[p], odd(c)) for c, p in zip(cols, positions, strict=True)}
    plain = st.tuples(*(liked.get(p, TEXT) for p in range(width))).map(list)
    mixed = st.tuples(*(wild.get(p, TEXT) for p in range(width))).map(list)
    ragged = st.lists(TEXT, max_size=width + 1).filter(lambda r: len(r) != width)
    count = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["repeated", "plain", "mixed", "any"]))
    if kind == "repeated":  # the same values all along: whole chunks are often plain
        return [draw(st.one_of(plain, mixed))] * count
    chunk = {"plain": plain, "mixed": mixed, "any": st.one_of(mixed, ragged, st.just([]))}
    return draw(st.lists(chunk[kind], min_size=count, max_size=count))


def row(convert: RowConverter, values: tuple[str | None, ...] | None) -> Row:
    """The row the converter's output makes of a record's stored values."""
    assert values is not None
    return copy_line(values) if convert.output == "copy" else values


def plain_path(
    convert: RowConverter, chunk: list[list[str]]
) -> tuple[list[Row], list[int], list[Any]]:
    """Rows, their lines and the rejects, field by field through each column's checker."""
    rows: list[Row] = []
    lines: list[int] = []
    rejects: list[Any] = []
    for line, record in enumerate(chunk, 2):
        try:
            values = convert.check(record)
        except RowError as exc:
            text = convert.record_text(record)
            rejects.append((line, text, exc.field, exc.reason, exc.message))
            continue
        if values is not None:
            rows.append(row(convert, values))
            lines.append(line)
    return rows, lines, rejects


def assert_paths_agree(table: tuple[list[Column], list[int], int], chunk: list[list[str]]) -> None:
    cols, positions, width = table
    for output in OUTPUTS:
        convert = RowConverter(cols, positions, width, CsvFormat(), output)
        rows, lines, rejects = plain_path(convert, chunk)
        taken = [record for record in chunk if convert.fast(record) is not None]
        event(f"{output}: row fast path took {'some' if taken else 'none'}")
        for record in taken:  # taken as is: the plain path must store the same
            assert convert.fast(record) == row(convert, convert.check(record))
        whole, others = ChunkConverter(convert._plans, width, output).convert(chunk)
        event(f"{output}: chunk path took {len(chunk) - len(others)} of {len(chunk)}")
        taken = [record for i, record in enumerate(chunk) if i not in others]
        assert whole == [row(convert, convert.check(record)) for record in taken]
        done = convert.convert(chunk, list(range(2, len(chunk) + 2)))
        found = [(r.line, r.record, r.field, r.reason, r.message) for r in done.rejects]
        assert (done.rows, done.lines, found) == (rows, lines, rejects)


@pytest.mark.parametrize("kind", list(TYPES))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_paths_agree_on_every_type(kind: str, data: st.DataObject) -> None:
    table = data.draw(tables(st.just(kind)))
    assert_paths_agree(table, data.draw(records(*table)))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_paths_agree_on_tables_of_mixed_types(data: st.DataObject) -> None:
    table = data.draw(tables(st.sampled_from(list(TYPES))))
    assert_paths_agree(table, data.draw(records(*table)))


def test_decimal_digits_are_stored_in_ascii_whichever_path_takes_them() -> None:
    decimal = Column.model_validate({"name": "c", "type": "decimal"})
    for output in OUTPUTS:
        convert = RowConverter([decimal], [0], 1, CsvFormat(), output)
        assert convert.fast(["1\u0660"]) is None
        assert convert.convert([["1\u0660"]] * 2, [2, 3]).rows == [row(convert, ("10",))] * 2
