"""Streaming CSV reader: records in batches, with line numbers, byte offsets and bad records.

The file is read as bytes, line by line, and each line is decoded strictly, so memory stays
flat whatever the file size and the byte offset after any record is exact (a resumed run seeks
straight there). A line that does not decode, a record the ``csv`` module refuses (an unclosed
quote, a field over ``csv.field_size_limit()``, text after a closing quote) becomes a
:class:`Failure` with its raw text, and reading goes on at the next line.

Most batches take the fast path: the ``csv`` module parses the whole batch in C. When that
batch holds a bad or multi-line record, it is read again record by record.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from runner.core.config import CsvFormat
from runner.core.states import RejectReason

BOM = codecs.BOM_UTF8
# Raw records longer than this are cut in rejects (the rejects table's TEXT limit on MariaDB).
MAX_RAW_CHARS = 16_000
_UTF8_NAMES = ("utf-8", "utf-8-sig")


@dataclass(frozen=True)
class Failure:
    """A record that could not be read: where, its raw text, why."""

    line: int
    raw: str
    reason: RejectReason
    message: str


@dataclass
class Batch:
    """Records read in one go, each with its first line number, and what failed."""

    records: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    offset: int = 0
    line: int = 0
    eof: bool = False


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``latin-1`` → ``iso8859-1``)."""
    return codecs.lookup(encoding).name


def csv_options(fmt: CsvFormat) -> dict[str, Any]:
    """``csv`` module options for a format: strict, so malformed quoting is an error."""
    return {"delimiter": fmt.delimiter, "quotechar": fmt.quote, "strict": True}


class CsvReader:
    """Reads records of one CSV file from a byte offset; close it when done."""

    def __init__(self, path: str | Path, fmt: CsvFormat, *, offset: int = 0, line: int = 0):
        self.encoding = codec_name(fmt.encoding)
        self._options = csv_options(fmt)
        self._file: BinaryIO = open(path, "rb")
        self._decode = partial(bytes.decode, encoding=self._decode_name())
        self._utf8 = self.encoding in _UTF8_NAMES
        if offset == 0 and self.encoding in _UTF8_NAMES and self._file.read(3) != BOM:
            self._file.seek(0)
        elif offset:
            self._file.seek(offset)
        self._restart(line)

    def _decode_name(self) -> str:
        # The BOM is skipped once at the start; a BOM-stripping codec would strip every line.
        return "utf-8" if self.encoding in _UTF8_NAMES else self.encoding

    def _decode_block(self, raw: list[bytes]) -> str:
        """Lines decoded strictly (UTF-8 in one go: the same as line by line)."""
        if self._utf8:
            return self._decode(b"".join(raw))
        return "".join(map(self._decode, raw))

    def _restart(self, line: int) -> None:
        """A fresh parser at the current position (after an error, or a rewind)."""
        self._base = line
        self._reader = csv.reader(map(self._decode, self._file), **self._options)

    @property
    def line(self) -> int:
        """Lines consumed so far."""
        return self._base + self._reader.line_num

    @property
    def offset(self) -> int:
        """Byte offset of the next unread line."""
        return self._file.tell()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def header(self) -> list[str] | Failure | None:
        """The first non-blank record (None for an empty file)."""
        while True:
            batch = self.read(1, fast=False)
            if batch.failures:
                return batch.failures[0]
            if batch.records and batch.records[0]:
                return batch.records[0]
            if batch.eof:
                return None

    def read(self, count: int, *, fast: bool = True) -> Batch:
        """Up to ``count`` records; ``eof`` when the file has no more."""
        start, first = self.offset, self.line
        if fast:
            batch = self._read_fast(count, start, first)
            if batch is not None:
                return batch
            self._file.seek(start)
            self._restart(first)
        return self._read_slow(count, start)

    def _read_fast(self, count: int, start: int, first: int) -> Batch | None:
        """``count`` lines decoded in one go and parsed as one record each, or None."""
        raw = list(islice(self._file, count))
        try:
            parts = self._decode_block(raw).split("\n")
            if parts[-1] == "":
                parts.pop()
            records = list(csv.reader(parts, **self._options))
        except (csv.Error, UnicodeDecodeError):
            return None
        if not len(records) == len(parts) == len(raw):
            return None  # a record spans lines: number them one by one
        self._restart(first + len(raw))
        lines = list(range(first + 1, first + 1 + len(records)))
        eof = len(records) < count
        return Batch(records, lines, [], self.offset, self.line, eof)

    def _read_slow(self, count: int, start: int) -> Batch:
        batch = Batch()
        while len(batch.records) < count:
            first, begin = self.line + 1, self.offset
            try:
                record = next(self._reader)
            except StopIteration:
                batch.eof = True
                break
            except csv.Error as exc:
                batch.failures.append(self._failure(first, begin, RejectReason.PARSE, exc))
                self._restart(self.line)
                continue
            except UnicodeDecodeError as exc:
                batch.failures.append(self._failure(first, begin, RejectReason.ENCODING, exc))
                self._restart(self.line + 1)  # the undecodable line was not counted
                continue
            batch.records.append(record)
            batch.lines.append(first)
        batch.offset, batch.line = self.offset, self.line
        return batch

    def _failure(self, line: int, begin: int, reason: RejectReason, exc: Exception) -> Failure:
        raw = self._raw(begin, self.offset)
        if isinstance(exc, UnicodeDecodeError):
            message = f"cannot decode byte 0x{exc.object[exc.start]:02x} as {self.encoding}"
        else:
            message = f"malformed CSV: {exc}"
        return Failure(line, raw, reason, message)

    def _raw(self, begin: int, end: int) -> str:
        """The record's bytes as text (undecodable bytes shown as ``\\xNN``), capped."""
        data = os.pread(self._file.fileno(), min(end - begin, MAX_RAW_CHARS * 4), begin)
        text = data.decode(self._decode_name(), errors="backslashreplace")
        return text[:MAX_RAW_CHARS].rstrip("\r\n")


def iter_records(path: str | Path, fmt: CsvFormat, batch: int = 1000) -> Iterator[list[str]]:
    """Every readable record of a file (for tests and tools; failures are skipped)."""
    with CsvReader(path, fmt) as reader:
        while True:
            read = reader.read(batch)
            yield from read.records
            if read.eof:
                return
