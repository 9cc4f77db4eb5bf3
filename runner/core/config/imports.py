"""``kind: import`` jobs: the CSV source, the target table and its typed columns.

Everything a user can get wrong is checked here, at load, with the key path in the error:
column options that do not fit the column type, bad regular expressions, defaults that would
be rejected, encodings jobmon cannot stream.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from runner.core.columns import FALSE_VALUES as FALSE_VALUES
from runner.core.columns import OPTION_TYPES, TYPES, Invalid, spellings
from runner.core.columns import TRUE_VALUES as TRUE_VALUES
from runner.core.config.csvformat import CsvSource
from runner.core.config.fields import Identifier, RefName, Strict
from runner.core.config.jobs import JobBase

if TYPE_CHECKING:
    TypeName = str
else:
    # One of the registered column types: a Literal, so errors list them all.
    TypeName = Literal[tuple(TYPES)]


class Column(Strict):
    """One target column: where its value comes from and what it must look like."""

    name: Identifier
    source: str | int | None = None
    type: TypeName = "text"
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
        # In the order of the fields, so the first misplaced option is the one reported.
        for option in type(self).model_fields:
            types = OPTION_TYPES.get(option)
            if types and getattr(self, option) is not None and self.type not in types:
                raise ValueError(f"{option} applies only to {' and '.join(types)} columns")
        kind = TYPES[self.type]
        for option, message in kind.needs:
            if getattr(self, option) is None:
                raise ValueError(message)
        if self.required and self.default is not None:
            raise ValueError("a required column cannot have a default")
        problem = kind.option_problem(self)
        if problem is not None:
            raise ValueError(problem)
        self._check_default()
        return self

    def _check_default(self) -> None:
        if self.default is None:
            return
        if self.default == "":
            raise ValueError("default cannot be empty (an empty field is NULL)")
        try:
            TYPES[self.type].checker(self)(self.default)
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
        return spellings(self.true_values, self.false_values)


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
    # Rows per transaction and checkpoint; unset, the import strategy picks it per database.
    chunk_rows: int | None = Field(default=None, ge=1, le=1_000_000)

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
