"""Boolean columns: configurable spellings of true and false, stored as ``1`` and ``0``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from runner.core.columns.base import (
    Check,
    ChunkCheck,
    ColumnOptions,
    ColumnType,
    Invalid,
    LineField,
    Output,
    Store,
    choices_pattern,
    mapped,
)
from runner.core.states import RejectReason

TRUE_VALUES = ("true", "t", "yes", "y", "1", "on")
FALSE_VALUES = ("false", "f", "no", "n", "0", "off")
# The exact spelling is looked up first: the common case needs no strip and lower.
_BOOLEAN_ROW = """\
o{i} = _b{i}.get(v)
if o{i} is None:
    o{i} = _b{i}.get(v.strip().lower())
    if o{i} is None:
        return None
"""


def spellings(trues: Sequence[str] | None, falses: Sequence[str] | None) -> dict[str, str]:
    """The accepted spellings (lower case, no blanks) and their stored values; None: usual ones."""
    mapping = {v.strip().lower(): "1" for v in trues or TRUE_VALUES}
    mapping.update({v.strip().lower(): "0" for v in falses or FALSE_VALUES})
    return mapping


class BooleanType(ColumnType):
    """``boolean``: one of the true or false spellings, in any case, blanks around."""

    name = "boolean"
    options = ("true_values", "false_values")

    def checker(self, column: ColumnOptions) -> Check:
        """A known spelling, after stripping blanks and lowering case."""
        values = column.booleans

        def check(value: str) -> str:
            found = values.get(value.strip().lower())
            if found is None:
                raise Invalid(RejectReason.TYPE, f"{value!r} is not a boolean")
            return found

        return check

    def sql_type(self, column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
        """BOOLEAN."""
        return sa.Boolean()

    def row_code(self, column: ColumnOptions, output: Output) -> str:
        """A look-up of the spelling as it is, then stripped and lowered."""
        return _BOOLEAN_ROW

    def row_names(self, column: ColumnOptions, store: Store) -> dict[str, Any]:
        """The spellings and their stored values."""
        return {"_b": column.booleans}

    def chunk_check(
        self, column: ColumnOptions, output: Output, names: Mapping[str, Any]
    ) -> ChunkCheck:
        """Every value a spelling as it is (lower case, no blanks)."""
        return mapped(names["_b"])

    def line_field(self, column: ColumnOptions, delimiter: str, quote: str) -> LineField | None:
        """The spellings as they are (lower case, no blanks), stored as they map."""
        pattern = choices_pattern(list(column.booleans), delimiter + quote)
        if pattern is None:
            return None
        # PostgreSQL reads the usual spellings (and only those) as the values they mean.
        verbatim = all(
            spelling in (TRUE_VALUES if stored == "1" else FALSE_VALUES)
            for spelling, stored in column.booleans.items()
        )
        return LineField(pattern, stored=column.booleans, verbatim=verbatim)
