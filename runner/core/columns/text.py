"""Text columns: ``text``, ``pattern`` and ``enum``, all stored as they are.

``text`` is any text without NUL, ``pattern`` text that matches a regular expression, ``enum``
one of a list of choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import sqlalchemy as sa

from runner.core.columns.base import (
    Check,
    Checked,
    ChunkCheck,
    ColumnOptions,
    ColumnType,
    Invalid,
    LineField,
    Output,
    Store,
    Values,
    choices_pattern,
    mapped,
    nones,
)
from runner.core.columns.oneline import confined, one_line
from runner.core.states import RejectReason

# Text checks: the length limit (when there is one), no NUL, and for COPY the escapes. Tab,
# CR, LF and NUL are not printable: two cheap tests find every value that needs a look.
_LENGTH = """\
if len(v) > _n{i}:
    return None
"""
_NUL = """\
if '\\x00' in v:
    return None
"""
_ESCAPE = """\
if '\\\\' in v or not v.isprintable():
    if '\\x00' in v:
        return None
    v = _esc{i}(v)
"""
_MATCH = """\
if _m{i}(v) is None:
    return None
"""
_CHOICE = """\
o{i} = _c{i}.get(v)
if o{i} is None:
    return None
"""


def _text_chunk(
    limit: int | None, output: Output, match: Callable[[str], Any] | None
) -> ChunkCheck:
    def check(values: Values) -> Checked:
        failed: list[int] = []
        if limit is not None and max(map(len, values), default=0) > limit:
            failed += [i for i, v in enumerate(values) if len(v) > limit]
        if match is not None:
            failed += nones(list(map(match, values)))
        if not _plain("".join(values), output):
            failed += [i for i, v in enumerate(values) if not _plain(v, output)]
        return values, sorted(set(failed)) if failed else failed

    return check


def _plain(text: str, output: Output) -> bool:
    """Nothing in ``text`` to escape (for COPY) or to refuse (NUL)."""
    if output == "copy":
        return "\\" not in text and text.isprintable()
    return "\x00" not in text


class TextType(ColumnType):
    """``text``: any text without NUL, at most ``max_length`` characters when it is set."""

    name = "text"
    options: ClassVar[tuple[str, ...]] = ("max_length",)

    def checker(self, column: ColumnOptions) -> Check:
        """No NUL and no more characters than the limit."""
        limit = column.max_length

        def check(value: str) -> str:
            if "\x00" in value:
                raise Invalid(RejectReason.TYPE, "text contains a NUL character")
            if limit is not None and len(value) > limit:
                raise Invalid(
                    RejectReason.LENGTH, f"{len(value)} characters, more than the {limit} allowed"
                )
            return value

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """VARCHAR(max_length), else TEXT (VARCHAR(255) in a key: MariaDB cannot index TEXT)."""
        if column.max_length is not None:
            return sa.String(column.max_length)
        return sa.String(255) if key else sa.Text()

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """The length limit, no NUL, and for COPY the escapes."""
        code = _LENGTH if column.max_length is not None else ""
        code += _NUL if output == "tuple" else ""
        code += _ESCAPE if output == "copy" else ""
        return code + "o{i} = v\n"

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The length limit and the escaping of the output."""
        names: dict[str, Any] = {"_esc": store}
        if column.max_length is not None:
            names["_n"] = column.max_length
        return names

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value within the limit, and with nothing to escape or refuse."""
        return _text_chunk(column.max_length, output, None)

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """Text, quoted or not, within the limit and with nothing to escape or refuse."""
        return LineField(None, column.max_length)


class PatternType(TextType):
    """``pattern``: text that matches ``pattern`` as a whole."""

    name = "pattern"
    options = ("max_length", "pattern")
    needs = (("pattern", "a pattern column needs a pattern"),)

    def checker(self, column: ColumnOptions) -> Check:
        """The text checks, then the whole value matching the pattern."""
        assert column.pattern is not None
        text, matches = super().checker(column), re.compile(column.pattern).fullmatch

        def check(value: str) -> str:
            text(value)
            if not matches(value):
                raise Invalid(RejectReason.PATTERN, f"{value!r} does not match {column.pattern}")
            return value

        return check

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """The match, then the text checks."""
        return _MATCH + super().row_code(column, output)

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The text values and the matcher."""
        assert column.pattern is not None
        return {**super().row_names(column, store), "_m": re.compile(column.pattern).fullmatch}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """The text chunk check with every value matching."""
        return _text_chunk(column.max_length, output, names["_m"])

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """The text field, each value then matched by the column's own pattern (never part of
        the line's: it could match a delimiter), many at once when it cannot match across
        lines (see :mod:`runner.core.columns.oneline`)."""
        assert column.pattern is not None
        match, pattern = re.compile(column.pattern).fullmatch, column.pattern
        return LineField(
            None,
            column.max_length,
            match=match,
            lines=one_line(pattern),
            confine=lambda excluded: confined(pattern, excluded),
        )


class EnumType(ColumnType):
    """``enum``: exactly one of ``choices`` (case and blanks count)."""

    name = "enum"
    options = ("choices",)
    needs = (("choices", "an enum column needs choices"),)

    def checker(self, column: ColumnOptions) -> Check:
        """One of the choices; the message lists the first ten."""
        assert column.choices is not None
        choices = frozenset(column.choices)
        listed = ", ".join(column.choices[:10]) + (", ..." if len(column.choices) > 10 else "")

        def check(value: str) -> str:
            if value not in choices:
                raise Invalid(RejectReason.CHOICE, f"{value!r} is not one of {listed}")
            return value

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """VARCHAR as long as the longest choice."""
        return sa.String(max(len(c) for c in column.choices or [""]))

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """A look-up of the stored choice."""
        return _CHOICE

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """Each choice and its stored text."""
        return {"_c": {c: store(c) for c in column.choices or ()}}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value one of the choices."""
        return mapped(names["_c"])

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """The choices that hold no delimiter, quote or special character."""
        pattern = choices_pattern(column.choices or (), delimiter + quote)
        return None if pattern is None else LineField(pattern)
