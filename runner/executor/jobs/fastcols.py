"""Whole chunks converted column by column, in C-level passes, for every plain record.

Most records of a real file are plainly valid. For those, each column is checked over the whole
chunk at once by its type's chunk check (one regular expression over the column's joined text,
or ``map`` of a C function over its values) and the rows are assembled with ``zip`` and
``str.join``: no Python bytecode runs per field. Each chunk check accepts a subset of what its
type's whole-row template (see :mod:`runner.jobs.fastrows`) accepts as is, gives the same
stored text, and names the values it does not accept: their records (and records of another
width) go back to the row-by-row path, which decides (and says why) record by record, while
the rest of the chunk stays on this one. A bad record among thousands costs a few more C calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, repeat
from operator import add
from typing import Any

from runner.core.columns import Checked, ChunkCheck, Values
from runner.executor.jobs.fastrows import ColumnPlan, Output, Row, column_constants


class ChunkConverter:
    """Converts the plain records of a chunk column by column, and names the others."""

    def __init__(self, plans: list[ColumnPlan], width: int, output: Output) -> None:
        self.width, self.output = width, output
        self._columns = []
        for plan in plans:
            names = column_constants(plan, output)
            check = plan.kind.chunk_check(plan.column, output, names)
            self._columns.append((plan.position, plan.column.required, names["_d"], check))

    def convert(self, records: list[list[str]]) -> tuple[list[Row], list[int]]:
        """The rows of the plain records of ``records`` (the same as row by row), and the
        indices of the others, in order."""
        fits = list(map(self.width.__eq__, map(len, records)))
        kept = records if all(fits) else list(compress(records, fits))
        fields = list(zip(*kept, strict=True))
        stored: list[Sequence[Any]] = []
        failed: set[int] = set()
        for position, required, default, check in self._columns if kept else ():
            values, bad = self._column(fields[position], required, default, check)
            stored.append(values)
            failed.update(bad)
        if failed:
            plain = [True] * len(kept)
            for i in failed:
                plain[i] = False
            stored = [list(compress(values, plain)) for values in stored]
        if kept is records:
            return self._rows(stored), sorted(failed)
        index = list(compress(range(len(records)), fits))  # kept's indices in ``records``
        others = {i for i, fit in enumerate(fits) if not fit} | {index[i] for i in failed}
        return self._rows(stored), sorted(others)

    def _rows(self, stored: list[Sequence[Any]]) -> list[Row]:
        if self.output == "tuple":
            return list(zip(*stored, strict=True))
        return list(map(add, map("\t".join, zip(*stored, strict=True)), repeat("\n")))

    @staticmethod
    def _column(values: Values, required: bool, default: Any, check: ChunkCheck) -> Checked:
        if "" not in values:
            return check(values)
        filled = list(compress(range(len(values)), values))  # the indices of non-empty values
        checked, bad = check(list(compress(values, values)))
        failed = [filled[i] for i in bad]
        if required:
            failed += [i for i, v in enumerate(values) if not v]
        found = iter(checked)
        return [next(found) if v else default for v in values], failed
