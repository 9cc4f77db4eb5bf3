"""How an export writes a database value in a CSV cell: one form per column type.

The form follows the column's declared type (as the database reports it), so a value reads
the same from SQLite, PostgreSQL and MariaDB, and an import of the file with the matching
column types stores the same values again:

- NULL: an empty field;
- ``decimal`` (NUMERIC/DECIMAL with a scale): exactly the declared number of decimal places,
  no exponent (``227.80``, ``0.00``, ``-5.10``); SQLite, which keeps such values as integers
  or doubles, gets its scale back this way;
- ``integer``: its digits; ``float``: the shortest text that reads back as the same double
  (``0.1``, ``1e+20``);
- ``boolean`` (and MariaDB's ``TINYINT(1)``, which is how it declares BOOLEAN): ``true`` or
  ``false``;
- ``date``: ``YYYY-MM-DD``;
- ``datetime``: ``YYYY-MM-DD HH:MM:SS``, then ``.ffffff`` when the fraction of a second is not
  zero; a time with a time zone (PostgreSQL's ``timestamptz``) is converted to UTC and ends
  in ``+00:00``;
- text as it is (with ``escape_formulas``, a ``'`` before ``= + - @``, tab or CR).

A column of another type, every column of a named query (which has no declared types), and a
value the column type does not expect (SQLite stores any value in any column) are written by
the value's own Python type, in the same forms.

A row's conversion is one generated function, built once per export, that calls a
formatter only for the columns that need one: exports can be millions of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

Cell = Callable[[Any], Any]
# A database row as the CSV writer takes it.
Convert = Callable[[Sequence[Any]], Sequence[Any]]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOOLEANS: dict[Any, str] = {False: "false", True: "true"}


def row_converter(types: Sequence[sa.types.TypeEngine[Any] | None], escape: bool) -> Convert:
    """The conversion of a row whose columns have ``types`` (None: not declared)."""
    cells = [column_cell(t, escape) for t in types]
    names = {f"_f{i}": cell for i, cell in enumerate(cells) if cell is not None}
    if not names:
        return _as_is
    # Only indices and the names above reach the code: nothing from the config or the data.
    items = [f"_f{i}(r[{i}])" if f"_f{i}" in names else f"r[{i}]" for i in range(len(cells))]
    convert: Convert = eval(f"lambda r: ({', '.join(items)},)", names)
    return convert


def _as_is(row: Sequence[Any]) -> Sequence[Any]:
    return row


def column_cell(kind: sa.types.TypeEngine[Any] | None, escape: bool) -> Cell | None:
    """The formatter of a column of type ``kind``; None when the CSV writer's own text is it."""
    generic = value_cell(escape)
    if kind is None:
        return generic
    if isinstance(kind, sa.Boolean) or (
        isinstance(kind, mysql.TINYINT) and kind.display_width == 1
    ):
        return _boolean_cell(generic)
    if isinstance(kind, sa.Float):
        return None
    if isinstance(kind, sa.Numeric):
        return _decimal_cell(kind.scale, generic)
    if isinstance(kind, sa.Integer):
        return None
    if isinstance(kind, sa.DateTime):
        return _datetime_cell(generic)
    if isinstance(kind, sa.Date):
        return _date_cell(generic)
    if isinstance(kind, sa.String):
        return generic if escape else None
    return generic


def value_cell(escape: bool) -> Cell:
    """The formatter that follows each value's own type, for undeclared columns."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            if escape and value.startswith(FORMULA_START):
                return "'" + value
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return _other(value)

    return cell


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return _BOOLEANS[value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _moment(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ")


def _boolean_cell(generic: Cell) -> Cell:
    # 1 and 0 (SQLite, MariaDB) are equal to True and False, so they find the same text.
    def cell(value: Any) -> Any:
        found = _BOOLEANS.get(value) if type(value) in (bool, int) else None
        return generic(value) if found is None else found

    return cell


def _decimal_cell(scale: int | None, generic: Cell) -> Cell:
    if scale is None:
        return _unscaled_cell(generic)
    spec = f".{scale}f"
    zero = format(Decimal(0), spec)
    point = "." + "0" * scale if scale else ""

    # A double read from a NUMERIC of at most 15 significant digits (SQLite's REAL) rounds
    # back to exactly the decimal that was stored.
    def cell(value: Any) -> Any:
        kind = type(value)
        if kind is Decimal or kind is float:
            return format(value, spec) if value else zero  # zero, never -0.00
        if kind is int:
            return f"{value}{point}"
        return _decimal_text(value, spec, generic) if kind is str else generic(value)

    return cell


def _unscaled_cell(generic: Cell) -> Cell:
    def cell(value: Any) -> Any:
        kind = type(value)
        if kind is Decimal:
            return format(value, "f")
        if kind is float:
            return format(Decimal(repr(value)), "f")
        return _decimal_text(value, "f", generic) if kind is str else generic(value)

    return cell


def _decimal_text(value: str, spec: str, generic: Cell) -> Any:
    try:
        return format(Decimal(value), spec)
    except InvalidOperation:
        return generic(value)  # not a number: text


def _datetime_cell(generic: Cell) -> Cell:
    def cell(value: Any) -> Any:
        if type(value) is datetime:
            return _moment(value)
        if type(value) is str:  # SQLite keeps times as text
            return _datetime_text(value, generic)
        return generic(value)

    return cell


def _datetime_text(value: str, generic: Cell) -> Any:
    if len(value) == 19 and value[10] == " " and value[7] == "-":  # already the one form
        return value
    try:
        return _moment(datetime.fromisoformat(value))
    except ValueError:
        return generic(value)  # not a time: text


def _date_cell(generic: Cell) -> Cell:
    def cell(value: Any) -> Any:
        if type(value) is date:
            return value.isoformat()
        if type(value) is str:  # SQLite keeps dates as text
            return _date_text(value, generic)
        return generic(value)

    return cell


def _date_text(value: str, generic: Cell) -> Any:
    if len(value) == 10 and value[7] == "-":  # already the one form (not 2024-W05-3)
        return value
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return generic(value)  # not a date: text
