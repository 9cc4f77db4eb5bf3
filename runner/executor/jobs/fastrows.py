"""The generated whole-row converter: straight-line code, no function call per field.

For each column, a fixed template validates the field and produces the same text as the
column's checker, or returns None as soon as anything is not plainly valid (the caller then
asks the checkers, which say why). Rows come out as tuples (for ``executemany``) or, for
PostgreSQL, directly as lines of ``COPY`` text format, escaped and with ``\\N`` for NULL.

The code is assembled from the templates below and column *positions* only; every value from
the config (limits, patterns, choices, defaults) is passed in as a variable, never pasted in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from runner.core import columns
from runner.core.config import Column

Output = Literal["tuple", "copy"]
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
    check: columns.Check
    default: str | None


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
                v = _esc(v)
"""
_TEMPLATES: dict[str, str] = {
    # Plain ASCII digits without a leading zero are already what str(int(v)) would write.
    "integer": """\
            if len(v) < 19 and v.isdigit() and v.isascii() and v[0] != '0':
                o{i} = v
            else:
                x = _int(v)
                if x < _lo or x > _hi or '_' in v:
                    return None
                o{i} = _str(x)
""",
    # Digits with at most one point are a finite number: no need to parse them.
    "float": """\
            if v.replace('.', '', 1).isdigit() and v.isascii():
                o{i} = v
            else:
                x = _float(v)
                if x - x != 0.0 or '_' in v or not v.isascii():
                    return None
                o{i} = v.strip()
""",
    "decimal": """\
            if _m{i}(v) is None:
                return None
            o{i} = v
""",
    "text": """\
{check}{escape}            o{i} = v
""",
    "pattern": """\
            if _m{i}(v) is None:
                return None
{check}{escape}            o{i} = v
""",
    "enum": """\
            o{i} = _c{i}.get(v)
            if o{i} is None:
                return None
""",
    "boolean": """\
            o{i} = _b{i}.get(v)
            if o{i} is None:
                o{i} = _b{i}.get(v.strip().lower())
                if o{i} is None:
                    return None
""",
    # date.fromisoformat also takes 20240131 and 2024-W05-3: only YYYY-MM-DD is kept as is.
    "isodate": """\
            _date(v)
            if len(v) != 10 or v[7] != '-':
                return None
            o{i} = v
""",
    "other": """\
            o{i} = _k{i}(v)
""",
}


def template(column: Column) -> str:
    """The name of the template that validates ``column``."""
    if column.type == "date":
        return "isodate" if column.format is None else "other"
    return column.type if column.type in _TEMPLATES else "other"


def _stored(value: str | None, output: Output) -> str | None:
    if output == "tuple":
        return value
    return COPY_NULL if value is None else copy_escape(value)


def _constants(i: int, plan: ColumnPlan, output: Output) -> dict[str, Any]:
    col = plan.column
    names: dict[str, Any] = {f"_d{i}": _stored(plan.default, output), f"_k{i}": plan.check}
    if col.max_length is not None:
        names[f"_n{i}"] = col.max_length
    if col.type == "pattern":
        assert col.pattern is not None
        names[f"_m{i}"] = re.compile(col.pattern).fullmatch
    if col.type == "decimal":
        names[f"_m{i}"] = columns.decimal_regex(col).fullmatch
    if col.type == "enum":
        names[f"_c{i}"] = {c: _stored(c, output) for c in col.choices or ()}
    if col.type == "boolean":
        names[f"_b{i}"] = col.booleans
    return names


def column_constants(plan: ColumnPlan, output: Output) -> dict[str, Any]:
    """The values a column's template uses, named without the column's index."""
    return {name[:-1]: value for name, value in _constants(0, plan, output).items()}


def _column_code(i: int, plan: ColumnPlan, output: Output) -> list[str]:
    body = _TEMPLATES[template(plan.column)]
    check = _LENGTH.format(i=i) if plan.column.max_length is not None else ""
    check += _NUL if output == "tuple" else ""
    escape = _ESCAPE if output == "copy" else ""
    empty = "            return None" if plan.column.required else f"            o{i} = _d{i}"
    return [
        f"        v = f[{int(plan.position)}]",
        "        if v:",
        body.format(i=i, check=check, escape=escape).rstrip("\n"),
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
    low, high = columns.INT64
    namespace: dict[str, Any] = {
        "_int": int,
        "_float": float,
        "_str": str,
        "_date": date.fromisoformat,
        "_esc": copy_escape,
        "_lo": low,
        "_hi": high,
    }
    lines = [
        "def fast(f):",
        "    try:",
        f"        if len(f) != {int(width)}:",
        "            return None",
    ]
    for i, plan in enumerate(plans):
        namespace.update(_constants(i, plan, output))
        lines += _column_code(i, plan, output)
    lines += [_result(len(plans), output), "    except Exception:", "        return None"]
    exec("\n".join(lines), namespace)
    return namespace["fast"]  # type: ignore[no-any-return]
