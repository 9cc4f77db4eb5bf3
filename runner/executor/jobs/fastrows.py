"""The generated whole-row converter: straight-line code, no function call per field.

For each column, its type's template validates the field and produces the same text as the
column's checker, or returns None as soon as anything is not plainly valid (the caller then
asks the checkers, which say why). Rows come out as tuples (for ``executemany``) or, for
PostgreSQL, directly as lines of ``COPY`` text format, escaped and with ``\\N`` for NULL.

The code is assembled from the types' templates and column *positions* only; every value from
the config (limits, patterns, choices, defaults) is passed in as a variable, never pasted in.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.core.columns import Check, ColumnType, Output, column_type
from runner.core.config import Column

# Output moved to the column types; it is still imported from here.
__all__ = [
    "COPY_NULL",
    "ColumnPlan",
    "Output",
    "Row",
    "column_constants",
    "compile_fast",
    "copy_escape",
    "copy_line",
]

Row = tuple[str | None, ...] | str
COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(value: str) -> str:
    """A value in PostgreSQL's COPY text format."""
    return value.translate(_COPY_ESCAPES)


def copy_line(row: tuple[str | None, ...]) -> str:
    """A row as one line of COPY text format."""
    return "\t".join(COPY_NULL if v is None else copy_escape(v) for v in row) + "\n"


@dataclass(frozen=True)
class ColumnPlan:
    """A column, the record field it reads, its checker and its default's stored text."""

    column: Column
    position: int
    check: Check
    default: str | None

    @property
    def kind(self) -> ColumnType:
        """The column's type."""
        return column_type(self.column.type)


def _as_is(value: str) -> str:
    return value


def _stored(value: str | None, output: Output) -> str | None:
    if output == "tuple":
        return value
    return COPY_NULL if value is None else copy_escape(value)


def column_constants(plan: ColumnPlan, output: Output) -> dict[str, Any]:
    """The values a column's template uses, named without the column's index."""
    store = copy_escape if output == "copy" else _as_is
    names = plan.kind.row_names(plan.column, store)
    return {**names, "_d": _stored(plan.default, output), "_k": plan.check}


def _column_code(i: int, plan: ColumnPlan, output: Output) -> list[str]:
    body = plan.kind.row_code(plan.column, output).format(i=i)
    empty = "            return None" if plan.column.required else f"            o{i} = _d{i}"
    return [
        f"        v = f[{int(plan.position)}]",
        "        if v:",
        textwrap.indent(body, " " * 12).rstrip("\n"),
        "        else:",
        empty,
    ]


def _result(count: int, output: Output) -> str:
    if output == "copy":
        fields = "\\t".join(f"{{o{i}}}" for i in range(count))
        return f'        return f"{fields}\\n"'
    return f"        return ({''.join(f'o{i}, ' for i in range(count))})"


def compile_fast(
    plans: list[ColumnPlan], width: int, output: Output
) -> Callable[[list[str]], Row | None]:
    """The whole-row function for these columns over records of ``width`` fields."""
    namespace: dict[str, Any] = {}
    lines = [
        "def fast(f):",
        "    try:",
        f"        if len(f) != {int(width)}:",
        "            return None",
    ]
    for i, plan in enumerate(plans):
        names = column_constants(plan, output)
        namespace.update({f"{name}{i}": value for name, value in names.items()})
        lines += _column_code(i, plan, output)
    lines += [_result(len(plans), output), "    except Exception:", "        return None"]
    exec("\n".join(lines), namespace)
    return namespace["fast"]  # type: ignore[no-any-return]  # exec defines it: no static type
