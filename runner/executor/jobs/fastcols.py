"""Whole chunks converted column by column, in C-level passes, when every field is plain.

Most chunks of a real file hold nothing but plainly valid records. For those, each column is
checked over the whole chunk at once (one regular expression over the column's joined text,
or ``map`` of a C function over its values) and the rows are assembled with ``zip`` and
``str.join``: no Python bytecode runs per field. Each check here accepts a subset of what
the generated whole-row function of :mod:`runner.jobs.fastrows` accepts as is, and gives the
same stored text; as soon as one value of the chunk is not plainly valid the chunk goes back
to the row-by-row path, which decides (and says why) record by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from itertools import repeat
from operator import add
from typing import Any

from runner.core.columns import decimal_regex
from runner.executor.jobs.fastrows import ColumnPlan, Output, Row, column_constants, template

Values = Sequence[str]
# A column's values checked and stored, or None when the chunk must go row by row.
ColumnCheck = Callable[[Values], Sequence[Any] | None]

_INTEGER = re.compile(r"(?:[1-9][0-9]{0,17}\n)*").fullmatch
_FLOAT = re.compile(r"(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)\n)*").fullmatch
_ISODATE = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}\n)*").fullmatch


def _lines_match(match: Callable[[str], Any], values: Values) -> bool:
    """Every value matches ``match``'s repeated ``value\\n`` (and none holds a line break)."""
    joined = "\n".join(values) + "\n"
    return joined.count("\n") == len(values) and match(joined) is not None


def _regex(match: Callable[[str], Any]) -> ColumnCheck:
    def check(values: Values) -> Values | None:
        return values if _lines_match(match, values) else None

    return check


def _isodate(values: Values) -> Values | None:
    if not _lines_match(_ISODATE, values):
        return None
    try:
        for _ in map(date.fromisoformat, values):
            pass
    except ValueError:
        return None
    return values


def _text(limit: int | None, output: Output, match: Callable[[str], Any] | None) -> ColumnCheck:
    def check(values: Values) -> Values | None:
        if limit is not None and max(map(len, values), default=0) > limit:
            return None
        if match is not None and not all(map(match, values)):
            return None
        joined = "".join(values)
        if output == "copy":
            plain = "\\" not in joined and joined.isprintable()
        else:
            plain = "\x00" not in joined
        return values if plain else None

    return check


def _mapped(mapping: dict[str, Any]) -> ColumnCheck:
    def check(values: Values) -> Sequence[Any] | None:
        stored = list(map(mapping.get, values))
        return None if None in stored else stored

    return check


def _other(convert: Callable[[str], Any]) -> ColumnCheck:
    def check(values: Values) -> Sequence[Any] | None:
        try:
            return list(map(convert, values))
        except Exception:
            return None

    return check


def _column_check(plan: ColumnPlan, output: Output, names: dict[str, Any]) -> ColumnCheck:
    """The chunk check of one column, from the constants its whole-row template uses."""
    column, kind = plan.column, template(plan.column)
    if kind == "integer":
        return _regex(_INTEGER)
    if kind == "float":
        return _regex(_FLOAT)
    if kind == "decimal":
        # Our own pattern: no anchors, nothing that matches a line break.
        return _regex(re.compile(rf"(?:{decimal_regex(column).pattern}\n)*").fullmatch)
    if kind in ("text", "pattern"):
        return _text(column.max_length, output, names.get("_m") if kind == "pattern" else None)
    if kind in ("enum", "boolean"):
        return _mapped(names["_c"] if kind == "enum" else names["_b"])
    if kind == "isodate":
        return _isodate
    return _other(plan.check)


class ChunkConverter:
    """Converts a chunk of records column by column, or says it must go row by row."""

    def __init__(self, plans: list[ColumnPlan], width: int, output: Output) -> None:
        self.width, self.output = width, output
        self._columns = []
        for plan in plans:
            names = column_constants(plan, output)
            check = _column_check(plan, output, names)
            self._columns.append((plan.position, plan.column.required, names["_d"], check))

    def convert(self, records: list[list[str]]) -> list[Row] | None:
        """The rows of ``records`` (the same as row by row), or None if any is not plain."""
        if not records or set(map(len, records)) != {self.width}:
            return None
        fields = list(zip(*records, strict=True))
        stored: list[Sequence[Any]] = []
        for position, required, default, check in self._columns:
            values = self._column(fields[position], required, default, check)
            if values is None:
                return None
            stored.append(values)
        if self.output == "tuple":
            return list(zip(*stored, strict=True))
        return list(map(add, map("\t".join, zip(*stored, strict=True)), repeat("\n")))

    @staticmethod
    def _column(
        values: Values, required: bool, default: Any, check: ColumnCheck
    ) -> Sequence[Any] | None:
        if "" not in values:
            return check(values)
        if required:
            return None
        filled = [v for v in values if v]
        checked = check(filled) if filled else filled
        if checked is None:
            return None
        found = iter(checked)
        return [next(found) if v else default for v in values]
