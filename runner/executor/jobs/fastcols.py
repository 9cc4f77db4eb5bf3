"""Whole chunks converted column by column, in C-level passes, when every field is plain.

Most chunks of a real file hold nothing but plainly valid records. For those, each column is
checked over the whole chunk at once by its type's chunk check (one regular expression over
the column's joined text, or ``map`` of a C function over its values) and the rows are
assembled with ``zip`` and ``str.join``: no Python bytecode runs per field. Each chunk check
accepts a subset of what its type's whole-row template (see :mod:`runner.jobs.fastrows`)
accepts as is, and gives the same stored text; as soon as one value of the chunk is not
plainly valid the chunk goes back to the row-by-row path, which decides (and says why)
record by record.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import add
from typing import Any

from runner.core.columns import ChunkCheck, Values
from runner.executor.jobs.fastrows import ColumnPlan, Output, Row, column_constants


class ChunkConverter:
    """Converts a chunk of records column by column, or says it must go row by row."""

    def __init__(self, plans: list[ColumnPlan], width: int, output: Output) -> None:
        self.width, self.output = width, output
        self._columns = []
        for plan in plans:
            names = column_constants(plan, output)
            check = plan.kind.chunk_check(plan.column, output, names)
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
        values: Values, required: bool, default: Any, check: ChunkCheck
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
