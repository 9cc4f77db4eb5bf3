"""Records to rows: every column's converter applied to whole records.

:meth:`RowConverter.check` is the reference: field by field, it says which field failed and
why. :meth:`RowConverter.convert` first runs a whole-row function generated from the column
list (straight-line code, no call per field), which returns None as soon as anything is not
plainly valid; only those records go through ``check``. The generated code is assembled from
fixed templates and column *positions*; every value from the config (limits, patterns,
choices, defaults) is passed in as a variable, never pasted into the code.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from runner.events import RejectRecord
from runner.jobs import columns
from runner.jobs.columns import Invalid
from runner.jobs.csvsource import csv_options
from runner.jobs.specs import Column, CsvFormat
from runner.states import RejectReason

Row = tuple[str | None, ...]


class RowError(Exception):
    """A record that cannot become a row: the field (None for the whole record) and why."""

    def __init__(self, field: str | None, reason: RejectReason, message: str) -> None:
        self.field, self.reason, self.message = field, reason, message
        super().__init__(message)


@dataclass
class Converted:
    """A batch of records turned into rows (with their lines and source records) and rejects."""

    rows: list[Row] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    records: list[list[str]] = field(default_factory=list)
    rejects: list[RejectRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    column: Column
    position: int
    check: columns.Check
    default: str | None


class RowConverter:
    """Converts records of ``width`` fields; column i is read from ``positions[i]``."""

    def __init__(
        self, cols: Sequence[Column], positions: Sequence[int], width: int, fmt: CsvFormat
    ) -> None:
        self.width = width
        self._plans = [
            _Plan(
                c,
                p,
                columns.checker(c),
                None if c.default is None else columns.checker(c)(c.default),
            )
            for c, p in zip(cols, positions, strict=True)
        ]
        self._fast = _compile(self._plans, width)
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, lineterminator="", **csv_options(fmt))

    def fast(self, record: list[str]) -> Row | None:
        """The generated whole-row conversion: None when ``check`` must decide."""
        return self._fast(record)

    def check(self, record: list[str]) -> Row | None:
        """The row for ``record`` (None for a blank line), or :class:`RowError`."""
        if not record:
            return None
        if len(record) != self.width:
            raise RowError(
                None, RejectReason.PARSE, f"expected {self.width} fields, found {len(record)}"
            )
        return tuple(self._value(plan, record[plan.position]) for plan in self._plans)

    def _value(self, plan: _Plan, value: str) -> str | None:
        if value == "":
            if plan.column.required:
                raise RowError(plan.column.name, RejectReason.REQUIRED, "a value is required")
            return plan.default
        try:
            return plan.check(value)
        except Invalid as exc:
            raise RowError(plan.column.name, exc.reason, exc.message) from None

    def convert(self, records: list[list[str]], lines: list[int]) -> Converted:
        """Rows for the valid records, rejects for the others; blank lines are skipped."""
        fast = list(map(self._fast, records))
        if None not in fast:
            return Converted(fast, lines, records)  # type: ignore[arg-type]
        done = Converted()
        for record, line, row in zip(records, lines, fast, strict=True):
            if row is None:
                try:
                    row = self.check(record)
                except RowError as exc:
                    text = self.record_text(record)
                    done.rejects.append(
                        RejectRecord(line, text, exc.field, exc.reason, exc.message)
                    )
                    continue
                if row is None:
                    continue
            done.rows.append(row)
            done.lines.append(line)
            done.records.append(record)
        return done

    def record_text(self, record: Sequence[str]) -> str:
        """``record`` written back as one CSV record of the source's format (see below)."""
        self._out.seek(0)
        self._out.truncate()
        self._writer.writerow(record)
        return self._out.getvalue()


def format_record(record: Sequence[str], fmt: CsvFormat) -> str:
    """``record`` written back as one CSV record of ``fmt``, without a line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="", **csv_options(fmt)).writerow(record)
    return out.getvalue()


_TEMPLATES: dict[str, str] = {
    "integer": """\
            x = _int(v)
            if x < _lo or x > _hi or '_' in v:
                return None
            o{i} = _str(x)
""",
    "float": """\
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
            if '\\x00' in v or len(v) > _n{i}:
                return None
            o{i} = v
""",
    "pattern": """\
            if '\\x00' in v or len(v) > _n{i} or _m{i}(v) is None:
                return None
            o{i} = v
""",
    "enum": """\
            if v not in _c{i}:
                return None
            o{i} = v
""",
    "boolean": """\
            o{i} = _b{i}.get(v)
            if o{i} is None:
                o{i} = _b{i}.get(v.strip().lower())
                if o{i} is None:
                    return None
""",
    "isodate": """\
            o{i} = _date(v).isoformat()
""",
    "other": """\
            o{i} = _k{i}(v)
""",
}


def _template(column: Column) -> str:
    if column.type == "date" and column.format is None:
        return "isodate"
    return column.type if column.type in _TEMPLATES and column.type != "date" else "other"


def _constants(i: int, plan: _Plan) -> dict[str, Any]:
    col = plan.column
    names: dict[str, Any] = {f"_d{i}": plan.default, f"_k{i}": plan.check}
    if col.type in ("text", "pattern"):
        names[f"_n{i}"] = col.max_length if col.max_length is not None else float("inf")
    if col.type == "pattern":
        assert col.pattern is not None
        names[f"_m{i}"] = re.compile(col.pattern).fullmatch
    if col.type == "decimal":
        names[f"_m{i}"] = columns.decimal_regex(col).fullmatch
    if col.type == "enum":
        names[f"_c{i}"] = frozenset(col.choices or ())
    if col.type == "boolean":
        names[f"_b{i}"] = col.booleans
    return names


def _compile(plans: list[_Plan], width: int) -> Callable[[list[str]], Row | None]:
    lo, hi = columns.INT64
    namespace: dict[str, Any] = {
        "_int": int,
        "_float": float,
        "_str": str,
        "_date": date.fromisoformat,
        "_lo": lo,
        "_hi": hi,
    }
    lines = [
        "def fast(f):",
        "    try:",
        f"        if len(f) != {int(width)}:",
        "            return None",
    ]
    for i, plan in enumerate(plans):
        namespace.update(_constants(i, plan))
        lines += [f"        v = f[{int(plan.position)}]", "        if v:"]
        lines.append(_TEMPLATES[_template(plan.column)].format(i=i).rstrip("\n"))
        lines.append("        else:")
        lines.append(
            "            return None" if plan.column.required else f"            o{i} = _d{i}"
        )
    outputs = "".join(f"o{i}, " for i in range(len(plans)))
    lines += [f"        return ({outputs})", "    except Exception:", "        return None"]
    # Fixed templates and integer positions only: see the module docstring.
    exec("\n".join(lines), namespace)
    return namespace["fast"]  # type: ignore[no-any-return]
