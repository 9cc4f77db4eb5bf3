"""Streaming CSV reader: records in batches, with line numbers, byte offsets and bad records.

The file is read as bytes, line by line, and each line is decoded strictly, so memory stays
flat whatever the file size and the byte offset after any record is exact (a resumed run seeks
straight there). A line that does not decode, a record the ``csv`` module refuses (an unclosed
quote, a field over ``csv.field_size_limit()``, text after a closing quote) becomes a
:class:`Failure` with its bytes as read (and as text), and reading goes on at the next line.

Most batches take the fast path: the ``csv`` module parses the whole batch in C. When that
batch holds a bad or multi-line record, it is read again record by record.

A line longer than ``max_record_bytes`` (an import source's setting, 1 MiB by default) is
never held in memory: it is read in small pieces and skipped, and becomes a ``parse``
:class:`Failure` with its first bytes as the raw record, so a hostile file (one 200 MB line)
keeps memory flat.

A reader asked to keep bytes gives each batch the raw bytes it was read from, so a chunk can
be parsed again later from memory (an open binary file such as :class:`io.BytesIO` is read
like a file on disk) without opening the source again, and a rejected record is stored as the
bytes it was read from. Keeping them costs a batch one join of its lines, and nothing for UTF-8,
whose lines are joined to be decoded anyway.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice, takewhile
from operator import methodcaller
from pathlib import Path
from typing import Any, BinaryIO

from runner.core.config import CsvFormat, CsvSource
from runner.core.events import MAX_RAW_BYTES
from runner.core.states import RejectReason

BOM = codecs.BOM_UTF8
# Raw records longer than this are cut in rejects (the rejects table's TEXT limit on MariaDB).
MAX_RAW_CHARS = 16_000
_UTF8_NAMES = ("utf-8", "utf-8-sig")
DEFAULT_MAX_RECORD_BYTES = 2**20
_SKIP = 64 * 1024
_ENDS_LINE = methodcaller(
    "endswith", b"\n"
)  # how much of an overlong line is read at a time to skip it


class _Overlong(Exception):
    """A line longer than the limit, read past and left out."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"{size} bytes")


@dataclass(frozen=True)
class Failure:
    """A record that could not be read: where, its text (undecodable bytes as ``\\xNN``),
    why, and its bytes as read (line break included, cut at ``MAX_RAW_BYTES``)."""

    line: int
    raw: str
    reason: RejectReason
    message: str
    data: bytes = b""


@dataclass
class Batch:
    """Records read in one go, their first lines, what failed, and (if kept) their bytes."""

    records: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    offset: int = 0
    line: int = 0
    eof: bool = False
    data: bytes = b""


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``latin-1`` → ``iso8859-1``)."""
    return codecs.lookup(encoding).name


def csv_options(fmt: CsvFormat) -> dict[str, Any]:
    """``csv`` module options for a format: strict, so malformed quoting is an error."""
    return {"delimiter": fmt.delimiter, "quotechar": fmt.quote, "strict": True}


class CsvReader:
    """Reads records of one CSV file from a byte offset; close it when done.

    A path is opened and read from ``offset`` (past a UTF-8 byte order mark at the start); an
    open binary file is read from where it stands, as is, and closed with the reader. With
    ``keep_bytes``, each batch carries the bytes it was read from.
    """

    def __init__(
        self,
        source: str | Path | BinaryIO,
        fmt: CsvFormat,
        *,
        offset: int = 0,
        line: int = 0,
        keep_bytes: bool = False,
    ):
        self.encoding = codec_name(fmt.encoding)
        self._options = csv_options(fmt)
        self._decode = partial(bytes.decode, encoding=self._decode_name())
        self._utf8 = self.encoding in _UTF8_NAMES
        self._keep = keep_bytes
        self._taken: list[bytes] = []
        limit = fmt.max_record_bytes if isinstance(fmt, CsvSource) else DEFAULT_MAX_RECORD_BYTES
        self.max_record_bytes = limit
        self._file: BinaryIO
        if isinstance(source, str | Path):
            self._file = open(source, "rb")
            if offset == 0 and self._utf8 and self._file.read(3) != BOM:
                self._file.seek(0)
            elif offset:
                self._file.seek(offset)
        else:
            self._file = source
        self._restart(line)

    def _decode_name(self) -> str:
        # The BOM is skipped once at the start; a BOM-stripping codec would strip every line.
        return "utf-8" if self.encoding in _UTF8_NAMES else self.encoding

    def _restart(self, line: int) -> None:
        """A fresh parser at the current position (after an error, or a rewind)."""
        self._base = line
        self._reader = csv.reader(map(self._decode, self._bounded()), **self._options)

    def _limited(self) -> Iterator[bytes]:
        """The file's lines, none read past ``max_record_bytes`` (plus its line break)."""
        return iter(partial(self._file.readline, self.max_record_bytes + 1), b"")

    def _bounded(self) -> Iterator[bytes]:
        """The file's lines (kept for the batch if asked); an overlong one raises once skipped."""
        for raw in self._limited():
            if len(raw) > self.max_record_bytes and not raw.endswith(b"\n"):
                size = len(raw) + self._skip_line()
                if self._keep:
                    self._taken.append(b"\n")  # keeps the line numbers of what follows
                raise _Overlong(size)
            if self._keep:
                self._taken.append(raw)
            yield raw

    def _skip_line(self) -> int:
        """Read past the rest of the current line; its bytes, line break left out."""
        skipped = 0
        while True:
            piece = self._file.readline(_SKIP)
            skipped += len(piece.rstrip(b"\r\n"))
            if not piece or piece.endswith(b"\n"):
                return skipped

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
        raw = list(islice(takewhile(_ENDS_LINE, self._limited()), count))
        if self._file.tell() != start + sum(map(len, raw)):
            # A line without its break was read and left: the file's last line, or a piece
            # of one longer than max_record_bytes, which the slow path skips and reports.
            return None
        block = b"".join(raw) if self._utf8 or self._keep else b""
        try:
            # UTF-8 is decoded in one go: the same as line by line.
            text = self._decode(block) if self._utf8 else "".join(map(self._decode, raw))
            parts = text.split("\n")
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
        return Batch(records, lines, [], self.offset, self.line, eof, block if self._keep else b"")

    def _read_slow(self, count: int, start: int) -> Batch:
        batch = Batch()
        self._taken = []
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
            except _Overlong as exc:
                batch.failures.append(self._failure(first, begin, RejectReason.PARSE, exc))
                self._restart(self.line + 1)  # neither was the overlong one
                continue
            batch.records.append(record)
            batch.lines.append(first)
        batch.offset, batch.line = self.offset, self.line
        batch.data, self._taken = b"".join(self._taken), []
        return batch

    def _failure(self, line: int, begin: int, reason: RejectReason, exc: Exception) -> Failure:
        data = self._raw(begin, self.offset)
        if isinstance(exc, UnicodeDecodeError):
            message = f"cannot decode byte 0x{exc.object[exc.start]:02x} as {self.encoding}"
        elif isinstance(exc, _Overlong):
            message = (
                f"record of {exc.size} bytes is longer than max_record_bytes "
                f"({self.max_record_bytes}); only its start is kept"
            )
        else:
            message = f"malformed CSV: {exc}"
        text = data.decode(self._decode_name(), errors="backslashreplace")
        return Failure(line, text[:MAX_RAW_CHARS].rstrip("\r\n"), reason, message, data)

    def _raw(self, begin: int, end: int) -> bytes:
        """The bytes from ``begin`` to ``end``, at most ``MAX_RAW_BYTES`` of them."""
        here = self._file.tell()
        self._file.seek(begin)
        data = self._file.read(min(end - begin, MAX_RAW_BYTES))
        self._file.seek(here)
        return data


def iter_records(path: str | Path, fmt: CsvFormat, batch: int = 1000) -> Iterator[list[str]]:
    """Every readable record of a file (for tests and tools; failures are skipped)."""
    with CsvReader(path, fmt) as reader:
        while True:
            read = reader.read(batch)
            yield from read.records
            if read.eof:
                return
