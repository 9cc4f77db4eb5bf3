"""Every column type by name, and what the config needs to know of them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from runner.core.columns.base import Check, ColumnOptions, ColumnType
from runner.core.columns.boolean import BooleanType
from runner.core.columns.numbers import DecimalType, FloatType, IntegerType
from runner.core.columns.temporal import DatetimeType, DateType
from runner.core.columns.text import EnumType, PatternType, TextType

# In the order the config's error messages list them.
TYPES: dict[str, ColumnType] = {
    kind.name: kind
    for kind in (
        IntegerType(),
        DecimalType(),
        FloatType(),
        TextType(),
        BooleanType(),
        DateType(),
        DatetimeType(),
        EnumType(),
        PatternType(),
    )
}
# Each type-specific option and the types it applies to.
OPTION_TYPES: dict[str, tuple[str, ...]] = {
    option: tuple(name for name, kind in TYPES.items() if option in kind.options)
    for option in dict.fromkeys(option for kind in TYPES.values() for option in kind.options)
}


def column_type(name: str) -> ColumnType:
    """The column type called ``name``."""
    return TYPES[name]


def checker(column: ColumnOptions) -> Check:
    """The function that validates a non-empty field of ``column`` into its stored text."""
    return TYPES[column.type].checker(column)


def sql_type(column: ColumnOptions, key: bool = False) -> sa.types.TypeEngine[Any]:
    """The column type ``create: true`` gives ``column`` (``key``: part of the key)."""
    return TYPES[column.type].sql_type(column, key)
