"""The shapes of a job's lines: which fields are quoted, the pattern of each shape, and the
fields of a run of lines of one shape, split in C.

A shape says which of a line's fields are between quotes (only text fields, and fields no
column reads, may be). Its pattern joins each field's (see :meth:`ColumnType.line_field
<runner.core.columns.base.ColumnType.line_field>`) with the delimiter, without groups, and
``(?:LINE\n)*`` takes every line of that shape from a line's start. The fields of such a run
are the pieces of the run split at the quotes, then at delimiters and line breaks: the same
fields the ``csv`` module reads, as long as no unquoted field holds the quote and no field
holds a line break, which :meth:`Shapes.fields` checks by counting.

Each shape has two patterns. The strict one keeps every text field free of the delimiter
(unquoted), the quote and the characters text fields may not hold (:data:`LINE_SPECIALS`
<runner.core.columns.base.LINE_SPECIALS>`). The quick one, for chunks that hold none of those
characters, leaves the quote and line breaks to the counts: a text field is then anything up
to the next delimiter (or quote), which the regular expression engine skips at the speed of a
search for one character instead of testing each one against a set.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from runner.core.columns import LINE_SPECIALS, LineField
from runner.core.config import CsvFormat

# Shapes compiled for one job at most: a file that keeps changing is left to the CSV path.
_MOST_SHAPES = 16


@dataclass(frozen=True)
class Shape:
    """The quoted fields (positions, in order), and the patterns of runs of lines: strict,
    and quick (see above)."""

    quoted: tuple[int, ...]
    strict: re.Pattern[str]
    quick: re.Pattern[str]


class Shapes:
    """The shapes of lines of ``width`` fields, of which ``fields`` (by position) are read,
    ``required`` ones never empty."""

    def __init__(
        self,
        fields: dict[int, LineField],
        required: set[int],
        width: int,
        fmt: CsvFormat,
        *,
        quoted_empty: bool = True,
    ) -> None:
        self._fields, self._required, self._width = fields, required, width
        self._quoted_empty = quoted_empty  # whether a quoted field may be empty
        self._delimiter, self._quote = fmt.delimiter, fmt.quote
        self._quotable = {p for p in range(width) if p not in fields or fields[p].plain is None}
        self._known: dict[tuple[int, ...], Shape] = {}
        self.folded = self._folded()
        self.plain = self._shape(())

    def _folded(self) -> dict[int, tuple[str, str]]:
        """The fields whose column's own pattern is part of the line's, kept off what the
        field cannot hold unquoted and quoted: the line's pattern checks their values. Only
        with a delimiter and quote that are not word characters, so that ``\\b`` sees at
        a field's ends what it sees at a lone value's."""
        if re.fullmatch(r"\W\W", self._delimiter + self._quote) is None:
            return {}
        folded = {}
        for position, field in self._fields.items():
            if field.confine is None:
                continue
            bare = field.confine(self._delimiter + self._quote + LINE_SPECIALS)
            quoted = field.confine(self._quote + LINE_SPECIALS)
            if bare is not None and quoted is not None:
                folded[position] = (bare, quoted)
        return folded

    def _shape(self, quoted: tuple[int, ...]) -> Shape:
        if quoted not in self._known:
            patterns = []
            for strict in (True, False):
                parts = [self._field(p, p in quoted, strict) for p in range(self._width)]
                line = re.escape(self._delimiter).join(parts)
                patterns.append(re.compile(f"(?:{line}\n)*"))
            self._known[quoted] = Shape(quoted, *patterns)
        return self._known[quoted]

    def _field(self, position: int, quoted: bool, strict: bool) -> str:
        field = self._fields.get(position)
        # Empty (NULL) where allowed; a blank line is no record, never a row of one NULL.
        blank = position not in self._required and (quoted or self._width > 1)
        if field is not None and field.plain is not None:
            return f"(?:{field.plain}{'|' if blank else ''})"
        longest = csv.field_size_limit() - 1  # longer fields are the csv module's to refuse
        if field is not None and field.longest is not None:
            longest = min(longest, field.longest)
        least = 0 if (blank and (self._quoted_empty or not quoted)) or field is None else 1
        quote, delimiter = re.escape(self._quote), re.escape(self._delimiter)
        refused = "\r\n" if field is None else re.escape(LINE_SPECIALS)
        last = position == self._width - 1  # up to the line break, never past it
        if position in self.folded:  # its length first, then the column's pattern
            # The pattern holds neither the quote, the delimiter nor a line break, so the
            # field ends where the first of them that may follow it is: its length is the
            # distance to that one character, found as fast as a search for it.
            bare, inside = self.folded[position]
            if quoted:
                size = f"(?=[^{quote}]{{{least},{longest}}}{quote})"
                return f"{quote}{size}(?:{inside}){quote}"
            end = "\n" if last else delimiter
            return f"(?=[^{end}]{{{least},{longest}}}{end})(?:{bare})"
        if quoted:
            inner = f"[^{quote}{refused}]" if strict else f"[^{quote}]"
            return f"{quote}{inner}{{{least},{longest}}}{quote}"
        inner = f"[^{delimiter}{quote}{refused}]" if strict or last else f"[^{delimiter}]"
        return f"{inner}{{{least},{longest}}}"

    def of(self, line: str) -> Shape | None:
        """The shape of ``line`` (without its break), if it has one of this job's."""
        quoted: list[int] = []
        at, size = 0, len(line)
        for position in range(self._width):
            if line.startswith(self._quote, at):
                at = line.find(self._quote, at + 1) + 1
                if at == 0 or position not in self._quotable:
                    return None
                quoted.append(position)
            else:
                found = line.find(self._delimiter, at)
                at = size if found < 0 else found
            if position < self._width - 1:
                if not line.startswith(self._delimiter, at):
                    return None
                at += 1
        if at != size or (len(self._known) >= _MOST_SHAPES and tuple(quoted) not in self._known):
            return None
        return self._shape(tuple(quoted))

    def fields(
        self, run: str, shape: Shape, count: int, read: Sequence[int]
    ) -> list[list[str]] | None:
        """The values of the fields at positions ``read`` of a run of ``count`` lines of
        ``shape``; None if a field holds a line break, or an unquoted one the quote."""
        width, delimiter, step = self._width, self._delimiter, len(shape.quoted)
        inner: list[str] = []
        if step:
            pieces = run.split(self._quote)
            if len(pieces) != 2 * step * count + 1:
                return None
            inner, run = pieces[1::2], "".join(pieces[0::2])  # quoted fields now empty
        elif self._quote in run:
            return None
        flat = run.replace("\n", delimiter).split(delimiter)
        end = count * width
        if len(flat) != end + 1:
            return None
        return [
            inner[shape.quoted.index(p) :: step] if p in shape.quoted else flat[p:end:width]
            for p in read
        ]
