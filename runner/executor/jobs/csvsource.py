"""Streaming CSV reader: records in batches, with line numbers, byte offsets and bad records.

The file is read as bytes and decoded strictly, so memory stays flat whatever the file size
and the byte offset after any record is exact (a resumed run seeks straight there). A line that
does not decode, a record the ``csv`` module refuses (an unclosed quote, a field over
``csv.field_size_limit()``, text after a closing quote) becomes a :class:`Failure` with its
bytes as read (and as text), and reading goes on at the next line.

Most batches take the fast path: whole lines read in large pieces, decoded at once and parsed
in C; a batch with a bad or multi-line record, or a line over the limit below, is read again.

A line longer than ``max_record_bytes`` (an import source's setting, 1 MiB by default) is never
held in memory: it is read in small pieces and skipped, and becomes a ``parse`` :class:`Failure`
with its first bytes as the raw record (one 200 MB line keeps memory flat).

A reader asked to keep bytes gives each batch the bytes it was read from (free: the fast path
reads one block anyway), to parse a chunk again from memory (an :class:`io.BytesIO` is read like
a file) and to store a rejected record as it was read.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
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
_SKIP = 64 * 1024  # how much of an overlong line is read at a time to skip it
# Whole lines are read in pieces of at most _BLOCK bytes, sized for _LINE_GUESS bytes a line.
_BLOCK = 2**20
_LINE_GUESS = 128


class _Overlong(Exception):
    """A line longer than the limit, read past and left out; its size is the argument."""


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

    def _decode_name(self) -> str:  # the BOM is skipped once: not by a codec, at every line
        return "utf-8" if self.encoding in _UTF8_NAMES else self.encoding

    def _restart(self, line: int) -> None:
        """A fresh parser at the current position (after an error, or a rewind)."""
        self._base = line
        self._reader = csv.reader(map(self._decode, self._bounded()), **self._options)

    def _bounded(self) -> Iterator[bytes]:
        """The file's lines (kept for the batch if asked), none read past ``max_record_bytes``
        (plus its line break): an overlong one raises once skipped."""
        for raw in iter(partial(self._file.readline, self.max_record_bytes + 1), b""):
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
            self.rewind(start, first)
        return self._read_slow(count, start)

    def read_lines(self, count: int) -> bytes | None:
        """The lines :meth:`read`'s fast path would read, unparsed (None: it would not)."""
        if (lines := self._whole_lines(count, self.offset)) is None:
            return None
        self._restart(self.line + len(lines[1]))
        return lines[0]

    def rewind(self, offset: int, line: int) -> None:
        """Back to ``offset``, after ``line``: where this reader has been."""
        self._file.seek(offset)
        self._restart(line)

    def _read_fast(self, count: int, start: int, first: int) -> Batch | None:
        """``count`` lines decoded in one go and parsed as one record each, or None."""
        lines = self._whole_lines(count, start)
        if lines is None:
            return None
        block, raw = lines
        try:
            # UTF-8 is decoded in one go: the same as line by line.
            utf8 = self._utf8
            parts = self._decode(block).split("\n")[:-1] if utf8 else [*map(self._decode, raw)]
            records = list(csv.reader(parts, **self._options))
        except (csv.Error, UnicodeDecodeError):
            return None
        if not len(records) == len(parts) == len(raw):
            return None  # a record spans lines: number them one by one
        self._restart(first + len(raw))
        lines_read = list(range(first + 1, first + 1 + len(records)))
        eof = len(records) < count
        data = block if self._keep else b""
        return Batch(records, lines_read, [], self.offset, self.line, eof, data)

    def _whole_lines(self, count: int, start: int) -> tuple[bytes, list[bytes]] | None:
        """Up to ``count`` whole lines from ``start`` (the file then just after them), as a block
        and each without its break, read in large pieces; None (the file back at ``start``) if
        one is longer than ``max_record_bytes``, or the file ends without a break after fewer."""
        pieces: list[bytes] = []
        found = tail = 0
        while found < count:
            piece = self._file.read(min(_BLOCK, max(_LINE_GUESS, _LINE_GUESS * (count - found))))
            if not piece:
                break
            pieces.append(piece)
            found += piece.count(b"\n")
            ends = piece.rfind(b"\n")
            tail = tail + len(piece) if ends < 0 else len(piece) - ends - 1
            if tail > self.max_record_bytes:
                break  # a line already too long to be held: it is read piece by piece instead
        data = b"".join(pieces)
        raw = data.split(b"\n", count)
        rest = raw.pop()  # what follows the last line break taken
        limit = self.max_record_bytes  # no line is longer when the whole data is not
        over = len(data) > limit and max(map(len, raw), default=0) > limit
        if (rest and len(raw) < count) or over:
            self._file.seek(start)
            return None
        block = data[: len(data) - len(rest)]
        self._file.seek(start + len(block))
        return block, raw

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
                f"record of {exc.args[0]} bytes is longer than max_record_bytes "
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
