"""Whole lines checked by regular expressions: the plainly valid lines of a chunk, unparsed.

For a job whose every column has a line pattern (:meth:`ColumnType.line_field
<runner.core.columns.base.ColumnType.line_field>`) and no default, a chunk of whole lines (the
lines the CSV reader's fast path would read) is decoded at once, and the pattern of a line
shape (:mod:`runner.executor.jobs.lineshape`) matched from a line's start takes, in one call
in C, every line up to the first one it does not take whole. The fields of that run are split
out in C, and rows are assembled column by column: stored texts that differ from the raw
text (booleans) and NULL for empty fields by dictionary look-ups over the column, a
``pattern`` column's values checked by the column's own pattern. Every line a shape takes is
a single record the ``csv`` module reads as the same fields, and plainly valid: its row is the
one :class:`~runner.executor.jobs.rows.RowConverter` gives.

A line no shape takes (or whose value fails its column's pattern) is parsed on its own by the
``csv`` module and converted by the row converter, with the others of its chunk
(:mod:`runner.executor.jobs.lineparts`): it becomes a row, a reject, or nothing (a blank
line), exactly as on the CSV path. The chunk is left to the CSV path (read again from the same
place) when it does not decode, holds a carriage return, has a line that is not a record by
itself (an unclosed quote: a record over several lines, or a malformed one), or too many runs
and other lines; so chunks, their rows, rejects, offsets and lines are those of the CSV path
in every case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import add
from typing import Any

from runner.core.columns import LineField, column_type
from runner.core.columns.base import Values
from runner.core.config import Column, CsvFormat, ImportJob
from runner.executor.jobs.csvsource import Batch, CsvReader, codec_name, csv_options
from runner.executor.jobs.fastrows import COPY_NULL, Output, Row
from runner.executor.jobs.lineparts import OffLines, kept, merged
from runner.executor.jobs.lineshape import Shape, Shapes
from runner.executor.jobs.rawcopy import refused, verbatim
from runner.executor.jobs.rows import Converted, RowConverter

Chunk = tuple[Batch, Converted]
# Decoded a chunk at a time exactly as line by line: no character spans a line break.
_UTF8 = ("utf-8", "utf-8-sig")
_BY_CHUNK = ("ascii", "iso8859-", "cp125", "koi8-")
# What text fields never hold, and the quick patterns do not rule out (see lineshape).
_NOT_QUICK = "\\\t\x00"
# A chunk with more runs and lines off the patterns than an eighth of it (plus a few) goes to
# the CSV path: its lines would cost more one by one.
_MOST_OFF = 8


@dataclass(frozen=True)
class _Column:
    """How a column's values are stored, and checked."""

    stored: dict[str, str | None] | None  # values stored otherwise ("" when NULL)
    every: bool  # ``stored`` lists every value the pattern takes
    check: Callable[[Values], list[int]] | None  # the indices of values it refuses


def producer(
    job: ImportJob,
    positions: Sequence[int],
    width: int,
    output: Output,
    reader: CsvReader,
    *,
    lines: bool,
    rows: int,
    raw: bool = False,
) -> Callable[[], Chunk]:
    """What reads and converts the next chunk from ``reader``: by whole lines (with ``lines``,
    when the columns allow it; runs of them as they are with ``raw``), chunk by chunk as the
    data allows, else by records."""
    cols, converter = job.columns, RowConverter(job.columns, positions, width, job.source, output)
    route = line_route(cols, positions, width, job.source, converter, raw=raw) if lines else None

    def produce() -> Chunk:
        chunk = None if route is None else route.read(reader, rows)
        if chunk is not None:
            return chunk
        batch = reader.read(rows)
        return batch, converter.convert(batch.records, batch.lines)

    return produce


def line_route(
    cols: Sequence[Column],
    positions: Sequence[int],
    width: int,
    fmt: CsvFormat,
    converter: RowConverter,
    *,
    raw: bool = False,
) -> LineRoute | None:
    """The line route for these columns, or None when a column has no line pattern (or a
    default), two read the same field, or the encoding is not decoded a chunk at a time.
    With ``raw``, runs of lines stay as they are when PostgreSQL may read them so (see
    :mod:`runner.executor.jobs.rawcopy`)."""
    name = codec_name(fmt.encoding)
    if not (name in _UTF8 or name.startswith(_BY_CHUNK)) or len(set(positions)) < len(positions):
        return None
    fields: dict[int, tuple[Column, LineField]] = {}
    for column, position in zip(cols, positions, strict=True):
        found = column_type(column.type).line_field(column, fmt.delimiter, fmt.quote)
        if found is None or column.default is not None:
            return None
        fields[position] = (column, found)
    return LineRoute(fields, positions, width, fmt, converter, raw)


class LineRoute:
    """Reads and converts chunks of whole lines (see above), or leaves them to the CSV path."""

    def __init__(
        self,
        fields: dict[int, tuple[Column, LineField]],
        positions: Sequence[int],
        width: int,
        fmt: CsvFormat,
        converter: RowConverter,
        raw: bool = False,
    ) -> None:
        self._converter, self._output = converter, converter.output
        self._options = csv_options(fmt)
        name = codec_name(fmt.encoding)
        self._encoding = "utf-8" if name in _UTF8 else name
        required = {p for p, (column, _) in fields.items() if column.required}
        # Runs kept as they are (see rawcopy): no quoted empty field, no split but for checks.
        self._raw = raw and self._output == "copy" and verbatim(fields, positions, width, fmt)
        fields_only = {p: f for p, (_, f) in fields.items()}
        self._shapes = Shapes(fields_only, required, width, fmt, quoted_empty=not self._raw)
        self._shape = self._shapes.plain
        self._quick = fmt.delimiter not in _NOT_QUICK  # tabs in every line: quick rules none out
        null = COPY_NULL if self._output == "copy" else None
        self._positions = list(positions)
        folded = self._shapes.folded  # checked by the line's pattern itself
        self._columns = [_column(fields[p], null, p in folded) for p in positions]
        checked = [p for p in positions if fields[p][1].match is not None and p not in folded]
        self._read = checked if self._raw else self._positions
        self._checks = [fields[p][1].failures for p in checked]
        self._bare = self._raw and not checked

    def read(self, reader: CsvReader, count: int) -> Chunk | None:
        """The next chunk of up to ``count`` lines, as the CSV path would read and convert it;
        None (the reader where it was) when the chunk is the CSV path's to read."""
        start, first = reader.offset, reader.line
        block = reader.read_lines(count)
        if block is None:
            return None
        converted = self._convert(block, first, count)
        if converted is None:
            reader.rewind(start, first)
            return None
        lines = list(range(first + 1, reader.line + 1))
        batch = Batch([], lines, [], reader.offset, reader.line, len(lines) < count, block)
        return batch, converted

    def _convert(self, block: bytes, line: int, count: int) -> Converted | None:
        """The rows and rejects of a chunk of whole lines after ``line``, or None."""
        try:
            text = block.decode(self._encoding)
        except UnicodeDecodeError:
            return None
        if "\r" in text:
            return None
        quick = self._quick and not self._bare and not any(c in text for c in _NOT_QUICK)
        taken = self._taken(text, line, count, quick)
        if taken is None and quick:  # a field held the quote or a line break: look closer
            taken = self._taken(text, line, count, False)
        if taken is None:
            return None
        if self._raw:
            return self._kept_raw(taken)
        rows, failed = self._rows(taken.values, len(taken.lines))
        lines = taken.lines
        if failed:
            if not taken.others.add(lines[i] for i in failed):
                return None
            lines = list(compress(lines, kept(len(lines), failed)))
        return merged(rows, lines, taken.others.converted(self._converter))

    def _taken(self, text: str, line: int, count: int, quick: bool) -> _Taken | None:
        """The runs of lines of the job's shapes after ``line``, and the other lines; None if a
        line is no record, a run cannot be split, or too many runs and other lines cost more."""
        others = OffLines(self._options, text, line, self._encoding)
        taken = _Taken([[] for _ in self._read], [], others, [])
        pos, end, shape, runs = 0, len(text), self._shape, 0
        while pos < end:
            stop = _stop(shape, text, pos, quick)
            if stop > pos:
                line = self._run(text[pos:stop], shape, line, taken)
                if line < 0:
                    return None
                pos, runs = stop, runs + 1
            else:
                eol = text.index("\n", pos)
                other = self._shapes.of(text[pos:eol])
                if (
                    other is not None
                    and other is not shape
                    and _stop(other, text, pos, quick) > pos
                ):
                    shape = other
                    continue
                line += 1
                if not taken.others.add_line(text[pos:eol], line):
                    return None
                pos = eol + 1
            if runs + len(taken.others.lines) > count // _MOST_OFF + _MOST_OFF:
                return None
        self._shape = shape
        return taken

    def _run(self, run: str, shape: Shape, line: int, taken: _Taken) -> int:
        """Take a run of lines of ``shape`` after ``line``: the run's last line (-1 if its
        fields cannot be split)."""
        count = run.count("\n")
        fields = [] if self._bare else self._shapes.fields(run, shape, count, self._read)
        if fields is None:
            return -1
        if self._raw:
            taken.runs.append(run)
        for values, found in zip(taken.values, fields, strict=True):
            values += found
        taken.lines += range(line + 1, line + 1 + count)
        return line + count

    def _kept_raw(self, taken: _Taken) -> Converted | None:
        """The runs' lines as they are, but those a column's pattern refuses (other lines)."""
        lines, text = taken.lines, "".join(taken.runs)
        failed = refused(self._checks, taken.values)
        if failed and not taken.others.add(lines[i] for i in failed):
            return None
        if failed:
            texts = text.split("\n")  # the last one empty: the text ends with a line break
            for i in reversed(failed):
                del texts[i]
            text, lines = "\n".join(texts), list(compress(lines, kept(len(lines), failed)))
        others = taken.others.converted(self._converter)
        return Converted(others.rows, others.lines, [], others.rejects, text, lines)

    def _rows(self, groups: list[list[str]], size: int) -> tuple[list[Row], list[int]]:
        """The rows of the lines whose fields are ``groups``, and the indices of those that
        are not plainly valid (a value off its column's pattern)."""
        values: list[Sequence[Any]] = []
        failed: list[int] = []
        for column, value in zip(self._columns, groups, strict=True):
            if column.check is not None:
                failed += column.check(value)
            if column.stored is not None and (column.every or "" in value):
                value = _stored(column.stored, column.every, value)
            values.append(value)
        if self._output == "copy":  # lines of COPY text: the last value ends the line
            values[-1] = list(map(add, values[-1], repeat("\n")))
        rows = zip(*values, strict=True)
        if failed:
            failed = sorted(set(failed))
            rows = compress(rows, kept(size, failed))  # type: ignore[assignment]  # both iterate rows
        if self._output == "tuple":
            return list(rows), failed
        return list(map("\t".join, rows)), failed


@dataclass
class _Taken:
    """What a chunk's runs gave: each column's values, their lines, and the other lines."""

    values: list[list[str]]
    lines: list[int]
    others: OffLines
    runs: list[str]  # the runs' text, when they are kept as they are


def _stop(shape: Shape, text: str, pos: int, quick: bool) -> int:
    """Where the run of lines of ``shape`` from ``pos`` ends (``pos`` if there is none)."""
    found = (shape.quick if quick else shape.strict).match(text, pos)
    assert found is not None  # a star always matches
    return found.end()


def _stored(stored: dict[str, str | None], every: bool, values: list[str]) -> list[Any]:
    """The values as ``stored`` says: all listed in it (``every``), or some, the others kept."""
    if every:
        return list(map(stored.__getitem__, values))
    get: Callable[[str, str], str | None] = stored.get
    return list(map(get, values, values))


def _column(taken: tuple[Column, LineField], null: str | None, folded: bool) -> _Column:
    column, line = taken
    stored: dict[str, str | None] | None = None
    if line.stored is not None:
        stored = dict(line.stored)
    if not column.required:
        stored = {**(stored or {}), "": null}
    check = None if line.match is None or folded else line.failures
    return _Column(stored, line.stored is not None, check)
