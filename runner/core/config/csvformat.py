"""How CSV files are encoded and delimited: the file an import reads, the one an export writes."""

from __future__ import annotations

import codecs

from pydantic import Field, field_validator, model_validator

from runner.core.config.fields import OneChar, Strict


class CsvFormat(Strict):
    """How a CSV file is encoded and delimited."""

    encoding: str = "utf-8"
    delimiter: OneChar = ","
    quote: OneChar = '"'
    header: bool = True

    @field_validator("encoding")
    @classmethod
    def _check_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        # Records are split on newline bytes, so the encoding must write ASCII as ASCII.
        try:
            ascii_compatible = "\n\r,;\t|\"'".encode(name) == b"\n\r,;\t|\"'"
        except UnicodeError:
            ascii_compatible = False
        if not ascii_compatible:
            raise ValueError(f"encoding {value!r} is not ASCII-compatible (UTF-16/32 are not)")
        return value

    @model_validator(mode="after")
    def _check_chars(self) -> CsvFormat:
        if self.delimiter == self.quote:
            raise ValueError("delimiter and quote must differ")
        for char in (self.delimiter, self.quote):
            if char in "\r\n" or not char.isascii():
                raise ValueError("delimiter and quote must be ASCII and not a line break")
        return self


class CsvSource(CsvFormat):
    """The CSV file an import reads."""

    path: str = Field(min_length=1)
    # A longer record is rejected (reason parse) without being held in memory.
    max_record_bytes: int = Field(default=2**20, ge=1024, le=2**30)


class CsvDestination(CsvFormat):
    """The CSV file an export writes (atomically: temporary file, fsync, rename)."""

    path: str = Field(min_length=1)
    escape_formulas: bool = False
