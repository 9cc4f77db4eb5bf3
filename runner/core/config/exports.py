"""``kind: export`` jobs: a table (columns, filter, order) or a named query to a CSV file."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from runner.core.config.csvformat import CsvDestination
from runner.core.config.fields import Identifier, RefName, Strict
from runner.core.config.jobs import JobBase

# YAML reads 2024-01-31 as a date: filters take dates and times as they are.
Scalar = str | int | float | bool | date | datetime
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"]


class Condition(Strict):
    """One filter condition on a column; values are bound parameters, never SQL text."""

    column: Identifier
    op: Operator = "="
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _check_value(self) -> Condition:
        if self.op in ("is null", "is not null"):
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op in ("in", "not in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list of values")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"{self.op} needs one value (use 'is null' for NULL)")
        return self


class Order(Strict):
    """One sort key."""

    column: Identifier
    descending: bool = False


class ExportSource(Strict):
    """A table (with optional columns, filter and order) or a named query."""

    table: Identifier | None = None
    schema_: Identifier | None = Field(default=None, alias="schema")
    query: RefName | None = None
    database: RefName | None = None
    columns: list[Identifier] | None = Field(default=None, min_length=1)
    where: list[Condition] = Field(default_factory=list)
    order_by: list[Order] = Field(default_factory=list)

    @field_validator("where", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("order_by", mode="before")
    @classmethod
    def _orders(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        return [{"column": v} if isinstance(v, str) else v for v in items]

    @model_validator(mode="after")
    def _table_or_query(self) -> ExportSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table or query")
        if self.query is not None:
            table_only = ("columns", "where", "order_by", "schema_", "database")
            used = [k for k in table_only if getattr(self, k)]
            if used:
                raise ValueError(f"{used[0].rstrip('_')} applies to a table, not to a query")
        return self


class ExportJob(JobBase):
    """``kind: export``: a table or named query to a CSV file."""

    kind: Literal["export"]
    source: ExportSource
    destination: CsvDestination
    chunk_rows: int = Field(default=10_000, ge=1, le=1_000_000)
