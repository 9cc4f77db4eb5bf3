"""``kind: import`` jobs: the CSV source, the target table and its typed columns.

Everything a user can get wrong is checked here, at load, with the key path in the error:
column options that do not fit the column type, bad regular expressions, defaults that would
be rejected, encodings jobmon cannot stream.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from runner.core.config.csvformat import CsvSource
from runner.core.config.fields import Identifier, RefName, Strict
from runner.core.config.jobs import JobBase

ColumnType = Literal[
    "integer", "decimal", "float", "text", "boolean", "date", "datetime", "enum", "pattern"
]
TRUE_VALUES = ("true", "t", "yes", "y", "1", "on")
FALSE_VALUES = ("false", "f", "no", "n", "0", "off")
# Options that only mean something for some column types.
_TYPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "max_length": ("text", "pattern"),
    "precision": ("decimal",),
    "scale": ("decimal",),
    "format": ("date", "datetime"),
    "choices": ("enum",),
    "pattern": ("pattern",),
    "true_values": ("boolean",),
    "false_values": ("boolean",),
}


class Column(Strict):
    """One target column: where its value comes from and what it must look like."""

    name: Identifier
    source: str | int | None = None
    type: ColumnType = "text"
    required: bool = False
    default: str | None = None
    max_length: int | None = Field(default=None, ge=1, le=1_000_000)
    precision: int | None = Field(default=None, ge=1, le=65)
    scale: int | None = Field(default=None, ge=0, le=30)
    format: str | None = Field(default=None, min_length=1)
    choices: list[str] | None = Field(default=None, min_length=1)
    pattern: str | None = Field(default=None, min_length=1)
    true_values: list[str] | None = Field(default=None, min_length=1)
    false_values: list[str] | None = Field(default=None, min_length=1)

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("a source position counts from 1")
        if isinstance(value, str) and not value:
            raise ValueError("a source column name cannot be empty")
        return value

    @field_validator("pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _check_options(self) -> Column:
        for option, types in _TYPE_OPTIONS.items():
            if getattr(self, option) is not None and self.type not in types:
                raise ValueError(f"{option} applies only to {' and '.join(types)} columns")
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum column needs choices")
        if self.type == "pattern" and self.pattern is None:
            raise ValueError("a pattern column needs a pattern")
        if self.required and self.default is not None:
            raise ValueError("a required column cannot have a default")
        if self.type == "decimal" and self.scale is not None and self.scale > self.digits:
            raise ValueError("scale cannot be greater than precision")
        self._check_default()
        return self

    def _check_default(self) -> None:
        if self.default is None:
            return
        from runner.core.columns import Invalid, checker  # the converters use this model

        if self.default == "":
            raise ValueError("default cannot be empty (an empty field is NULL)")
        try:
            checker(self)(self.default)
        except Invalid as exc:
            raise ValueError(f"default {self.default!r} is invalid: {exc.message}") from None

    @property
    def digits(self) -> int:
        """Total digits of a decimal column (default 18)."""
        return self.precision if self.precision is not None else 18

    @property
    def decimals(self) -> int:
        """Digits after the point of a decimal column (default 2)."""
        return self.scale if self.scale is not None else min(2, self.digits)

    @property
    def booleans(self) -> dict[str, str]:
        """Accepted spellings of a boolean column (lower case) and the value each means."""
        trues = self.true_values or list(TRUE_VALUES)
        falses = self.false_values or list(FALSE_VALUES)
        mapping = {v.strip().lower(): "1" for v in trues}
        mapping.update({v.strip().lower(): "0" for v in falses})
        return mapping


class TableTarget(Strict):
    """The table an import writes to."""

    table: Identifier
    schema_: Identifier | None = Field(default=None, alias="schema")
    database: RefName | None = None
    create: bool = False
    mode: Literal["insert", "upsert"] = "insert"
    key: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_key(self) -> TableTarget:
        if self.mode == "upsert" and not self.key:
            raise ValueError("mode upsert needs key columns")
        if len(set(self.key)) != len(self.key):
            raise ValueError("key columns must be distinct")
        return self


class ImportJob(JobBase):
    """``kind: import``: a CSV file into a table, validated, in checkpointed chunks."""

    kind: Literal["import"]
    source: CsvSource
    target: TableTarget
    columns: list[Column] = Field(min_length=1)
    chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _check_columns(self) -> ImportJob:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be distinct")
        missing = [k for k in self.target.key if k not in names]
        if missing:
            raise ValueError(f"key column {missing[0]!r} is not among the columns")
        if not self.source.header:
            named = [c.name for c in self.columns if isinstance(c.source, str)]
            if named:
                raise ValueError(
                    f"column {named[0]!r}: without a header row, source must be a position"
                )
        return self
