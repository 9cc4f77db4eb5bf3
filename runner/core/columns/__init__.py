"""Column types: turn a CSV field into the text the database stores, or say why not.

Each type (see :mod:`runner.core.columns.base`) owns its plain check, its reject reasons, its
parts of the two fast paths, the options it takes and its database type; :data:`TYPES` lists
them all by name.
"""

from runner.core.columns.base import (
    LINE_SPECIALS,
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
)
from runner.core.columns.boolean import FALSE_VALUES, TRUE_VALUES, spellings
from runner.core.columns.numbers import INT64, decimal_regex
from runner.core.columns.registry import OPTION_TYPES, TYPES, checker, column_type, sql_type
from runner.core.columns.temporal import stored_datetime

__all__ = [
    "FALSE_VALUES",
    "INT64",
    "LINE_SPECIALS",
    "OPTION_TYPES",
    "TRUE_VALUES",
    "TYPES",
    "Check",
    "Checked",
    "ChunkCheck",
    "ColumnOptions",
    "ColumnType",
    "Invalid",
    "LineField",
    "Output",
    "Store",
    "Values",
    "checker",
    "column_type",
    "decimal_regex",
    "spellings",
    "sql_type",
    "stored_datetime",
]
